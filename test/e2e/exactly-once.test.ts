// The exactly-once soak, small: 3 cycles on the REAL stack with each of upgrade, savepoint and
// restore-to-a-random-restorable-point at least once, in an order the seed decides (printed, and
// replayable with SOAK_SEED). After every cycle both sink tables must hold ids 1..max each once,
// nothing committed twice, each payload from the version that was running when its id was
// emitted. The long run is `npm run soak` (soak/main.ts).
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { checkTables, diagnose, tableFacts } from '../../soak/check';
import { ExpectedHistory } from '../../soak/model';
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
});
