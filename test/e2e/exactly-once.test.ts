// The exactly-once soak, small: 3 cycles on the REAL stack with each of upgrade, savepoint and
// restore-to-a-random-restorable-point at least once, in an order the seed decides (printed, and
// replayable with SOAK_SEED). After every cycle both sequence tables must hold ids 1..max each once,
// nothing committed twice, each payload from the version that was running when its id was
// emitted; and the aggregate table (count, sum, max of the ids per key id % 7) must equal what ids
// 1..max give, max read from seq_a at the same tag or checkpoint. The long run is `npm run soak`
// (soak/main.ts).
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { checkAggregates, compareAggregates, expectedAggregates, latestSharedCheckpoint } from '../../soak/aggregates';
import { checkTables, diagnose, tableFacts } from '../../soak/check';
import { ExpectedHistory } from '../../soak/model';
import { createAggregateTable } from '../../soak/pipeline';
import { freshSeed } from '../../soak/prng';
import { runSoak, summaryLine, type SoakReport } from '../../soak/soak';
import { createSinkTables } from '../support/demo-pipeline';
import { paimonQuery, requireStack } from '../support/stack';

Runtime.install({ logger: new DefaultLogger((process.env.TEST_LOG_LEVEL ?? 'WARN') as LogLevel) });
const seed = process.env.SOAK_SEED ? Number(process.env.SOAK_SEED) : freshSeed();

describe('exactly once through upgrades, savepoints and restores (randomized soak on the real stack)', () => {
  it(`3 cycles, seed ${seed}: no id lost, none committed twice, none of the wrong version`, { timeout: 420_000 }, async () => {
    console.log(`exactly-once soak seed=${seed} (replay with SOAK_SEED=${seed})`);
    // runSoak cancels its jobs whatever happens (its finally), so a failure leaves nothing running.
    const report: SoakReport = await runSoak({
      seed,
      cycles: 3,
      minutes: 4,
      database: 'soak_e2e',
      prefix: 'soak-e2e-',
      everyAction: true,
      log: (line) => console.log(line),
    });
    console.log(summaryLine(report));

    expect(report.findings).toEqual([]);
    expect(report.diagnoses).toEqual([]);
    expect(report.cyclesRun).toBe(3);
    expect(report.actions).toEqual({ savepoint: 1, upgrade: 1, restore: 1 });
    expect({ lost: report.lost, duplicated: report.duplicated, wrongVersion: report.wrongVersion }).toEqual({ lost: 0, duplicated: 0, wrongVersion: 0 });
    for (const cycle of report.cycles) {
      for (const c of cycle.checks) {
        // ids 1..max, each once, and the running version got past the point it started after
        expect({ min: c.minId, rows: c.rows, distinct: c.distinctIds, emitted: c.emitted }).toEqual({ min: 1, rows: c.maxId, distinct: c.maxId, emitted: c.maxId });
      }
    }
    for (const cycle of report.cycles) {
      // every cycle reads the aggregates at least at the latest checkpoint both tables share,
      // and a savepoint or an upgrade also at the tag it made
      expect(cycle.aggregates.length, `cycle ${cycle.cycle}`).toBeGreaterThanOrEqual(cycle.action === 'restore' ? 1 : 2);
      for (const a of cycle.aggregates) {
        expect(a.wrong, `cycle ${cycle.cycle} at ${a.at}`).toEqual([]);
        expect(a.maxId, `cycle ${cycle.cycle} at ${a.at}`).toBeGreaterThanOrEqual(7);
        expect(a.keys).toBe(7);
      }
    }
    expect(report.aggregatesWrong).toBe(0);
    expect(report.aggregatesChecked).toBe(report.cycles.flatMap((c) => c.aggregates).reduce((n, a) => n + a.keys, 0));
    expect(report.rowsChecked).toBe(report.cycles.flatMap((c) => c.checks).reduce((n, c) => n + c.rows, 0));
    expect(report.rowsChecked).toBeGreaterThan(0);
    expect(report.ok).toBe(true);
  });

  it('the check itself sees a lost id, an id committed twice and a payload of the wrong version (a table written by hand)', async () => {
    await requireStack();
    await createSinkTables('soak_e2e', ['control']);
    const table = 'soak_e2e.control';
    const rows = (ids: number[], version: (id: number) => string) => ids.map((id) => `(CAST(${id} AS BIGINT), '${version(id)}:${id}')`).join(', ');
    // v1 wrote 1..10 and v2 from 11 on; but id 4 never arrives, id 7 carries v2, and id 9 is committed again.
    await paimonQuery("SET 'table.dml-sync' = 'true'", `INSERT INTO \`soak_e2e\`.\`control\` VALUES ${rows([1, 2, 3, 5, 6, 7, 8, 9, 10], (id) => (id === 7 ? 'v2' : 'v1'))}`);
    await paimonQuery("SET 'table.dml-sync' = 'true'", `INSERT INTO \`soak_e2e\`.\`control\` VALUES ${rows([9, 11, 12], (id) => (id === 9 ? 'v1' : 'v2'))}`);
    const model = new ExpectedHistory('v1');
    model.upgraded(10, 'v2');
    const facts = await tableFacts([table]);
    const snapshot = facts.get(table)!.latestSnapshotId;

    const [check] = await checkTables([table], () => snapshot, model);
    expect(check).toMatchObject({ rows: 11, distinctIds: 11, minId: 1, maxId: 12, emitted: 12, lost: 1, duplicated: 1, wrongVersion: 1 });
    expect(await diagnose(table, snapshot, model)).toEqual({
      table,
      present: ['1..3', '5..12'],
      committedTwice: ['9 x2'],
      wrongVersion: ['7..7: v2 (expected v1)'],
    });
    await paimonQuery('DROP TABLE IF EXISTS `soak_e2e`.`control`');
  });

  it('what ids 1..max give per key is the brute-force count, sum and max', () => {
    for (const max of [0, 1, 6, 7, 8, 13, 14, 100, 12345]) {
      const brute = new Map<number, { k: number; cnt: number; total: number; maxId: number }>();
      for (let id = 1; id <= max; id++) {
        const a = brute.get(id % 7) ?? { k: id % 7, cnt: 0, total: 0, maxId: 0 };
        brute.set(id % 7, { k: a.k, cnt: a.cnt + 1, total: a.total + id, maxId: id });
      }
      expect(expectedAggregates(max, 7), `max ${max}`).toEqual([...brute.values()].sort((a, b) => a.k - b.k));
    }
    expect(compareAggregates(expectedAggregates(20, 7), expectedAggregates(20, 7))).toEqual([]);
    expect(compareAggregates(expectedAggregates(20, 7), expectedAggregates(19, 7))).toEqual(['k=6: cnt 2 sum 19 max 13, expected cnt 3 sum 39 max 20']);
  });

  it('the aggregate check sees an id applied twice and one lost, also when no count and no key changes (tables written by hand)', { timeout: 240_000 }, async () => {
    await requireStack();
    await createSinkTables('soak_e2e', ['control_seq']);
    await createAggregateTable('soak_e2e', 'control_agg');
    // One bounded datagen sequence per insert: a VALUES list of 20 rows asked the busy cluster for
    // 512 network buffers and was refused.
    const ids = (n: number) =>
      `CREATE TEMPORARY TABLE ids (id BIGINT) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '${n}', 'number-of-rows' = '${n}')`;
    await paimonQuery("SET 'table.dml-sync' = 'true'", ids(20), "INSERT INTO `soak_e2e`.`control_seq` SELECT id, CONCAT('v1:', CAST(id AS STRING)) FROM ids");
    // seq holds ids 1..20; the aggregates are of a stream in which id 10 came twice (k=3: 3, 10,
    // 10, 17) and id 5 was lost while id 12 came twice (k=5: 12, 12, 19): that key's count, and the
    // number of keys, are what ids 1..20 give; only its sum is off.
    await paimonQuery(
      "SET 'table.dml-sync' = 'true'",
      ids(21),
      'INSERT INTO `soak_e2e`.`control_agg` SELECT CAST(MOD(id, 7) AS INT), COUNT(*), SUM(id), MAX(id) ' +
        'FROM (SELECT CASE id WHEN 21 THEN 10 WHEN 5 THEN 12 ELSE id END AS id FROM ids) GROUP BY CAST(MOD(id, 7) AS INT)',
    );

    const point = await latestSharedCheckpoint('soak_e2e.control_seq', 'soak_e2e.control_agg');
    expect(point).not.toBeNull();
    const [check] = await checkAggregates('soak_e2e.control_seq', 'soak_e2e.control_agg', 7, [point!]);
    expect(check).toMatchObject({ maxId: 20, sequenceRows: 20, sequenceDistinct: 20, sequenceMin: 1, keys: 7 });
    expect(check!.wrong).toEqual([
      'k=3: cnt 4 sum 40 max 17, expected cnt 3 sum 30 max 17',
      'k=5: cnt 3 sum 43 max 19, expected cnt 3 sum 36 max 19',
    ]);
    await paimonQuery('DROP TABLE IF EXISTS `soak_e2e`.`control_seq`', 'DROP TABLE IF EXISTS `soak_e2e`.`control_agg`');
  });
});
