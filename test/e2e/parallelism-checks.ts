// What the parallelism e2e tests check on the real stack: a table grows, a live job's vertices,
// and every id of a bounded sequence exactly once with the payload of the version that emitted it.
import { expect } from 'vitest';
import { flinkGet, paimonQuery, until } from '../support/stack';

const rowsOf = async (table: string) => Number((await paimonQuery(`SELECT COUNT(*) AS n FROM ${table}`))[0]?.n ?? 0);

/** `table` is `` `db`.`t` ``. */
export async function grows(table: string, by: number): Promise<void> {
  const from = await rowsOf(table);
  await until(`${table} to grow by ${by} rows`, 120_000, async () => ((await rowsOf(table)) >= from + by ? true : undefined));
}

/** Each vertex of a live job: its parallelism and name (GET /jobs/:id). */
export async function vertices(jobId: string): Promise<{ id: string; name: string; parallelism: number }[]> {
  return (await flinkGet<{ vertices: { id: string; name: string; parallelism: number }[] }>(`/jobs/${jobId}`)).vertices;
}

/**
 * Every id 1..lastId exactly once, with the payload of the version that emitted it: v1 for the ids
 * the first savepoint's tag holds, v2 for those the second adds, v1 for the rest. An id emitted
 * again by a later version would carry that version's payload; a lost one is missing. The source's
 * remaining ids were split over two subtasks and joined again, so no order is assumed.
 */
export async function checkExactlyOnce(table: string, lastId: number, firstTag: string, secondTag: string): Promise<void> {
  const [row] = await paimonQuery(
    `SELECT COUNT(*) AS n, MIN(f.id) AS lo, MAX(f.id) AS hi, ` +
      `SUM(CASE WHEN f.payload <> CONCAT(CASE WHEN a.id IS NULL AND b.id IS NOT NULL THEN 'v2:' ELSE 'v1:' END, CAST(f.id AS STRING)) THEN 1 ELSE 0 END) AS wrong, ` +
      `SUM(CASE WHEN a.id IS NOT NULL THEN 1 ELSE 0 END) AS in_first, SUM(CASE WHEN a.id IS NULL AND b.id IS NOT NULL THEN 1 ELSE 0 END) AS by_v2 ` +
      `FROM ${table} AS f ` +
      `LEFT JOIN (SELECT id FROM ${table} /*+ OPTIONS('scan.tag-name' = '${firstTag}') */) AS a ON f.id = a.id ` +
      `LEFT JOIN (SELECT id FROM ${table} /*+ OPTIONS('scan.tag-name' = '${secondTag}') */) AS b ON f.id = b.id`,
  );
  const seen = { table, rows: Number(row!.n), min: Number(row!.lo), max: Number(row!.hi), wrongPayloads: Number(row!.wrong) };
  expect(seen).toEqual({ table, rows: lastId, min: 1, max: lastId, wrongPayloads: 0 });
  // Each version wrote some: the check compares three runs, not one.
  expect(Number(row!.in_first)).toBeGreaterThan(0);
  expect(Number(row!.by_v2)).toBeGreaterThan(0);
}
