// One operation per Flink job on the real stack (#26 items 4 and 6): a savepoint asked while an
// upgrade of the job stops it is refused before it reaches Flink, and Flink's checkpoint history
// shows the upgrade's one savepoint only; a schedule firing while a restore of the job waits for
// approval is skipped and says why, and Flink takes no savepoint; retention's deletions skip too.
// Own database `badinput_oneop`, own job `badinput-oneop-*`, own task queue (fixture.ts).
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSavepointSchedule, deleteSavepointSchedule, describeSavepointSchedule, triggerSavepointSchedule } from '../../src/client/schedules';
import { startRestore } from '../../src/client/start-restore';
import { startUpgrade } from '../../src/client/start-upgrade';
import { restorePlan } from '../../src/client/approval';
import type { TakeSavepointOutcome } from '../../src/domain/savepoint-input';
import { operationStepKey, operationWorkflowId, type UpgradeResult } from '../../workflows/messages';
import { restoreStatusQuery } from '../../workflows/restore-messages';
import { flinkGet, until } from '../support/stack';
import { unique } from '../support/temporal-env';
import { startBadInputStack, upgradeOf, type BadInputStack } from './fixture';
import { refusalOf } from './refusal';

let stack: BadInputStack;

interface CheckpointEntry {
  id: number;
  status: string;
  is_savepoint: boolean;
  checkpoint_type: string;
  trigger_timestamp: number;
}

/** The savepoints in Flink's checkpoint history of a job (GET /jobs/:id/checkpoints), oldest first. */
async function savepointsOf(jobId: string): Promise<Pick<CheckpointEntry, 'id' | 'status' | 'checkpoint_type'>[]> {
  const { history } = await flinkGet<{ history: CheckpointEntry[] }>(`/jobs/${jobId}/checkpoints`);
  return history
    .filter((c) => c.is_savepoint)
    .sort((a, b) => a.id - b.id)
    .map(({ id, status, checkpoint_type }) => ({ id, status, checkpoint_type }));
}

/**
 * Flink's latest completed savepoint of a job, and every savepoint (any status) its history window
 * (the last web.checkpoints.history entries) shows after `afterId`.
 */
async function savepointsSince(jobId: string, afterId: number): Promise<{ latestSavepointId: number | null; newer: CheckpointEntry[] }> {
  const { history, latest } = await flinkGet<{ history: CheckpointEntry[]; latest: { savepoint: { id: number } | null } }>(`/jobs/${jobId}/checkpoints`);
  return { latestSavepointId: latest.savepoint?.id ?? null, newer: history.filter((c) => c.is_savepoint && c.id > afterId) };
}

/**
 * Live jobs not of this file (other suites, the demo) that may write tables named seq_a/seq_b in
 * their own databases: named as not writers, as options.notWriters is meant for (Flink's plan names
 * a Paimon writer by table name only), so the stack shared with other suites does not refuse ours.
 */
async function otherLiveJobs(): Promise<string[]> {
  const { jobs } = await flinkGet<{ jobs: { jid: string; name: string; state: string }[] }>('/jobs/overview');
  return jobs.filter((j) => !['CANCELED', 'FINISHED', 'FAILED'].includes(j.state) && !j.name.startsWith(stack.jobPrefix)).map((j) => j.jid);
}

const busyText = (type: string, d: { runId: string; startTime: Date }) =>
  `job '${stack.jobName}' already has an operation running: ${type} '${operationWorkflowId({ jobName: stack.jobName })}' ` +
  `(run ${d.runId}, started ${d.startTime.toISOString()})`;

describe('one operation per job on the real stack', () => {
  /** The job that runs after the upgrade (v2). */
  let upgradedJobId: string;

  beforeAll(async () => {
    stack = await startBadInputStack('oneop');
  });

  afterAll(async () => {
    await deleteSavepointSchedule(stack.client, stack.jobName).catch(() => undefined);
    await stack?.close();
  });

  it('a savepoint asked while an upgrade stops the job is refused, naming the upgrade; Flink sees one savepoint, the upgrade\'s', async () => {
    const input = upgradeOf(stack);
    input.options = { ...input.options, notWriters: await otherLiveJobs() };
    const upgrade = await startUpgrade(stack.client, input, { taskQueue: stack.taskQueue });
    // Asked while the upgrade stops the job with its savepoint, as in the issue (2.5 s into it).
    await until('the upgrade to stop the job', 120_000, async () => {
      const step = (await upgrade.describe()).typedSearchAttributes.get(operationStepKey);
      return step === 'stopping-with-savepoint' ? step : undefined;
    });
    const [cli, ui] = await Promise.all([
      stack.cli('savepoint', '--job-name', stack.jobName, '--table', stack.sinks.join(','), '--wait'),
      // Typed into the Temporal UI under an id of its own.
      refusalOf(
        stack.client.workflow.execute('takeSavepointWorkflow', {
          taskQueue: stack.taskQueue,
          workflowId: unique('oneop-ui-savepoint'),
          args: [{ job: { jobName: stack.jobName }, tables: stack.sinks }],
        }),
      ),
    ]);
    const running = await upgrade.describe();
    expect(running.status.name).toBe('RUNNING');
    const busy = busyText('upgradeWorkflow', running);
    expect(cli.code).toBe(1);
    expect(cli.err).toContain(`savepointctl savepoint: ${busy}`);
    expect(ui).toEqual({
      type: 'OperationRunning',
      message: `${busy}. This savepoint was refused and nothing was sent to Flink: take it once that operation has ended.`,
    });

    const result: UpgradeResult = await upgrade.result();
    expect(result.status).toBe('upgraded');
    upgradedJobId = result.newJobId!;
    stack.savepoints.push(result.savepoint!.path);
    // Flink's own record: the old job's only savepoint is the upgrade's stop-with-savepoint; the
    // new job was asked for none.
    expect(await savepointsOf(stack.jobId)).toEqual([{ id: result.savepoint!.id, status: 'COMPLETED', checkpoint_type: 'SYNC_SAVEPOINT' }]);
    expect(await savepointsOf(upgradedJobId)).toEqual([]);
    expect((await savepointsSince(stack.jobId, result.savepoint!.id)).latestSavepointId).toBe(result.savepoint!.id);
  });

  it('a schedule firing while a restore waits for approval is skipped, says why, and Flink takes no savepoint; retention skips too', async () => {
    // A restore point of the upgraded job, taken by savepointctl now that the job is free.
    const taken = await stack.cli('savepoint', '--job-name', stack.jobName, '--table', stack.sinks.join(','), '--tag-timeout', '90s', '--wait');
    expect(taken.code, taken.err).toBe(0);
    const [, id, path] = /^restore point (\d+): .* savepoint (\S+)$/m.exec(taken.out) ?? [];
    stack.savepoints.push(path!);
    const savepointId = Number(id);
    expect(Number.isInteger(savepointId), taken.out).toBe(true);

    await createSavepointSchedule(
      stack.client,
      { savepoint: { job: { jobName: stack.jobName }, tables: stack.sinks, options: { tagTimeout: '90s' } }, cron: '0 3 * * *', paused: true },
      { taskQueue: stack.taskQueue },
    );
    const restore: WorkflowHandle = await startRestore(
      stack.client,
      {
        job: { jobName: stack.jobName },
        deployment: stack.v2,
        sinkTables: stack.sinks,
        restorePoint: { savepointId },
        options: { approvers: ['oneop-alice'], requestedBy: 'oneop-bob', approvalTimeout: '10m', healthTimeout: '60s', notWriters: await otherLiveJobs() },
      },
      { taskQueue: stack.taskQueue },
    );
    try {
      await until('the restore to wait for approval', 120_000, async () => restorePlan(stack.client, { jobName: stack.jobName }).catch(() => undefined));
      const running = await restore.describe();
      const before = await savepointsSince(upgradedJobId, savepointId);
      expect(before).toEqual({ latestSavepointId: savepointId, newer: [] });

      await triggerSavepointSchedule(stack.client, stack.jobName);
      const action = await until('the schedule to start its run', 60_000, async () => (await describeSavepointSchedule(stack.client, stack.jobName)).recentActions[0]);
      const outcome: TakeSavepointOutcome = await stack.client.workflow.getHandle(action.workflowId, action.runId).result();
      expect(outcome).toEqual({
        jobName: stack.jobName,
        skipped: {
          reason: `${busyText('restoreWorkflow', running)}; this scheduled savepoint was skipped and nothing was sent to Flink (the schedule's next run takes one)`,
          runningOperation: {
            workflowId: operationWorkflowId({ jobName: stack.jobName }),
            workflowType: 'restoreWorkflow',
            runId: running.runId,
            startTime: running.startTime.toISOString(),
          },
        },
      });

      // Retention's deletions skip as well, naming the restore; nothing is deleted.
      const retention = await stack.cli('retention', stack.jobName, '--keep-last', '1', '--apply');
      expect(retention.code).toBe(1);
      expect(retention.err).toContain(`${busyText('restoreWorkflow', running)}; retention was skipped and deleted nothing`);

      // Some checkpoints later, Flink's history of the job shows no savepoint it did not show before.
      await new Promise((resolve) => setTimeout(resolve, 7_000));
      expect(await savepointsSince(upgradedJobId, savepointId)).toEqual(before);
      expect((await stack.client.workflow.getHandle(restore.workflowId).query(restoreStatusQuery)).step).toBe('awaiting-approval');
    } finally {
      // Before any approval the restore changed nothing: ending it leaves the job and the tables as they are.
      await restore.terminate('one-operation test: done').catch(() => undefined);
      await deleteSavepointSchedule(stack.client, stack.jobName).catch(() => undefined);
    }
  });
});
