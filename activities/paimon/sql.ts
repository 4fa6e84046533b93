// Every statement the Paimon activities send. Names go in backquoted and literals single-quoted,
// and both only from checked identifiers (identifiers.ts) or whole numbers; catalog options from
// the config are the one free text, and they are quoted with SQL's doubled quote.
import type { Config } from '../../src/config/config';
import type { Identifier, TableName } from './identifiers';

type SystemTable = 'tags' | 'options' | 'snapshots' | 'consumers';

const name = (id: Identifier): string => `\`${id}\``;
const literal = (id: Identifier): string => `'${id}'`;
const quoted = (text: string): string => `'${text.replace(/'/g, "''")}'`;

function wholeNumber(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a whole number: ${n}`);
  return String(n);
}

// Paimon's system tables are `<table>$<kind>`; the checked table name holds no '$' or backquote.
const system = (t: TableName, kind: SystemTable): string => `${name(t.database)}.\`${t.table}$${kind}\``;
/** Procedures take the table as one string literal, 'database.table'. */
const tableLiteral = (t: TableName): string => `'${t.database}.${t.table}'`;

/** The `CREATE CATALOG` every session starts with; the option values go to `redact` too. */
export function createCatalog(catalog: Identifier, paimon: Pick<Config['paimon'], 'warehouse' | 'catalogOptions'>): string {
  // type and warehouse last, so extra options cannot replace them.
  const options = { ...paimon.catalogOptions.reveal(), type: 'paimon', warehouse: paimon.warehouse };
  const withClause = Object.entries(options)
    .map(([key, value]) => `${quoted(key)} = ${quoted(value)}`)
    .join(', ');
  return `CREATE CATALOG IF NOT EXISTS ${name(catalog)} WITH (${withClause})`;
}

export const useCatalog = (catalog: Identifier): string => `USE CATALOG ${name(catalog)}`;

export const showDatabases = (): string => 'SHOW DATABASES';

export const showTables = (database: Identifier): string => `SHOW TABLES FROM ${name(database)}`;

/** One row per table that sets the option: `table_ref`, `value`. One job for all tables. */
export function selectAutoTagOption(tables: TableName[]): string {
  return tables
    .map(
      (t) =>
        `SELECT ${tableLiteral(t)} AS table_ref, \`value\` FROM ${system(t, 'options')} ` +
        `WHERE \`key\` = 'sink.savepoint.auto-tag'`,
    )
    .join(' UNION ALL ');
}

const TAG_COLUMNS = 'tag_name, snapshot_id, schema_id, commit_time, record_count, create_time, time_retained';

export const selectTags = (t: TableName): string => `SELECT ${TAG_COLUMNS} FROM ${system(t, 'tags')}`;

/** Every table's tags, each row with its table (as 'database.table'): one job for all tables. */
export function selectTagsOf(tables: TableName[]): string {
  return tables.map((t) => `SELECT ${tableLiteral(t)} AS table_ref, ${TAG_COLUMNS} FROM ${system(t, 'tags')}`).join(' UNION ALL ');
}

/** The tables (as 'database.table') on which `tag` exists: one job for all tables. */
export function selectTablesWithTag(tables: TableName[], tag: Identifier): string {
  return tables
    .map((t) => `SELECT ${tableLiteral(t)} AS table_ref FROM ${system(t, 'tags')} WHERE tag_name = ${literal(tag)}`)
    .join(' UNION ALL ');
}

/**
 * The latest snapshot's metadata and, with `newerThan`, how many existing snapshots are newer: one
 * job. Nothing here pins a snapshot, so expiry running meanwhile cannot fail the read on an id.
 * The count is a sum, not a WHERE: Paimon 1.3 pushes `snapshot_id > n` down as a range and fails
 * when n is at or past the latest snapshot.
 */
export function selectLatestSnapshot(t: TableName, newerThan?: number): string {
  const newer =
    newerThan === undefined
      ? 'CAST(0 AS BIGINT)'
      : `(SELECT SUM(CASE WHEN snapshot_id > ${wholeNumber(newerThan)} THEN 1 ELSE 0 END) FROM ${system(t, 'snapshots')})`;
  return (
    `SELECT snapshot_id, schema_id, total_record_count, ${newer} AS newer_snapshots ` +
    `FROM ${system(t, 'snapshots')} ORDER BY snapshot_id DESC LIMIT 1`
  );
}

/**
 * Each table's tags and, in one more row per table with a null tag_name, how many existing snapshots
 * are newer than `tag`'s and the latest snapshot's id (null when the tag is missing), each row with
 * its table (as 'database.table'): one job for all tables, where a tags read and a count would be
 * two per table. The snapshot ids meet the tag's in a join, not as a literal, so nothing is pushed
 * down as a range (see selectLatestSnapshot).
 */
export function selectTagsAndNewerSnapshotsOf(tables: TableName[], tag: Identifier): string {
  return tables
    .map((t) => {
      const tags = system(t, 'tags');
      const tableRef = `${tableLiteral(t)} AS table_ref`;
      return (
        `SELECT ${tableRef}, ${TAG_COLUMNS}, CAST(NULL AS BIGINT) AS newer_snapshots FROM ${tags} UNION ALL ` +
        `SELECT ${tableRef}, CAST(NULL AS STRING), MAX(s.snapshot_id), CAST(NULL AS BIGINT), CAST(NULL AS TIMESTAMP(3)), CAST(NULL AS BIGINT), ` +
        'CAST(NULL AS TIMESTAMP(3)), CAST(NULL AS STRING), SUM(CASE WHEN s.snapshot_id > g.snapshot_id THEN 1 ELSE 0 END) ' +
        `FROM ${system(t, 'snapshots')} s, ${tags} g WHERE g.tag_name = ${literal(tag)}`
      );
    })
    .join(' UNION ALL ');
}

export function callCreateTag(t: TableName, tag: Identifier, snapshotId?: number): string {
  const snapshot = snapshotId === undefined ? '' : `, snapshot_id => ${wholeNumber(snapshotId)}`;
  return `CALL sys.create_tag(\`table\` => ${tableLiteral(t)}, tag => ${literal(tag)}${snapshot})`;
}

export const callDeleteTag = (t: TableName, tag: Identifier): string =>
  `CALL sys.delete_tag(\`table\` => ${tableLiteral(t)}, tag => ${literal(tag)})`;

export const callRollbackTo = (t: TableName, tag: Identifier): string =>
  `CALL sys.rollback_to(\`table\` => ${tableLiteral(t)}, tag => ${literal(tag)})`;

/** Every table's consumers (streaming readers' saved positions), each row with its table: one job for all tables. */
export function selectConsumersOf(tables: TableName[]): string {
  return tables
    .map((t) => `SELECT ${tableLiteral(t)} AS table_ref, consumer_id, next_snapshot_id FROM ${system(t, 'consumers')}`)
    .join(' UNION ALL ');
}

/**
 * Each table's snapshots newer than `after` per commit user and commit kind, with what they added
 * to the data files (delta_record_count), and which commit user committed snapshot `after` itself:
 * one job for all tables. Sums over CASE, not a WHERE on snapshot_id (see selectLatestSnapshot).
 */
export function selectCommitsByUser(tables: { table: TableName; after: number }[]): string {
  return tables
    .map(({ table: t, after }) => {
      const newer = `snapshot_id > ${wholeNumber(after)}`;
      return (
        `SELECT ${tableLiteral(t)} AS table_ref, commit_user, commit_kind, ` +
        `SUM(CASE WHEN ${newer} THEN 1 ELSE 0 END) AS snapshots, ` +
        `SUM(CASE WHEN ${newer} THEN delta_record_count ELSE 0 END) AS delta_records, ` +
        `MIN(CASE WHEN ${newer} THEN snapshot_id END) AS first_snapshot_id, ` +
        `MAX(CASE WHEN ${newer} THEN snapshot_id END) AS last_snapshot_id, ` +
        `MAX(CASE WHEN snapshot_id = ${wholeNumber(after)} THEN 1 ELSE 0 END) AS committed_after ` +
        `FROM ${system(t, 'snapshots')} GROUP BY commit_user, commit_kind`
      );
    })
    .join(' UNION ALL ');
}
