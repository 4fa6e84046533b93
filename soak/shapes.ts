// The soak's shapes pipeline (SOAK_PIPELINE=shapes): demo/sql/shapes/ (one job writing a primary-key
// table updated by a GROUP BY, one with deletes from a Top-N, a partial-update table, an
// aggregation merge-engine table and an append table, all from the ids 1, 2, 3, ... of a datagen
// sequence kept in the savepoint), aimed at tables of the run's own (<table>_<run>), and what each
// table must hold once ids 1..max were each written exactly once, every id by the version the
// soak's model says emitted it.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { splitSqlScript } from '../activities/sql-gateway/script';
import { repoRoot } from '../src/config/repo-root';
import type { TableRef } from '../src/domain/model';
import { deployableDir } from '../test/support/demo-pipeline';
import { paimonQuery } from '../test/support/stack';
import type { Version } from './model';

export const SHAPES = ['counts', 'top3', 'partial', 'agg', 'events'] as const;
export type Shape = (typeof SHAPES)[number];

/** Each shape's table in `database` for run `runId`. */
export const shapeTables = (database: string, runId: string): Record<Shape, TableRef> =>
  Object.fromEntries(SHAPES.map((s) => [s, `${database}.${s}_${runId}`])) as Record<Shape, TableRef>;

const shapesFile = (file: string) => readFileSync(path.join(repoRoot(), 'demo', 'sql', 'shapes', file), 'utf8');

/** A demo/sql/shapes file aimed at the run's tables in `database`, the job named `jobName`. */
export function shapesScript(file: string, database: string, runId: string, jobName?: string): string {
  const text = shapesFile(file)
    .replace(/paimon\.shapes\.([a-z0-9]+)\b/g, (_, table: string) => `paimon.${database}.${table}_${runId}`)
    .replace('paimon.shapes;', `paimon.${database};`);
  return jobName === undefined ? text : text.replace(/SET 'pipeline\.name' = '[^']*'/, `SET 'pipeline.name' = '${jobName}'`);
}

/** Fresh tables of every shape (demo/sql/shapes/tables.sql) for run `runId`. */
export async function createShapesTables(database: string, runId: string): Promise<void> {
  for (const table of Object.values(shapeTables(database, runId))) {
    const [db, name] = table.split('.');
    await paimonQuery(`DROP TABLE IF EXISTS \`${db}\`.\`${name}\``);
  }
  for (const statement of splitSqlScript(shapesScript('tables.sql', database, runId))) await paimonQuery(statement);
}

/** Writes the shapes scripts aimed at the run's tables into a folder the worker may deploy from. */
export function shapesScripts(database: string, runId: string): (file: string, jobName: string) => string {
  const dir = deployableDir(`${database}-shapes-`);
  return (file, jobName) => {
    const target = path.join(dir, `${jobName}-${file}`);
    writeFileSync(target, shapesScript(file, database, runId, jobName));
    return target;
  };
}

/**
 * What each keyed table holds once ids 1..max were each written once (rows as 'col|col|...', NULL
 * as '-', by primary key), `versionOf` saying which version wrote an id:
 *   counts  k = id % 7: count, sum and largest id of its ids; the version that wrote the largest
 *   top3    (k = id % 5, id) for the 3 largest ids per k; each row the version that wrote its id
 *   partial k = id % 11: its largest even and odd id; the version that wrote its largest id
 *   agg     (p = 'p' || id % 3, k = id % 4): count, sum, largest id; the version of the largest
 * (events, the append table, holds each id once with payload '<version>:<id>': checked in SQL.)
 */
export function expectedKeyed(max: number, versionOf: (id: number) => Version): Record<Exclude<Shape, 'events'>, Map<string, string>> {
  const counts = new Map<number, { n: number; s: number; last: number }>();
  const top3 = new Map<number, number[]>();
  const partial = new Map<number, { even?: number; odd?: number; last: number }>();
  const agg = new Map<string, { n: number; s: number; last: number }>();
  for (let id = 1; id <= max; id++) {
    const c = counts.get(id % 7) ?? { n: 0, s: 0, last: 0 };
    counts.set(id % 7, { n: c.n + 1, s: c.s + id, last: id });
    top3.set(id % 5, [...(top3.get(id % 5) ?? []), id].slice(-3));
    const p = partial.get(id % 11) ?? { last: 0 };
    partial.set(id % 11, id % 2 === 0 ? { ...p, even: id, last: id } : { ...p, odd: id, last: id });
    const ak = `p${id % 3}|${id % 4}`;
    const a = agg.get(ak) ?? { n: 0, s: 0, last: 0 };
    agg.set(ak, { n: a.n + 1, s: a.s + id, last: id });
  }
  const dash = (v: number | undefined) => (v === undefined ? '-' : String(v));
  return {
    counts: new Map([...counts].map(([k, c]) => [String(k), `${k}|${c.n}|${c.s}|${c.last}|${versionOf(c.last)}`])),
    top3: new Map([...top3].flatMap(([k, ids]) => ids.map((id) => [`${k}|${id}`, `${k}|${id}|${versionOf(id)}`] as [string, string]))),
    partial: new Map([...partial].map(([k, p]) => [String(k), `${k}|${dash(p.even)}|${dash(p.odd)}|${versionOf(p.last)}`])),
    agg: new Map([...agg].map(([k, a]) => [k, `${k}|${a.n}|${a.s}|${a.last}|${versionOf(a.last)}`])),
  };
}

/** Columns of each keyed table in row order, how many of them form its key, and which hold ids (the largest is the last id written). */
export const KEYED_COLUMNS = {
  counts: { columns: ['k', 'n', 's', 'last_id', 'ver'], key: 1, ids: [3], count: 1 },
  top3: { columns: ['k', 'id', 'ver'], key: 2, ids: [1], count: undefined },
  partial: { columns: ['k', 'last_even', 'last_odd', 'ver'], key: 1, ids: [1, 2], count: undefined },
  agg: { columns: ['p', 'k', 'n', 's', 'last_id', 'ver'], key: 2, ids: [4], count: 2 },
} as const satisfies Record<Exclude<Shape, 'events'>, { columns: readonly string[]; key: number; ids: readonly number[]; count: number | undefined }>;

export interface ShapeCounts {
  /** ids (counts, agg, events) or rows (top3, partial) missing */
  lost: number;
  /** ids applied more than once (counts, agg: a count too high; events: an id twice) */
  duplicated: number;
  /** rows present with the wrong values or that must not be there (a delete not applied, a wrong version) */
  wrong: number;
  /** up to 5 of the differing rows: 'got … expected …' */
  examples: string[];
}

/**
 * A keyed table's rows against what ids 1..max give. A row whose count column is off counts the
 * difference as lost ids (too low) or ids applied twice (too high); a missing key as lost (its
 * count's worth of ids where the table counts them, else one row); any other difference, and a
 * row that must not be there, as wrong.
 */
export function compareKeyed(shape: Exclude<Shape, 'events'>, expected: Map<string, string>, actual: string[]): ShapeCounts {
  const { key, count } = KEYED_COLUMNS[shape];
  const keyOf = (row: string) => row.split('|').slice(0, key).join('|');
  const countOf = (row: string) => (count === undefined ? 1 : Number(row.split('|')[count]));
  const out: ShapeCounts = { lost: 0, duplicated: 0, wrong: 0, examples: [] };
  const note = (line: string) => out.examples.length < 5 && out.examples.push(`${shape}: ${line}`);
  const seen = new Map<string, string[]>();
  for (const row of actual) seen.set(keyOf(row), [...(seen.get(keyOf(row)) ?? []), row]);
  for (const [k, want] of expected) {
    const got = seen.get(k) ?? [];
    if (got.length === 0) {
      out.lost += countOf(want);
      note(`no row for ${k}, expected ${want}`);
    } else if (got[0] !== want) {
      const diff = count === undefined ? 0 : countOf(got[0]!) - countOf(want);
      if (diff < 0) out.lost -= diff;
      else if (diff > 0) out.duplicated += diff;
      else out.wrong++;
      note(`${got[0]}, expected ${want}`);
    }
  }
  for (const [k, rows] of seen) {
    if (!expected.has(k)) {
      out.wrong += rows.length;
      note(`${rows[0]} must not be there`);
    }
  }
  return out;
}
