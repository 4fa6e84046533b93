// Paimon consumers: a streaming read with a consumer-id saves the next snapshot it will read in
// `<table>$consumers`. A rollback does not move them (measured, docs/restore.md): a reader keeps
// waiting for a snapshot id past the restored table's and skips the ids the new commits reuse.
import type { TableRef } from '../../src/domain/model';
import type { TableConsumer } from '../contract';
import { label, type PaimonContext } from './context';
import { tableNames } from './identifiers';
import { TableConsumerRow } from './schemas';
import { selectConsumersOf } from './sql';
import { readOfTables, unique } from './tables';

export async function listConsumers(ctx: PaimonContext, input: { tables: TableRef[] }): Promise<TableConsumer[]> {
  const attempted = `listConsumers of ${label(input?.tables)}`;
  const tables = unique(tableNames(input?.tables, attempted));
  if (tables.length === 0) return [];
  return ctx.session(attempted, (session) =>
    readOfTables(session, tables, ctx.catalog, async () =>
      (await session.rows(selectConsumersOf(tables), TableConsumerRow)).map((r) => ({
        table: r.table_ref,
        consumerId: r.consumer_id,
        nextSnapshotId: r.next_snapshot_id,
      })),
    ),
  );
}
