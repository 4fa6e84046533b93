// Sink tables: whether they exist, whether they tag savepoints, and their latest snapshot and
// row count. Existence comes from SHOW DATABASES / SHOW TABLES, which run in the gateway without
// a Flink job; the system-table reads and COUNT(*) are short batch jobs on the cluster.
import { ApplicationFailure } from '@temporalio/common';
import { savepointTagNames, type SinkTableInfo, type TableRef, type TableState } from '../../src/domain';
import { FailureType } from '../errors';
import { label, type PaimonContext } from './context';
import { tableNotFound, translate } from './failures';
import { tableName, tableNames, type Identifier, type TableName } from './identifiers';
import { AutoTagOptionRow, LatestSnapshotRow, RowCountRow } from './schemas';
import type { PaimonSession } from './session';
import { readTagsOfTables } from './tag-reads';
import { countRowsAt, selectAutoTagOption, selectLatestSnapshot, showDatabases, showTables } from './sql';

interface Presence {
  exists: boolean;
  databaseExists: boolean;
}

/** Looks every table up with one SHOW DATABASES and one SHOW TABLES per database. */
export async function lookUpTables(session: PaimonSession, tables: TableName[]): Promise<Map<TableRef, Presence>> {
  const firstColumn = (rows: unknown[][]) => new Set(rows.map((row) => String(row[0])));
  const databases = firstColumn((await session.run(showDatabases())).rows);
  const tablesIn = new Map<Identifier, Set<string>>();
  for (const t of tables) {
    if (databases.has(t.database) && !tablesIn.has(t.database)) {
      tablesIn.set(t.database, firstColumn((await session.run(showTables(t.database))).rows));
    }
  }
  return new Map(
    tables.map((t) => [
      t.ref,
      { databaseExists: databases.has(t.database), exists: tablesIn.get(t.database)?.has(t.table) ?? false },
    ]),
  );
}

/** Fails with TableNotFound unless every table exists. */
export async function requireTables(session: PaimonSession, tables: TableName[], catalog: string): Promise<void> {
  const presence = await lookUpTables(session, tables);
  for (const t of tables) {
    const p = presence.get(t.ref)!;
    if (!p.exists) throw tableNotFound(session.attempted, t, catalog, p.databaseExists);
  }
}

/**
 * A read of the tables, checked only when it fails: then, if a table is missing, that is the
 * failure (TableNotFound, naming it), else the read's own. Checking before every read would cost
 * two statements each time; a read of a missing table changes nothing anyway.
 */
export async function readOfTables<T>(session: PaimonSession, tables: TableName[], catalog: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    const missing = await requireTables(session, tables, catalog).then(
      () => undefined,
      (failure: unknown) => (failure instanceof ApplicationFailure && failure.type === FailureType.TableNotFound ? failure : undefined),
    );
    throw missing ?? err;
  }
}

export async function describeSinkTables(
  ctx: PaimonContext,
  input: { tables: TableRef[]; withSavepointTags?: boolean },
): Promise<SinkTableInfo[]> {
  const attempted = `describeSinkTables ${label(input?.tables)}`;
  const tables = tableNames(input?.tables, attempted);
  if (tables.length === 0) return [];
  return ctx.session(attempted, async (session) => {
    const presence = await lookUpTables(session, tables);
    const existing = unique(tables.filter((t) => presence.get(t.ref)!.exists));
    // The option is absent unless the table sets it; Paimon's default is false.
    const autoTag = new Set<string>();
    if (existing.length > 0) {
      for (const row of await session.rows(selectAutoTagOption(existing), AutoTagOptionRow)) {
        if (row.value.trim().toLowerCase() === 'true') autoTag.add(row.table_ref);
      }
    }
    const tagsOf = input.withSavepointTags === true ? await readTagsOfTables(session, existing) : {};
    return tables.map((t) => {
      const info: SinkTableInfo = { table: t.ref, exists: presence.get(t.ref)!.exists, autoTagOnSavepoint: autoTag.has(t.ref) };
      const tags = tagsOf[t.ref];
      if (!tags) return info;
      return { ...info, savepointTags: savepointTagNames(tags) };
    });
  });
}

export async function tableState(ctx: PaimonContext, input: { table: TableRef }): Promise<TableState> {
  const attempted = `tableState of ${label(input?.table)}`;
  const t = tableName(input?.table, attempted);
  return ctx.session(attempted, async (session) => {
    await requireTables(session, [t], ctx.catalog);
    try {
      const [latest] = await session.rows(selectLatestSnapshot(t), LatestSnapshotRow);
      const latestSnapshotId = latest?.latest_snapshot_id ?? null;
      // A table without a snapshot has never been written: no rows, and nothing to count.
      if (latestSnapshotId === null) return { table: t.ref, latestSnapshotId, rowCount: 0 };
      const [count] = await session.rows(countRowsAt(t, latestSnapshotId), RowCountRow);
      return { table: t.ref, latestSnapshotId, rowCount: count?.row_count ?? 0 };
    } catch (err) {
      throw translate(err, attempted, t, ctx.catalog);
    }
  });
}

export function unique(tables: TableName[]): TableName[] {
  return [...new Map(tables.map((t) => [t.ref, t])).values()];
}
