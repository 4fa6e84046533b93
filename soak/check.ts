// The soak's reads of the sink tables: the tags and latest snapshot, what a tag holds, and the
// exactly-once check of the tables now. Each query is a Flink batch job that needs a slot on the
// shared cluster, so both tables go into one query (UNION ALL) wherever the shape allows.
import type { TableRef } from '../src/domain/model';
import { soakQuery } from './read';
import type { ExpectedHistory } from './model';

const quoted = (table: TableRef, system?: string): string => {
  const [db, name] = table.split('.');
  return system ? `\`${db}\`.\`${name}$${system}\`` : `\`${db}\`.\`${name}\``;
};
const num = (v: unknown): number => Number(v ?? 0);

export interface TableFacts {
  latestSnapshotId: number;
  /** `savepoint-<id>` tags and the snapshot each one is on */
  tags: Map<string, number>;
}

/** The latest snapshot and the savepoint tags of every table, in one query. */
export async function tableFacts(tables: TableRef[]): Promise<Map<TableRef, TableFacts>> {
  const rows = await soakQuery(
    tables
      .map(
        (t) =>
          `SELECT '${t}' AS t, tag_name AS name, snapshot_id AS s FROM ${quoted(t, 'tags')} WHERE tag_name LIKE 'savepoint-%' ` +
          `UNION ALL SELECT '${t}' AS t, '#latest' AS name, MAX(snapshot_id) AS s FROM ${quoted(t, 'snapshots')}`,
      )
      .join(' UNION ALL '),
  );
  return new Map(
    tables.map((table) => {
      const mine = rows.filter((r) => r.t === table);
      return [
        table,
        {
          latestSnapshotId: num(mine.find((r) => r.name === '#latest')?.s),
          tags: new Map(mine.filter((r) => r.name !== '#latest').map((r) => [String(r.name), num(r.s)])),
        },
      ];
    }),
  );
}

export interface Contents {
  rows: number;
  distinctIds: number;
  minId: number;
  maxId: number;
  /** ids whose payload is not '<expected version>:<id>' */
  wrongVersion: number;
}

/** What each table holds as of each tag, payloads judged by `model` (which covers every id up to now). */
export async function tagContents(
  tables: TableRef[],
  tags: string[],
  model: ExpectedHistory,
): Promise<Map<string, Map<TableRef, Contents>>> {
  if (tags.length === 0) return new Map();
  const expected = model.expectedPayloadSql();
  const rows = await soakQuery(
    tags
      .flatMap((tag) =>
        tables.map(
          (t) =>
            `SELECT '${tag}' AS tag, '${t}' AS t, COUNT(*) AS cnt, COUNT(DISTINCT id) AS ids, MIN(id) AS lo, MAX(id) AS hi, ` +
            `SUM(CASE WHEN payload IS DISTINCT FROM ${expected} THEN 1 ELSE 0 END) AS wrong ` +
            `FROM ${quoted(t)} /*+ OPTIONS('scan.tag-name' = '${tag}') */`,
        ),
      )
      .join(' UNION ALL '),
  );
  const out = new Map<string, Map<TableRef, Contents>>();
  for (const r of rows) {
    const byTable = out.get(String(r.tag)) ?? new Map<TableRef, Contents>();
    byTable.set(String(r.t), contentsOf(r));
    out.set(String(r.tag), byTable);
  }
  return out;
}

export interface TableCheck extends Contents {
  table: TableRef;
  snapshotId: number;
  /** records the table's current history committed (APPEND snapshots as rollback_to left them) */
  emitted: number;
  earliestSnapshotId: number;
  /** ids missing from 1 up to the largest id present (or up to the id the running version started after) */
  lost: number;
  /** records committed for an id the table already had (see checkTables) */
  duplicated: number;
}

/**
 * The exactly-once check of every table at snapshot `at(table)` against `model`, in one query:
 * ids 1..max each once, each with its version's payload, and nothing committed twice.
 *
 * "Duplicated" on a primary-key table: a second write of an id replaces the row, so the table can
 * never show an id twice and COUNT(DISTINCT id) = COUNT(*) always holds. What a re-emission leaves
 * behind is in the table's history instead: every APPEND snapshot's delta_record_count is the
 * records that commit wrote, so their sum over the current history (rollback_to deletes the
 * snapshots it undoes) exceeds the ids present exactly when some id was committed again, say by a
 * job restarted from a savepoint older than the table's state. (Two writes of an id within one
 * checkpoint merge in the writer's buffer before they are counted; the source never does that.)
 * Snapshot expiry would hide commits, so the soak's tables keep their snapshots and the check
 * reports the earliest snapshot it saw.
 */
export async function checkTables(
  tables: TableRef[],
  at: (table: TableRef) => number,
  model: ExpectedHistory,
): Promise<TableCheck[]> {
  const expected = model.expectedPayloadSql();
  const rows = await soakQuery(
    tables
      .map(
        (t) =>
          `SELECT '${t}' AS t, d.cnt, d.ids, d.lo, d.hi, d.wrong, s.emitted, s.earliest FROM ` +
          `(SELECT COUNT(*) AS cnt, COUNT(DISTINCT id) AS ids, MIN(id) AS lo, MAX(id) AS hi, ` +
          `SUM(CASE WHEN payload IS DISTINCT FROM ${expected} THEN 1 ELSE 0 END) AS wrong ` +
          `FROM ${quoted(t)} /*+ OPTIONS('scan.snapshot-id' = '${at(t)}') */) d, ` +
          `(SELECT SUM(CASE WHEN commit_kind = 'APPEND' THEN delta_record_count ELSE 0 END) AS emitted, MIN(snapshot_id) AS earliest ` +
          `FROM ${quoted(t, 'snapshots')} WHERE snapshot_id <= ${at(t)}) s`,
      )
      .join(' UNION ALL '),
  );
  return tables.map((table) => {
    const r = rows.find((row) => row.t === table);
    if (!r) throw new Error(`the check returned nothing for ${table}`);
    const c = contentsOf(r);
    // Ids up to the point the running version started after were emitted before: they must be there.
    const mustReach = model.runningSince - 1;
    const top = Math.max(c.maxId, mustReach);
    const emitted = num(r.emitted);
    return {
      table,
      snapshotId: at(table),
      ...c,
      emitted,
      earliestSnapshotId: num(r.earliest),
      lost: top - c.distinctIds,
      duplicated: Math.max(0, emitted - c.rows),
    };
  });
}

function contentsOf(r: Record<string, unknown>): Contents {
  return { rows: num(r.cnt), distinctIds: num(r.ids), minId: num(r.lo), maxId: num(r.hi), wrongVersion: num(r.wrong) };
}

export interface Diagnosis {
  table: TableRef;
  /** id ranges present: the gaps between them are lost ids */
  present: string[];
  /** ids committed more than once in the current history, with how often */
  committedTwice: string[];
  /** id ranges with a payload of the wrong version: 'from..to: v2 (expected v1)' */
  wrongVersion: string[];
}

/** Which ids a failed check is about; only run when a check failed. */
export async function diagnose(table: TableRef, snapshotId: number, model: ExpectedHistory): Promise<Diagnosis> {
  const at = `/*+ OPTIONS('scan.snapshot-id' = '${snapshotId}') */`;
  const present = await soakQuery(
    `SELECT MIN(id) AS lo, MAX(id) AS hi FROM (SELECT id, id - ROW_NUMBER() OVER (ORDER BY id) AS grp FROM ${quoted(table)} ${at}) ` +
      'GROUP BY grp ORDER BY lo LIMIT 50',
  );
  const twice = await soakQuery(
    `SELECT id, COUNT(*) AS times FROM ${quoted(table)} /*+ OPTIONS('incremental-between' = '0,${snapshotId}', ` +
      `'incremental-between-scan-mode' = 'delta') */ GROUP BY id HAVING COUNT(*) > 1 ORDER BY id LIMIT 50`,
  );
  const expected = model.expectedPayloadSql();
  const wrong = await soakQuery(
    `SELECT MIN(id) AS lo, MAX(id) AS hi, got, want FROM (SELECT id, SPLIT_INDEX(payload, ':', 0) AS got, ` +
      `SPLIT_INDEX(${expected}, ':', 0) AS want, id - ROW_NUMBER() OVER (ORDER BY id) AS grp FROM ${quoted(table)} ${at} ` +
      `WHERE payload IS DISTINCT FROM ${expected}) GROUP BY grp, got, want ORDER BY lo LIMIT 50`,
  );
  return {
    table,
    present: present.map((r) => `${num(r.lo)}..${num(r.hi)}`),
    committedTwice: twice.map((r) => `${num(r.id)} x${num(r.times)}`),
    wrongVersion: wrong.map((r) => `${num(r.lo)}..${num(r.hi)}: ${String(r.got)} (expected ${String(r.want)})`),
  };
}
