// Production topology: three worker processes on one task queue, Temporal's server on PostgreSQL.
// A restore to savepoint A waits for approval when the Temporal server is stopped (SIGTERM, as a
// rolling restart does) and started again; after the approval it is killed (SIGKILL, as a crash)
// in the middle of the run and started again. Workflow state lives in PostgreSQL, so the same
// run goes on: `restored`, one savepoint per trigger (A's, and today's at the writer's stop),
// A's tag once per table, one live job, and every id once, continuing right after A.
import { readdir } from 'node:fs/promises';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { localPath } from '../../activities/catalog/store';
import { restorePlan } from '../../src/client/approval';
import { startRestore } from '../../src/client/start-restore';
import type { TakeSavepointResult } from '../../src/domain/savepoint-input';
import type { RestoreResult } from '../../workflows/restore-messages';
import { liveJobsNamed } from '../support/demo-pipeline';
import { config, flinkGet, until } from '../support/stack';
import { bundleWorkflows, unique } from '../support/temporal-env';
import { anyActivityRunning, expectIdsOnce, maxIds, operationScene, pipeline, restartTemporalServer, resultThroughRestarts, savepointTags, startV1 } from './fixture';
import { approveSigned } from '../support/approvals';

const P = pipeline('restore');

/** Calls `ask` until the server answers again (a restart drops connections for a while). */
const whenServerAnswers = <T>(what: string, ask: () => Promise<T | undefined>) =>
  until(what, 180_000, () => ask().catch(() => undefined));

describe('production: the Temporal server restarted during a restore (3 workers, PostgreSQL-backed server)', () => {
  const scene = operationScene(P, 'prod-restore');
  const { pool } = scene;

  it('restored after a restart while it waits for approval and a crash mid-run: the same run, ids once', { timeout: 900_000 }, async () => {
    const [oldJobId] = await Promise.all([startV1(P), pool.fill()]);
    const pointA: TakeSavepointResult = await scene.client.workflow.execute('takeSavepointWorkflow', {
      taskQueue: pool.taskQueue,
      workflowId: unique('prod-restore-point'),
      args: [{ job: { jobName: P.jobName }, tables: P.sinks, options: { label: 'prod restore A', tagTimeout: '2m' } }],
    });
    expect(pointA).toMatchObject({ restorable: true });
    const atA = await maxIds(P, pointA.tag);
    await until('rows past A', 90_000, async () => ((await maxIds(P)).every((hi, i) => hi > atA[i]! + 20) ? true : undefined));

    const handle = await startRestore(
      scene.client,
      {
        job: { jobName: P.jobName },
        deployment: { kind: 'sql', version: 'v1', scriptFile: P.script('pipeline-v1.sql') },
        sinkTables: P.sinks,
        restorePoint: { savepointId: pointA.savepointId },
        options: { approvers: ['ops-bob'], requestedBy: 'ops-alice', approvalTimeout: '30m', savepointTimeout: '3m', tagTimeout: '2m', healthTimeout: '3m' },
      },
      { taskQueue: pool.taskQueue },
    );
    const plan = await whenServerAnswers('the restore to wait for approval', () => restorePlan(scene.client, { jobName: P.jobName }));

    const waiting = await restartTemporalServer('SIGTERM');
    console.log(`restore: Temporal server restarted (SIGTERM) while waiting for approval, back after ${(waiting.downMs / 1000).toFixed(1)} s`);
    const planAfter = await whenServerAnswers('the plan after the restart', () => restorePlan(scene.client, { jobName: P.jobName }));
    expect(planAfter?.version).toBe(plan!.version);
    const answer = await whenServerAnswers('the approval', () =>
      approveSigned(scene.client, { jobName: P.jobName }, { approver: 'ops-bob', comment: 'prod suite', planVersion: plan!.version }),
    );
    expect(answer).toEqual({ planVersion: plan!.version, outcome: 'proceeding' });

    // Mid-run: as soon as the writer is being stopped or the tag awaited, the server crashes.
    const step = await Promise.any(
      ['stopWithSavepoint', 'awaitTag', 'rollbackToTag'].map((type) => anyActivityRunning([handle], type, 120_000).then(() => type)),
    );
    const crashed = await restartTemporalServer('SIGKILL');
    console.log(`restore: Temporal server SIGKILLed during ${step}, back after ${(crashed.downMs / 1000).toFixed(1)} s`);

    const result = await resultThroughRestarts<RestoreResult>(handle);
    const { runId, status } = await scene.client.workflow.getHandle(handle.workflowId).describe();
    expect({ runId, status: status.name }).toEqual({ runId: handle.firstExecutionRunId, status: 'COMPLETED' });
    expect(result).toMatchObject({ status: 'restored', approval: { approver: 'ops-bob' } });

    // Two triggers on the old job (A, and today's at the stop), two savepoints. Flink's checkpoint
    // history keeps the last 10 entries (web.checkpoints.history): A is compared only while in it.
    const stats = await flinkGet<{ history: { is_savepoint: boolean; id: number }[] }>(`/jobs/${oldJobId}/checkpoints`);
    const oldest = Math.min(...stats.history.map((c) => c.id));
    expect(stats.history.filter((c) => c.is_savepoint).map((c) => c.id).sort((a, b) => a - b)).toEqual(
      [pointA.savepointId, result.todaysSavepoint!.savepointId].filter((id) => id >= oldest).sort((a, b) => a - b),
    );
    expect(stats.history.map((c) => c.id)).toContain(result.todaysSavepoint!.savepointId);
    const dirs = (await readdir(localPath(config.flink.savepointDir, 'savepoint dir'))).filter((d) => d.startsWith(`savepoint-${oldJobId.slice(0, 6)}-`));
    expect(dirs).toHaveLength(2);
    expect((await liveJobsNamed(P.jobName)).map((j) => j.jid)).toEqual([result.newJobId]);
    // The rollback removed today's tag with the snapshots after A; A's tag stays, once.
    expect(await savepointTags(P)).toEqual([[pointA.tag], [pointA.tag]]);

    // Resumed from A: the ids go on right after A's, none lost, none twice.
    await until('the restored job to write past A', 120_000, async () => ((await maxIds(P)).every((hi, i) => hi > atA[i]! + 20) ? true : undefined));
    await expectIdsOnce(P, [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], 'v1');

    // The history PostgreSQL kept through both restarts replays on today's workflow code.
    const history = await handle.fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: await bundleWorkflows() }, history, handle.workflowId);
    console.log(`restore: its history (${history.events?.length} events) replayed on today's workflow code`);
  });
});
