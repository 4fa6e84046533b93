// The aggregate check: seq_agg (per key k = id % KEYS: count, sum and max of the ids routed to k)
// against what ids 1..max give, max taken from seq_a read at the same checkpoint. A count or sum
// off by an id shows an id applied twice or lost in the job's GROUP BY state, even when the number
// of keys stays the same; only merged rows of both tables are compared, never Paimon's record
// counts (a key's every update is a record in the data files until compaction).
import type { TableRef } from '../src/domain/model';
import { soakQuery } from './read';

const num = (v: unknown): number => Number(v ?? 0);
const quoted = (table: TableRef, system?: string): string => {
  const [db, name] = table.split('.');
  return system ? `\`${db}\`.\`${name}$${system}\`` : `\`${db}\`.\`${name}\``;
};

export interface KeyAggregate {
  k: number;
  cnt: number;
  total: number;
  maxId: number;
}

/** What ids 1..maxId give per key k = id % keys (keys with no id have no row). */
export function expectedAggregates(maxId: number, keys: number): KeyAggregate[] {
  const out: KeyAggregate[] = [];
  for (let k = 0; k < keys; k++) {
    const first = k === 0 ? keys : k; // ids start at 1
    if (first > maxId) continue;
    const n = Math.floor((maxId - first) / keys) + 1;
    out.push({ k, cnt: n, total: n * first + (keys * n * (n - 1)) / 2, maxId: first + keys * (n - 1) });
  }
  return out;
}

/** Every key whose row differs from the expected one, as 'k=3: cnt 12 sum 234 max 80, expected cnt 11 sum 224 max 73'. */
export function compareAggregates(expected: KeyAggregate[], actual: KeyAggregate[]): string[] {
  const show = (a: KeyAggregate | undefined) => (a ? `cnt ${a.cnt} sum ${a.total} max ${a.maxId}` : 'no row');
  const keys = [...new Set([...expected, ...actual].map((a) => a.k))].sort((a, b) => a - b);
  const wrong: string[] = [];
  for (const k of keys) {
    const want = expected.find((a) => a.k === k);
    const got = actual.filter((a) => a.k === k);
    if (got.length > 1) wrong.push(`k=${k}: ${got.length} rows`);
    else if (!want || !got[0] || want.cnt !== got[0].cnt || want.total !== got[0].total || want.maxId !== got[0].maxId) {
      wrong.push(`k=${k}: ${show(got[0])}, expected ${show(want)}`);
    }
  }
  return wrong;
}

/** Where both tables are read: a tag (`scan.tag-name`) or each table's snapshot of one checkpoint. */
export type ReadPoint =
  | { kind: 'tag'; tag: string }
  | { kind: 'checkpoint'; checkpointId: number; sequenceSnapshot: number; aggregateSnapshot: number };

export const describePoint = (p: ReadPoint): string =>
  p.kind === 'tag' ? p.tag : `checkpoint ${p.checkpointId} (snapshots ${p.sequenceSnapshot} / ${p.aggregateSnapshot})`;

export interface AggregateCheck {
  at: string;
  /** seq_a at the same point: its largest id, rows, distinct ids and smallest id */
  maxId: number;
  sequenceRows: number;
  sequenceDistinct: number;
  sequenceMin: number;
  /** keys compared (the union of expected and present keys) */
  keys: number;
  /** one line per key that differs; and a line if seq_a itself is not ids 1..max once each */
  wrong: string[];
}

/**
 * The latest checkpoint both tables committed in their current history, and the snapshot of each
 * that holds it (a snapshot's commit_identifier is the checkpoint id for a streaming write; the
 * tables commit one after the other, so their latest snapshots can be of different checkpoints).
 * Null when they share none yet.
 */
export async function latestSharedCheckpoint(sequence: TableRef, aggregate: TableRef): Promise<ReadPoint | null> {
  const perCheckpoint = (t: TableRef) =>
    `SELECT commit_identifier AS c, MAX(snapshot_id) AS s FROM ${quoted(t, 'snapshots')} GROUP BY commit_identifier`;
  const [row] = await soakQuery(
    `SELECT a.c AS c, a.s AS sa, g.s AS sg FROM (${perCheckpoint(sequence)}) a JOIN (${perCheckpoint(aggregate)}) g ` +
      'ON a.c = g.c ORDER BY a.c DESC LIMIT 1',
  );
  if (!row) return null;
  return { kind: 'checkpoint', checkpointId: num(row.c), sequenceSnapshot: num(row.sa), aggregateSnapshot: num(row.sg) };
}

/** Reads seq_a's ids and seq_agg's rows at every point, in one query, and checks each point. */
export async function checkAggregates(sequence: TableRef, aggregate: TableRef, keys: number, points: ReadPoint[]): Promise<AggregateCheck[]> {
  if (points.length === 0) return [];
  const option = (p: ReadPoint, table: 'sequence' | 'aggregate') =>
    p.kind === 'tag'
      ? `/*+ OPTIONS('scan.tag-name' = '${p.tag}') */`
      : `/*+ OPTIONS('scan.snapshot-id' = '${table === 'sequence' ? p.sequenceSnapshot : p.aggregateSnapshot}') */`;
  // One shape for both tables: k = -1 is seq_a's summary row.
  const rows = await soakQuery(
    points
      .flatMap((p, i) => [
        `SELECT ${i} AS p, -1 AS k, COUNT(*) AS cnt, SUM(id) AS total, MAX(id) AS max_id, MIN(id) AS lo, COUNT(DISTINCT id) AS ids ` +
          `FROM ${quoted(sequence)} ${option(p, 'sequence')}`,
        `SELECT ${i} AS p, k, cnt, total, max_id, CAST(NULL AS BIGINT) AS lo, CAST(NULL AS BIGINT) AS ids FROM ${quoted(aggregate)} ${option(p, 'aggregate')}`,
      ])
      .join(' UNION ALL '),
  );
  return points.map((p, i) => {
    const mine = rows.filter((r) => num(r.p) === i);
    const seq = mine.find((r) => num(r.k) === -1);
    const maxId = num(seq?.max_id);
    const sequenceRows = num(seq?.cnt);
    const sequenceDistinct = num(seq?.ids);
    const sequenceMin = num(seq?.lo);
    const actual = mine.filter((r) => num(r.k) !== -1).map((r) => ({ k: num(r.k), cnt: num(r.cnt), total: num(r.total), maxId: num(r.max_id) }));
    const expected = expectedAggregates(maxId, keys);
    const wrong = compareAggregates(expected, actual);
    if (maxId > 0 && (sequenceMin !== 1 || sequenceRows !== maxId || sequenceDistinct !== maxId)) {
      wrong.push(`${sequence} is not ids 1..${maxId} once each (${sequenceRows} rows, ${sequenceDistinct} distinct, from ${sequenceMin})`);
    }
    const keysCompared = new Set([...expected, ...actual].map((a) => a.k)).size;
    return { at: describePoint(p), maxId, sequenceRows, sequenceDistinct, sequenceMin, keys: keysCompared, wrong };
  });
}
