// Row checks on the demo pipeline's sink tables (id BIGINT, payload '<version>:<id>'): the highest
// id per table, now or at a tag, and "every id once, each written by the version that owns it".
import { expect } from 'vitest';
import { paimonQuery } from './stack';

/** The highest id of each table, at `tag` if given. */
export async function maxIdsOf(database: string, tables: readonly string[], tag?: string): Promise<number[]> {
  const at = tag ? ` /*+ OPTIONS('scan.tag-name' = '${tag}') */` : '';
  const rows = await paimonQuery(tables.map((t) => `SELECT '${t}' AS t, MAX(id) AS hi FROM \`${database}\`.\`${t}\`${at}`).join(' UNION ALL '));
  return tables.map((t) => Number(rows.find((r) => r.t === t)?.hi ?? 0));
}

/** Every id from 1 to the largest exactly once; `v1:` payloads up to `v1UpTo[i]`, `later:` after. */
export async function expectIdsOnceIn(database: string, tables: readonly string[], v1UpTo: number[], later: 'v1' | 'v2'): Promise<void> {
  const rows = await paimonQuery(
    tables
      .map(
        (t, i) =>
          `SELECT '${t}' AS t, COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi, ` +
          `SUM(CASE WHEN id <= ${v1UpTo[i]} AND payload <> CONCAT('v1:', CAST(id AS STRING)) THEN 1 ` +
          `WHEN id > ${v1UpTo[i]} AND payload <> CONCAT('${later}:', CAST(id AS STRING)) THEN 1 ELSE 0 END) AS wrong ` +
          `FROM \`${database}\`.\`${t}\``,
      )
      .join(' UNION ALL '),
  );
  for (const t of tables) {
    const r = rows.find((row) => row.t === t)!;
    expect({ table: t, rows: Number(r.n), min: Number(r.lo), wrong: Number(r.wrong ?? 0) }).toEqual({ table: t, rows: Number(r.hi), min: 1, wrong: 0 });
  }
}
