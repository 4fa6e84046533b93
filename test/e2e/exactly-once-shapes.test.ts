// The soak's shapes check (SOAK_PIPELINE=shapes; soak/shapes.ts, soak/shapes-check.ts) can fail:
// what ids 1..max give per shape equals an independent brute-force reckoning, and tables of every
// shape written by hand with a wrong row, a lost key, an id applied twice and a delete not applied
// are counted as such, per table, on the REAL stack. The long runs are `npm run soak` with
// SOAK_PIPELINE=shapes (README: More).
import { afterAll, describe, expect, it } from 'vitest';
import { ExpectedHistory } from '../../soak/model';
import { compareKeyed, createShapesTables, expectedKeyed, KEYED_COLUMNS, shapeTables, SHAPES, type Shape } from '../../soak/shapes';
import { soakQuery } from '../../soak/read';
import { checkShapes, latestSharedShapesCheckpoint } from '../../soak/shapes-check';
import { expectedShapes } from '../support/shapes-pipeline';
import { paimonQuery, requireStack } from '../support/stack';

const DB = 'soak_e2e';
const RUN = `control_${process.pid}_${Date.now().toString(36)}`;
const tables = shapeTables(DB, RUN);

/** A row 'a|b|-' as SQL values, typed as the shape's columns (STRING columns: p, ver, payload). */
function values(shape: Shape, rows: string[]): string {
  const columns: readonly string[] = shape === 'events' ? ['p', 'id', 'payload'] : KEYED_COLUMNS[shape].columns;
  const typed = (c: string, v: string) => {
    const type = ['p', 'ver', 'payload'].includes(c) ? 'STRING' : 'BIGINT';
    return v === '-' ? `CAST(NULL AS ${type})` : type === 'STRING' ? `'${v}'` : `CAST(${v} AS BIGINT)`;
  };
  return rows.map((r) => `(${r.split('|').map((v, i) => typed(columns[i]!, v)).join(', ')})`).join(', ');
}

describe('the shapes check of the exactly-once soak', () => {
  afterAll(async () => {
    for (const t of Object.values(tables)) await paimonQuery(`DROP TABLE IF EXISTS \`${DB}\`.\`${t.split('.')[1]}\``).catch(() => undefined);
  });

  it('what ids 1..max give per shape is what the table-shapes test reckons, versions aside', () => {
    const strip = (rows: string[]) => rows.map((r) => r.split('|').slice(0, -1).join('|')).sort();
    for (const max of [1, 2, 7, 11, 12, 30, 257]) {
      const mine = expectedKeyed(max, () => 'v1');
      const theirs = expectedShapes(max, max);
      for (const s of ['counts', 'top3', 'partial', 'agg'] as const) expect(strip([...mine[s].values()]), `${s} at ${max}`).toEqual(theirs[s]);
    }
    // The version of a row is that of the id that wrote it last.
    const model = new ExpectedHistory('v1');
    model.upgraded(10, 'v2');
    const split = expectedKeyed(12, (id) => model.versionOf(id));
    expect(split.counts.get('3')).toBe('3|2|13|10|v1');
    expect(split.counts.get('4')).toBe('4|2|15|11|v2');
    expect(split.top3.get('0|10')).toBe('0|10|v1');
    expect(split.partial.get('1')).toBe('1|12|1|v2');
  });

  it('a keyed table: a count too high is an id applied twice, too low or a missing key ids lost, anything else wrong', () => {
    const want = expectedKeyed(16, () => 'v1');
    const counts = [...want.counts.values()].map((r) => (r.startsWith('3|') ? '3|3|23|10|v1' : r)); // ids 3, 10 and 10 again
    expect(compareKeyed('counts', want.counts, counts)).toMatchObject({ lost: 0, duplicated: 1, wrong: 0 });
    const agg = [...want.agg.values()].filter((r) => !r.startsWith('p1|1|'));
    expect(compareKeyed('agg', want.agg, agg)).toMatchObject({ lost: 2, duplicated: 0, wrong: 0 }); // ids 1 and 13
    const top3 = [...[...want.top3.values()].map((r) => (r === '2|12|v1' ? '2|12|v2' : r)), '1|1|v1'];
    expect(compareKeyed('top3', want.top3, top3)).toMatchObject({ lost: 0, duplicated: 0, wrong: 2 });
    expect(compareKeyed('partial', want.partial, [...want.partial.values()])).toEqual({ lost: 0, duplicated: 0, wrong: 0, examples: [] });
  });

  it('sees a wrong row, a lost key, a key applied twice and a delete not applied in tables written by hand', { timeout: 300_000 }, async () => {
    await requireStack();
    await createShapesTables(DB, RUN);
    const want = expectedKeyed(16, () => 'v1');
    // ids 1..16, all by v1, but: counts applied id 10 twice (key 3); agg lost key (p1, 1) (ids 1 and 13);
    // top3 kept id 1 of key 1 (its delete never came) and has id 12 as v2; partial has key 5's last
    // even id wrong; events lost id 4, has id 9 twice and id 7 as v2.
    const rows: Record<Shape, string[]> = {
      counts: [...want.counts.values()].map((r) => (r.startsWith('3|') ? '3|3|23|10|v1' : r)),
      top3: [...[...want.top3.values()].map((r) => (r === '2|12|v1' ? '2|12|v2' : r)), '1|1|v1'],
      partial: [...want.partial.values()].map((r) => (r.startsWith('5|') ? r.replace(/^5\|16\|/, '5|14|') : r)),
      agg: [...want.agg.values()].filter((r) => !r.startsWith('p1|1|')),
      events: [...Array.from({ length: 16 }, (_, i) => i + 1).filter((id) => id !== 4), 9].map((id) => `p${id % 2}|${id}|${id === 7 ? 'v2' : 'v1'}:${id}`),
    };
    expect(rows.partial).toContain('5|14|5|v1');
    for (const s of SHAPES) {
      const [db, name] = tables[s].split('.');
      // A streaming insert of the bounded VALUES (Paimon commits at the end of the input, as a batch
      // insert does): the batch shuffle into the deletion-vector table asked the busy session cluster
      // for 512 network buffers at once and was refused again and again.
      await soakQuery("SET 'table.dml-sync' = 'true'", "SET 'execution.runtime-mode' = 'streaming'", "SET 'parallelism.default' = '1'", `INSERT INTO \`${db}\`.\`${name}\` VALUES ${values(s, rows[s])}`);
    }

    const point = await latestSharedShapesCheckpoint(tables);
    expect(point).not.toBeNull();
    const [check] = await checkShapes(tables, [point!], new ExpectedHistory('v1'));
    expect(check!.maxId).toBe(16);
    const counted = Object.fromEntries(check!.tables.map((t) => [t.shape, { lost: t.lost, duplicated: t.duplicated, wrong: t.wrong }]));
    expect(counted).toEqual({
      counts: { lost: 0, duplicated: 1, wrong: 0 },
      top3: { lost: 0, duplicated: 0, wrong: 2 },
      partial: { lost: 0, duplicated: 0, wrong: 1 },
      agg: { lost: 2, duplicated: 0, wrong: 0 },
      events: { lost: 1, duplicated: 1, wrong: 1 },
    });
    expect(check!.tables.find((t) => t.shape === 'counts')!.examples).toEqual(['counts: 3|3|23|10|v1, expected 3|2|13|10|v1']);
  });
});
