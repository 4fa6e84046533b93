// The shapes check: every table of the shapes pipeline read at one point (a tag on every table, or
// each table's snapshot of the latest checkpoint they all committed), in one batch query, against
// what ids 1..max give, max being the largest id any table holds there (all five are written by
// one job, so at one checkpoint each holds the same ids). The keyed tables are few rows and come
// back whole; the append table (one row per id) is summed up in SQL, as the sequence check does.
import type { TableRef } from '../src/domain/model';
import { soakQuery } from './read';
import type { ExpectedHistory } from './model';
import { compareKeyed, expectedKeyed, KEYED_COLUMNS, SHAPES, type Shape, type ShapeCounts } from './shapes';

const num = (v: unknown): number => Number(v ?? 0);
const quoted = (table: TableRef, system?: string): string => {
  const [db, name] = table.split('.');
  return system ? `\`${db}\`.\`${name}$${system}\`` : `\`${db}\`.\`${name}\``;
};

/** Where every table is read: a tag, or each table's own snapshot of one checkpoint. */
export type ShapesPoint = { kind: 'tag'; tag: string } | { kind: 'checkpoint'; checkpointId: number; snapshots: Record<Shape, number> };

export const describeShapesPoint = (p: ShapesPoint): string => (p.kind === 'tag' ? p.tag : `checkpoint ${p.checkpointId}`);

export interface ShapeTableCheck extends ShapeCounts {
  shape: Shape;
  table: TableRef;
  /** rows read (the append table: its rows, summed in SQL) */
  rows: number;
  /** the largest id in this table */
  maxId: number;
}

export interface ShapesCheck {
  at: string;
  /** the largest id in any table: every table must hold ids 1..maxId */
  maxId: number;
  tables: ShapeTableCheck[];
}

/** A batch INSERT commits with identifier Long.MAX_VALUE (read back as a float): whole once the INSERT returned. */
const BATCH_COMMIT = 2 ** 62;

/**
 * The latest checkpoint every table committed whole in its current history, and each table's
 * latest snapshot of it (a streaming commit's commit_identifier is its checkpoint id; the tables
 * commit one after the other, so their latest snapshots can be of different checkpoints). Whole
 * means the table committed a later checkpoint too: a checkpoint's commit can be two snapshots,
 * APPEND then COMPACT, and with deletion vectors (top3) a reader sees the APPEND's rows only from
 * the COMPACT on (level-0 files are not read), so a read between the two showed top3 one
 * checkpoint behind the others. Null when they share none.
 */
export async function latestSharedShapesCheckpoint(tables: Record<Shape, TableRef>): Promise<ShapesPoint | null> {
  const rows = await soakQuery(
    "SET 'parallelism.default' = '1'",
    SHAPES.map((s) => `SELECT '${s}' AS t, commit_identifier AS c, MAX(snapshot_id) AS s FROM ${quoted(tables[s], 'snapshots')} GROUP BY commit_identifier`).join(
      ' UNION ALL ',
    ),
  );
  const byCheckpoint = new Map<number, Partial<Record<Shape, number>>>();
  const latest = new Map<Shape, number>();
  for (const r of rows) {
    const c = num(r.c);
    const t = String(r.t) as Shape;
    byCheckpoint.set(c, { ...byCheckpoint.get(c), [t]: num(r.s) });
    latest.set(t, Math.max(latest.get(t) ?? 0, c));
  }
  const whole = (c: number) => c >= BATCH_COMMIT || SHAPES.every((x) => c < (latest.get(x) ?? 0));
  const shared = [...byCheckpoint].filter(([c, s]) => SHAPES.every((x) => s[x] !== undefined) && whole(c)).sort((a, b) => b[0] - a[0]);
  const [newest] = shared;
  return newest ? { kind: 'checkpoint', checkpointId: newest[0], snapshots: newest[1] as Record<Shape, number> } : null;
}

/** Reads every table at every point, in one query per point, and checks each against `model`. */
export async function checkShapes(tables: Record<Shape, TableRef>, points: ShapesPoint[], model: ExpectedHistory): Promise<ShapesCheck[]> {
  const out: ShapesCheck[] = [];
  for (const point of points) out.push(await checkShapesAt(tables, point, model));
  return out;
}

async function checkShapesAt(tables: Record<Shape, TableRef>, point: ShapesPoint, model: ExpectedHistory): Promise<ShapesCheck> {
  const hint = (s: Shape) =>
    point.kind === 'tag' ? `/*+ OPTIONS('scan.tag-name' = '${point.tag}') */` : `/*+ OPTIONS('scan.snapshot-id' = '${point.snapshots[s]}') */`;
  const keyed = (Object.keys(KEYED_COLUMNS) as (keyof typeof KEYED_COLUMNS)[]).map(
    (s) =>
      `SELECT '${s}' AS t, CONCAT_WS('|', ${KEYED_COLUMNS[s].columns.map((c) => `COALESCE(CAST(\`${c}\` AS STRING), '-')`).join(', ')}) AS r ` +
      `FROM ${quoted(tables[s])} ${hint(s)}`,
  );
  // events: rows, distinct ids, smallest and largest id, and rows whose partition or payload is not
  // what their id gives (the payload's version by the model's segments).
  const events =
    `SELECT 'events' AS t, CONCAT_WS('|', CAST(COUNT(*) AS STRING), CAST(COUNT(DISTINCT id) AS STRING), COALESCE(CAST(MIN(id) AS STRING), '0'), ` +
    `COALESCE(CAST(MAX(id) AS STRING), '0'), CAST(SUM(CASE WHEN payload IS DISTINCT FROM ${model.expectedPayloadSql()} ` +
    `OR p <> CONCAT('p', CAST(MOD(id, 2) AS STRING)) THEN 1 ELSE 0 END) AS STRING)) AS r FROM ${quoted(tables.events)} ${hint('events')}`;
  // One task per source: the reads cluster is shared, and ten sources at its default parallelism
  // asked for more network buffers than a busy cluster had left.
  const rows = await soakQuery("SET 'parallelism.default' = '1'", [...keyed, events].join(' UNION ALL '));
  const read = Object.fromEntries(SHAPES.map((s) => [s, rows.filter((r) => r.t === s).map((r) => String(r.r))])) as Record<Shape, string[]>;
  const [evRows, evIds, evMin, evMax, evWrong] = (read.events[0] ?? '0|0|0|0|0').split('|').map(num) as [number, number, number, number, number];
  const maxIdOf = (s: keyof typeof KEYED_COLUMNS) =>
    Math.max(0, ...read[s].flatMap((r) => KEYED_COLUMNS[s].ids.map((i) => num(r.split('|')[i] === '-' ? 0 : r.split('|')[i]))));
  const maxIds = { counts: maxIdOf('counts'), top3: maxIdOf('top3'), partial: maxIdOf('partial'), agg: maxIdOf('agg'), events: evMax };
  const maxId = Math.max(...Object.values(maxIds));
  const expected = expectedKeyed(maxId, (id) => model.versionOf(id));
  const checks: ShapeTableCheck[] = (Object.keys(KEYED_COLUMNS) as (keyof typeof KEYED_COLUMNS)[]).map((s) => ({
    shape: s,
    table: tables[s],
    rows: read[s].length,
    maxId: maxIds[s],
    ...compareKeyed(s, expected[s], read[s]),
  }));
  const eventsLost = maxId - evIds;
  checks.push({
    shape: 'events',
    table: tables.events,
    rows: evRows,
    maxId: evMax,
    lost: eventsLost,
    duplicated: evRows - evIds,
    wrong: evWrong,
    examples:
      eventsLost > 0 || evRows > evIds || evWrong > 0
        ? [`events: ${evRows} rows, ${evIds} distinct ids from ${evMin} to ${evMax} (expected 1..${maxId} once each), ${evWrong} with the wrong partition or payload`]
        : [],
  });
  return { at: describeShapesPoint(point), maxId, tables: checks };
}
