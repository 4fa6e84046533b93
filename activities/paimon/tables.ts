// Sink tables: whether they exist, whether they tag savepoints, and their latest snapshot's
// metadata. Existence comes from SHOW DATABASES / SHOW TABLES, which run in the gateway without
// a Flink job; the system-table reads are short batch jobs on the cluster.
import { ApplicationFailure } from '@temporalio/common';
import { savepointTagNames, type SinkTableInfo, type TableRef, type TableState } from '../../src/domain/model';
import { FailureType, fatal } from '../errors';
import { label, type PaimonContext } from './context';
import { tableNotFound, translate } from './failures';
import { tableName, tableNames, type Identifier, type TableName } from './identifiers';
import { AutoTagOptionRow, LatestSnapshotRow } from './schemas';
import type { PaimonSession } from './session';
import { readTagsOfTables } from './tag-reads';
import { selectAutoTagOption, selectLatestSnapshot, showDatabases, showTables } from './sql';

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

/**
 * The table's latest snapshot from `$snapshots` alone: no data is scanned, so the answer costs the
 * same for a billion rows, and merged rows are never mistaken for records. `newerThan` asks how many
 * existing snapshots are newer than that id (what a rollback to it would delete).
 */
export async function tableState(ctx: PaimonContext, input: { table: TableRef; newerThan?: number }): Promise<TableState> {
  const attempted = `tableState of ${label(input?.table)}`;
  const t = tableName(input?.table, attempted);
  const newerThan = input?.newerThan;
  if (newerThan !== undefined && !(Number.isSafeInteger(newerThan) && newerThan >= 0)) {
    throw fatal(FailureType.InvalidInput, `${attempted}: newerThan must be a whole number, got ${label(input?.newerThan)}.`);
  }
  return ctx.session(attempted, async (session) => {
    try {
      // Looked up only when the read fails: the restore checks each table with this while the job is down.
      return await readOfTables(session, [t], ctx.catalog, () => readTableState(session, t, newerThan));
    } catch (err) {
      throw translate(err, attempted, t, ctx.catalog);
    }
  });
}

/** tableState's read, in a session the caller holds (rollbackToTag's `readAfter` reads with it too). */
export async function readTableState(session: PaimonSession, t: TableName, newerThan?: number): Promise<TableState> {
  const [latest] = await readAgainIfExpired(() => session.rows(selectLatestSnapshot(t, newerThan), LatestSnapshotRow));
  // A table without a snapshot has never been written.
  if (!latest) return { table: t.ref, latestSnapshotId: null, schemaId: null, totalRecordCount: null, snapshotsNewer: 0 };
  return {
    table: t.ref,
    latestSnapshotId: latest.snapshot_id,
    schemaId: latest.schema_id,
    totalRecordCount: latest.total_record_count,
    snapshotsNewer: latest.newer_snapshots ?? 0,
  };
}

/**
 * Snapshot expiry deletes snapshot files while a read lists them; such a read fails on a file that
 * was there when it started. It is read again (at most three times), from the snapshots there are then.
 */
export async function readAgainIfExpired<T>(read: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (attempt >= attempts || !snapshotExpiredWhileReading(err)) throw err;
    }
  }
}

const snapshotExpiredWhileReading = (err: unknown): boolean =>
  err instanceof ApplicationFailure &&
  err.type === FailureType.SqlFailed &&
  /FileNotFoundException|out of available snapshotId range|snapshot-\d+ (?:does not exist|not found)/i.test(err.message);

export function unique(tables: TableName[]): TableName[] {
  return [...new Map(tables.map((t) => [t.ref, t])).values()];
}
