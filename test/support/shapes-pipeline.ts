// The shapes pipeline (demo/sql/shapes/) as a real-stack test uses it: its tables made through the
// SQL gateway in the test's own database, its scripts aimed there under the test's job name, reads
// of every table (now, or as of a tag) in one batch query, the tables' snapshots and tags, and what
// every table must hold once the job has written the ids 1..max exactly once.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { splitSqlScript } from '../../activities/sql-gateway/script';
import { repoRoot } from '../../src/config/repo-root';
import { paimonQuery } from './stack';

/** Each table and its columns, in the order of tables.sql. */
export const SHAPES = {
  counts: ['k', 'n', 's', 'last_id', 'ver'],
  top3: ['k', 'id', 'ver'],
  partial: ['k', 'last_even', 'last_odd', 'ver'],
  agg: ['p', 'k', 'n', 's', 'last_id', 'ver'],
  events: ['p', 'id', 'payload'],
} as const;
export type Shape = keyof typeof SHAPES;
export const SHAPE_NAMES = Object.keys(SHAPES) as Shape[];

const shapesFile = (file: string) => readFileSync(path.join(repoRoot(), 'demo', 'sql', 'shapes', file), 'utf8');
const aimedAt = (text: string, database: string) =>
  text.replaceAll('paimon.shapes.', `paimon.${database}.`).replace('paimon.shapes;', `paimon.${database};`);

/** Creates the database and its tables from tables.sql, statement by statement through the SQL gateway. */
export async function createShapeTables(database: string): Promise<void> {
  for (const statement of splitSqlScript(aimedAt(shapesFile('tables.sql'), database))) await paimonQuery(statement);
}

/**
 * Writes shapes scripts aimed at `database`, named `jobName`, into a folder the worker may deploy
 * from: under the deployments root (the repository, the worker's working directory), git-ignored.
 */
export function shapeScripts(database: string, jobName: string): (file: string) => string {
  const parent = path.join(repoRoot(), '.test-results');
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(path.join(parent, `${database}-`));
  return (file) => {
    const target = path.join(dir, file);
    writeFileSync(target, aimedAt(shapesFile(file), database).replace(/SET 'pipeline\.name' = '[^']*'/, `SET 'pipeline.name' = '${jobName}'`));
    return target;
  };
}

/** Every table's rows as sorted strings (columns joined by '|', NULL as '-'). */
export type TableRows = Record<Shape, string[]>;

const rowExpression = (shape: Shape) =>
  `CONCAT_WS('|', ${SHAPES[shape].map((c) => `COALESCE(CAST(\`${c}\` AS STRING), '-')`).join(', ')})`;

/** Every table read in one batch job: now, or as of a tag on every table. */
export async function readShapes(database: string, tag?: string): Promise<TableRows> {
  const hint = tag === undefined ? '' : ` /*+ OPTIONS('scan.tag-name' = '${tag}') */`;
  const rows = await paimonQuery(
    SHAPE_NAMES.map((s) => `SELECT '${s}' AS t, ${rowExpression(s)} AS r FROM \`${database}\`.\`${s}\`${hint}`).join(' UNION ALL '),
  );
  const out = Object.fromEntries(SHAPE_NAMES.map((s) => [s, [] as string[]])) as TableRows;
  for (const row of rows) out[row.t as Shape].push(String(row.r));
  for (const s of SHAPE_NAMES) out[s].sort();
  return out;
}

export interface SnapshotFacts {
  snapshots: number;
  first: number;
  latest: number;
  latestKind: string;
  /** the latest snapshot's total_record_count: records in its data files, not merged rows */
  latestRecords: number;
  /** the ids of the snapshots that are compactions (commit_kind COMPACT) */
  compactions: number[];
}
export interface TagFacts {
  tag: string;
  snapshotId: number;
  records: number;
}

/** Every table's snapshots (how many, the latest's kind and records) and tags: two batch jobs. */
export async function shapeMetadata(database: string): Promise<Record<Shape, { snapshots: SnapshotFacts; tags: TagFacts[] }>> {
  const sys = (s: Shape, kind: string) => `\`${database}\`.\`${s}$${kind}\``;
  const snaps = await paimonQuery(
    SHAPE_NAMES.map(
      (s) =>
        `SELECT '${s}' AS t, snapshot_id, commit_kind, total_record_count FROM ${sys(s, 'snapshots')}`,
    ).join(' UNION ALL '),
  );
  const tags = await paimonQuery(
    SHAPE_NAMES.map((s) => `SELECT '${s}' AS t, tag_name, snapshot_id, record_count FROM ${sys(s, 'tags')}`).join(' UNION ALL '),
  );
  return Object.fromEntries(
    SHAPE_NAMES.map((s) => {
      const mine = snaps.filter((r) => r.t === s).sort((a, b) => Number(a.snapshot_id) - Number(b.snapshot_id));
      const last = mine[mine.length - 1];
      return [
        s,
        {
          snapshots: {
            snapshots: mine.length,
            first: Number(mine[0]?.snapshot_id ?? 0),
            latest: Number(last?.snapshot_id ?? 0),
            latestKind: String(last?.commit_kind ?? ''),
            latestRecords: Number(last?.total_record_count ?? 0),
            compactions: mine.filter((r) => r.commit_kind === 'COMPACT').map((r) => Number(r.snapshot_id)),
          },
          tags: tags
            .filter((r) => r.t === s)
            .map((r) => ({ tag: String(r.tag_name), snapshotId: Number(r.snapshot_id), records: Number(r.record_count) }))
            .sort((a, b) => a.snapshotId - b.snapshotId || a.tag.localeCompare(b.tag)),
        },
      ];
    }),
  ) as Record<Shape, { snapshots: SnapshotFacts; tags: TagFacts[] }>;
}

export type Metadata = Awaited<ReturnType<typeof shapeMetadata>>;

/** Every table's snapshots, latest records, merged rows and tags at one stage of a run (docs/paimon-rollback-shapes.md). */
export function stageFigures(stage: string, tag: string, { rows, meta }: { rows: TableRows; meta: Metadata }): Record<string, unknown>[] {
  return SHAPE_NAMES.map((s) => {
    const t = meta[s].tags.find((x) => x.tag === tag);
    return {
      stage,
      table: s,
      snapshots: `${meta[s].snapshots.first}..${meta[s].snapshots.latest} (${meta[s].snapshots.snapshots})`,
      latest: `${meta[s].snapshots.latestKind} ${meta[s].snapshots.latestRecords} records`,
      mergedRows: rows[s].length,
      tag: t ? `${tag} on ${t.snapshotId}, ${t.records} records` : `${tag} absent`,
      tags: meta[s].tags.map((x) => `${x.tag}@${x.snapshotId}`).join(' '),
    };
  });
}

/** A full compaction of every table, each waited for (the writer must be stopped: its own compactions conflict). */
export async function compactShapes(database: string): Promise<void> {
  for (const s of SHAPE_NAMES) {
    await paimonQuery("SET 'table.dml-sync' = 'true'", `CALL sys.compact(\`table\` => '${database}.${s}', compact_strategy => 'full')`);
  }
}

/** Columns that hold ids, per table: the largest of them is the last id the table was written. */
const ID_COLUMNS: Record<Shape, number[]> = { counts: [3], top3: [1], partial: [1, 2], agg: [4], events: [1] };

/**
 * The largest id written into each table of a read. A live read may see the tables at different
 * checkpoints (each table commits on its own), so each table is checked against its own.
 */
export function maxIdsOf(rows: TableRows): Record<Shape, number> {
  const ids = (s: Shape) => rows[s].flatMap((r) => ID_COLUMNS[s].map((i) => Number(r.split('|')[i]))).filter((n) => !Number.isNaN(n));
  return Object.fromEntries(SHAPE_NAMES.map((s) => [s, Math.max(0, ...ids(s))])) as Record<Shape, number>;
}

/** The largest id in a read: the append-only table's, which holds every id. */
export const maxIdOf = (rows: TableRows): number => maxIdsOf(rows).events;

/**
 * What every table holds once ids 1..max were each written exactly once, the version strings
 * aside (they say which version wrote last): the GROUP BY's counts and sums per key, the three
 * largest ids per key, the last even and odd id per key, Paimon's sums per key, and each id once.
 * `v1UpTo`: events ids up to it carry payload v1, later ones v2.
 */
export function expectedShapes(max: number, v1UpTo: number): Record<Shape, string[]> {
  const ids = Array.from({ length: max }, (_, i) => i + 1);
  const groups = <K>(key: (id: number) => K) => {
    const m = new Map<K, number[]>();
    for (const id of ids) m.set(key(id), [...(m.get(key(id)) ?? []), id]);
    return m;
  };
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const last = (xs: number[]) => (xs.length === 0 ? '-' : String(Math.max(...xs)));
  const sorted = (xs: string[]) => xs.sort();
  return {
    counts: sorted([...groups((id) => id % 7)].map(([k, xs]) => `${k}|${xs.length}|${sum(xs)}|${Math.max(...xs)}`)),
    top3: sorted([...groups((id) => id % 5)].flatMap(([k, xs]) => xs.slice(-3).map((id) => `${k}|${id}`))),
    partial: sorted([...groups((id) => id % 11)].map(([k, xs]) => `${k}|${last(xs.filter((x) => x % 2 === 0))}|${last(xs.filter((x) => x % 2 === 1))}`)),
    agg: sorted([...groups((id) => `p${id % 3}|${id % 4}`)].map(([pk, xs]) => `${pk}|${xs.length}|${sum(xs)}|${Math.max(...xs)}`)),
    events: sorted(ids.map((id) => `p${id % 2}|${id}|${id <= v1UpTo ? 'v1' : 'v2'}:${id}`)),
  };
}

/** What each table of a read must hold, given the largest id written into it. */
export function expectedFor(rows: TableRows, v1UpTo: number): Record<Shape, string[]> {
  const max = maxIdsOf(rows);
  return Object.fromEntries(SHAPE_NAMES.map((s) => [s, expectedShapes(max[s], v1UpTo)[s]])) as Record<Shape, string[]>;
}

/** A read without the version column of the tables whose rows carry one (events keep their payload). */
export function withoutVersion(rows: TableRows): Record<Shape, string[]> {
  const strip = (xs: string[]) => xs.map((r) => r.split('|').slice(0, -1).join('|')).sort();
  return { counts: strip(rows.counts), top3: strip(rows.top3), partial: strip(rows.partial), agg: strip(rows.agg), events: rows.events };
}
