// Fault: the SQL gateway dies (SIGKILL of the real gateway process) while the restore workflow
// rolls the sink tables back, and comes back through `stack.sh up`. Every Paimon call goes through
// the gateway. Acceptable ends: the restore retried and completed, or it stopped with a message
// that says exactly which tables were rolled back and which not and what to do next. Either
// way the tables must really be in the state the workflow reports: never an undescribed mix.
import { rm } from 'node:fs/promises';
import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { RestorePointStore } from '../../activities/catalog/store';
import { restorePlan } from '../../src/client/approval';
import { startRestore } from '../../src/client/start-restore';
import type { TakeSavepointResult } from '../../src/domain/savepoint-input';
import type { RestoreResult } from '../../workflows/restore-messages';
import { liveJobsNamed } from '../support/demo-pipeline';
import { pidOf, stackUp, stopProcess } from '../support/stack-process';
import { config, paimonQuery, until } from '../support/stack';
import { unique } from '../support/temporal-env';
import { startWorkerProcess } from '../support/worker-process';
import { activityRunning, DATABASE, expectIdsOnce, faultScene, JOB_PREFIX, maxIds, script, SINKS, startV1, TABLES } from './fixture';
import { approveSigned } from '../support/approvals';


/** Latest snapshot of each table, and the snapshot a tag points at. */
async function snapshots(tag: string): Promise<{ latest: Map<string, number>; atTag: Map<string, number> }> {
  const q = (sql: (t: string) => string) => paimonQuery(TABLES.map(sql).join(' UNION ALL '));
  const latest = await q((t) => `SELECT '${DATABASE}.${t}' AS t, MAX(snapshot_id) AS s FROM \`${DATABASE}\`.\`${t}$snapshots\``);
  const atTag = await q((t) => `SELECT '${DATABASE}.${t}' AS t, snapshot_id AS s FROM \`${DATABASE}\`.\`${t}$tags\` WHERE tag_name = '${tag}'`);
  const byTable = (rows: Record<string, unknown>[]) => new Map(rows.map((r) => [String(r.t), Number(r.s)]));
  return { latest: byTable(latest), atTag: byTable(atTag) };
}

/** The table lists of a restore that stopped half-way (workflows/restore-rollback.ts rollBack). */
function halfWayLists(reason: string): { done: string[]; notDone: string[] } | undefined {
  const m = /Rolled back to savepoint-\d+: (.*?); NOT rolled back: (.*?)\. No job was started\./.exec(reason);
  const list = (s: string) => (s === 'none' ? [] : s.split(', '));
  return m ? { done: list(m[1]!), notDone: list(m[2]!) } : undefined;
}

describe('fault: SQL gateway killed during the restore rollback (real gateway, SIGKILL, restarted by stack.sh up)', () => {
  const scene = faultScene('gateway-down', {
    bringBack: stackUp,
    cleanUp: () => rm(new RestorePointStore(config.flink.savepointDir).jobDir(`${JOB_PREFIX}gateway-down`), { recursive: true, force: true }),
  });
  const { jobName: JOB_NAME, taskQueue } = scene;


  it('ends restored, or stopped naming the tables rolled back and not; the tables are in exactly that state', async () => {
    [, scene.worker] = await Promise.all([startV1(JOB_NAME), startWorkerProcess(taskQueue)]);
    const pointA: TakeSavepointResult = await scene.client.workflow.execute('takeSavepointWorkflow', {
      taskQueue,
      workflowId: unique(`${JOB_NAME}-savepoint`),
      args: [{ job: { jobName: JOB_NAME }, tables: SINKS, options: { label: 'fault test A', tagTimeout: '2m' } }],
    });
    expect(pointA).toMatchObject({ restorable: true, missingTags: [] });
    const maxAtA = await maxIds(pointA.tag);
    await until('rows past A in both tables', 60_000, async () =>
      (await maxIds()).every((hi, i) => hi > maxAtA[i]! + 30) ? true : undefined,
    );

    const handle = await startRestore(
      scene.client,
      {
        job: { jobName: JOB_NAME },
        deployment: { kind: 'sql', version: 'v1', scriptFile: script('pipeline-v1.sql', JOB_NAME) },
        sinkTables: SINKS,
        restorePoint: { savepointId: pointA.savepointId },
        options: { approvers: ['ops-bob'], requestedBy: 'ops-alice', approvalTimeout: '5m', tagTimeout: '2m', healthTimeout: '2m' },
      },
      { taskQueue },
    );
    const plan = await until('the restore to wait for approval', 120_000, () => restorePlan(scene.client, { jobName: JOB_NAME }).catch(() => undefined));
    await approveSigned(scene.client, { jobName: JOB_NAME }, { approver: 'ops-bob', comment: 'fault test', planVersion: plan.version });

    await activityRunning(handle, 'rollbackToTag');
    const gatewayPid = pidOf('sql-gateway');
    await stopProcess('sql-gateway', 'SIGKILL');
    // Let the retries meet a dead gateway for a while before it comes back.
    await new Promise((r) => setTimeout(r, 5_000));
    await stackUp();
    expect(pidOf('sql-gateway')).not.toBe(gatewayPid);

    const outcome = await handle.result().then(
      (result: RestoreResult) => ({ result, reason: undefined }),
      (err: unknown) => {
        if (!(err instanceof WorkflowFailedError)) throw err;
        return { result: undefined, reason: String(err.cause?.message) };
      },
    );
    const { latest, atTag } = await snapshots(pointA.tag);
    const live = await liveJobsNamed(JOB_NAME);

    if (outcome.result) {
      // Retried through the outage and completed: every table at A's snapshot, v1 runs again from A.
      expect(outcome.result.status).toBe('restored');
      for (const t of outcome.result.tables!) expect(t).toMatchObject({ rolledBack: true, snapshotId: atTag.get(t.table) });
      expect(live.map((j) => j.jid)).toEqual([outcome.result.newJobId]);
      await until('the restored job to write past A', 90_000, async () =>
        (await maxIds()).every((hi, i) => hi > maxAtA[i]! + 20) ? true : undefined,
      );
      await expectIdsOnce([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], 'v1');
      return;
    }

    // Stopped: the message must name every table as rolled back or not, and say what to do.
    const reason = outcome.reason!;
    const lists = halfWayLists(reason) ?? (/^every sink table was rolled back to/.test(reason) ? { done: SINKS, notDone: [] } : undefined);
    expect(lists, `a stop that describes the tables, got: ${reason}`).toBeDefined();
    expect([...lists!.done, ...lists!.notDone].sort()).toEqual([...SINKS].sort());
    expect(reason).toContain(pointA.path); // where to start the job from
    expect(reason).toMatch(/undo/i);
    for (const table of lists!.notDone) expect(reason).toContain(`CALL sys.rollback_to(\`table\` => '${table}'`);
    // And the described state is the real one.
    for (const table of lists!.done) expect(latest.get(table), table).toBe(atTag.get(table));
    for (const table of lists!.notDone) expect(latest.get(table)!, table).toBeGreaterThan(atTag.get(table)!);
    if (halfWayLists(reason)) expect(live).toEqual([]); // "No job was started"
  }, 420_000);
});
