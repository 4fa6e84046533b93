// One operation per Flink job, whatever its kind (#26 item 4): savepoints and retention's
// deletions run under the job's operation id (flink-job/<job name>) like upgrades and restores, so
// the server's one-running-workflow-per-id rule keeps them apart however a run was started and
// named. Fake Flink and Paimon (test/support/fake-stack.ts), the real describe of the running
// operation (activities/catalog/in-use.ts), on a dev server.
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { describeOperation } from '../../activities/catalog/in-use';
import type { Activities } from '../../activities/contract';
import { OperationAlreadyRunningError, startUpgrade } from '../../src/client/start-upgrade';
import { createSavepointSchedule, deleteSavepointSchedule, describeSavepointSchedule, triggerSavepointSchedule } from '../../src/client/schedules';
import { retentionWorkflowId } from '../../src/domain/job-name';
import type { RetentionResult } from '../../src/domain/retention-input';
import type { SavepointSkipped, TakeSavepointOutcome, TakeSavepointResult } from '../../src/domain/savepoint-input';
import { operationStepKey, operationWorkflowId, WorkflowFailureType } from '../../workflows/messages';
import { FakeStack, type ActivityName } from '../support/fake-stack';
import { DAY, fakeCatalog, point } from '../support/restore-point-fakes';
import { unique, useWorkflowTestEnv } from '../support/temporal-env';
import { failureOf, TABLES, upgradeInput } from './fixtures';

const temporal = useWorkflowTestEnv();

/** What a savepoint or retention run may change on Flink or Paimon. */
const ACTING: ActivityName[] = ['triggerSavepoint', 'stopWithSavepoint', 'deleteTag', 'disposeSavepoint', 'deleteSavepointDirectory', 'markRestorePointExpiring'];

/** A worker whose activities are the fake stack's (and `extra`), for as long as `fn` runs. */
async function withWorker<T>(activities: Partial<Activities>, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = unique('one-op');
  const worker = await Worker.create({
    connection: temporal.env.nativeConnection,
    taskQueue,
    workflowBundle: temporal.bundle,
    activities: { ...activities, describeOperation },
  });
  return worker.runUntil(fn(taskQueue));
}

async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await probe();
    if (ok(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** An upgrade of the stack's job, held in stopping-with-savepoint until the returned function is called. */
async function upgradeBeingStopped(stack: FakeStack, taskQueue: string): Promise<{ handle: WorkflowHandle; release: () => void }> {
  const release = stack.hold('stopWithSavepoint');
  const handle = await startUpgrade(temporal.client, upgradeInput(stack.options.jobName), { taskQueue });
  await until(
    async () => (await handle.describe()).typedSearchAttributes.get(operationStepKey),
    (step) => step === 'stopping-with-savepoint',
    'the upgrade to stop the job',
  );
  return { handle, release };
}

const savepointInput = (jobName: string) => ({ job: { jobName }, tables: TABLES, options: { tagTimeout: '10s' } });

describe('a savepoint during an upgrade of the same job', () => {
  it('started under its own id (the UI, a script): refused before Flink is touched, naming the upgrade (type, id, run, start time)', async () => {
    const jobName = unique('busy');
    const stack = new FakeStack({ jobName });
    await withWorker(stack.activities(), async (taskQueue) => {
      const { handle: upgrade, release } = await upgradeBeingStopped(stack, taskQueue);
      const started = await upgrade.describe();
      const callsBefore = stack.calls.length;
      const failure = await failureOf(
        temporal.client.workflow.execute('takeSavepointWorkflow', { taskQueue, workflowId: unique('ui-typed-savepoint'), args: [savepointInput(jobName)] }),
      );
      expect(failure.type).toBe(WorkflowFailureType.OperationRunning);
      expect(failure.message).toBe(
        `job '${jobName}' already has an operation running: upgradeWorkflow '${operationWorkflowId({ jobName })}' ` +
          `(run ${started.runId}, started ${started.startTime.toISOString()}). ` +
          'This savepoint was refused and nothing was sent to Flink: take it once that operation has ended.',
      );
      // Not one call on Flink or Paimon: the job's name was given, so nothing needed looking up.
      expect(stack.calls.slice(callsBefore)).toEqual([]);
      release();
      expect((await upgrade.result()).status).toBe('upgraded');
    });
    expect(stack.callsOf('triggerSavepoint')).toEqual([]);
    expect(stack.callsOf('stopWithSavepoint')).toHaveLength(1);
  });

  it('fired by its schedule: skipped, the result says why and names the upgrade, and no savepoint is triggered', async () => {
    const jobName = unique('busy-scheduled');
    const stack = new FakeStack({ jobName });
    const result = await withWorker(stack.activities(), async (taskQueue) => {
      const { handle: upgrade, release } = await upgradeBeingStopped(stack, taskQueue);
      const started = await upgrade.describe();
      await createSavepointSchedule(temporal.client, { savepoint: savepointInput(jobName), cron: '0 3 * * *', paused: true }, { taskQueue });
      try {
        await triggerSavepointSchedule(temporal.client, jobName);
        const { recentActions } = await until(
          () => describeSavepointSchedule(temporal.client, jobName),
          (s) => s.recentActions.length > 0,
          'the schedule to start its run',
        );
        const outcome: TakeSavepointOutcome = await temporal.client.workflow.getHandle(recentActions[0]!.workflowId).result();
        release();
        await upgrade.result();
        return { outcome, started };
      } finally {
        await deleteSavepointSchedule(temporal.client, jobName);
      }
    });
    const skipped = result.outcome as SavepointSkipped;
    expect(skipped).toEqual({
      jobName,
      skipped: {
        reason:
          `job '${jobName}' already has an operation running: upgradeWorkflow '${operationWorkflowId({ jobName })}' ` +
          `(run ${result.started.runId}, started ${result.started.startTime.toISOString()}); this scheduled savepoint was skipped ` +
          "and nothing was sent to Flink (the schedule's next run takes one)",
        runningOperation: {
          workflowId: operationWorkflowId({ jobName }),
          workflowType: 'upgradeWorkflow',
          runId: result.started.runId,
          startTime: result.started.startTime.toISOString(),
        },
      },
    });
    expect(stack.callsOf('triggerSavepoint')).toEqual([]);
  });
});

describe('a savepoint started under another id when the job is free', () => {
  it('takes the savepoint as a child under the job operation id, so an upgrade asked meanwhile is refused naming it', async () => {
    const jobName = unique('free');
    const stack = new FakeStack({ jobName });
    const operationId = operationWorkflowId({ jobName });
    await withWorker(stack.activities(), async (taskQueue) => {
      const releaseTrigger = stack.hold('triggerSavepoint');
      const parent = await temporal.client.workflow.start('takeSavepointWorkflow', {
        taskQueue,
        workflowId: unique('savepoint-parent'),
        args: [savepointInput(jobName)],
      });
      await until(async () => stack.callsOf('triggerSavepoint').length, (n) => n === 1, 'the savepoint to be triggered');
      const child = await temporal.client.workflow.getHandle(operationId).describe();
      expect(child.type).toBe('takeSavepointWorkflow');
      expect(child.status.name).toBe('RUNNING');

      const refusal = await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue }).then(
        () => expect.fail('the upgrade started while a savepoint held the job'),
        (e: unknown) => e,
      );
      expect(refusal).toBeInstanceOf(OperationAlreadyRunningError);
      expect((refusal as Error).message).toBe(
        `job '${jobName}' already has an operation running: takeSavepointWorkflow '${operationId}' ` +
          `(run ${child.runId}, started ${child.startTime.toISOString()}). Wait for it to finish or cancel it, then start again.`,
      );
      releaseTrigger();
      const result = (await parent.result()) as TakeSavepointResult;
      expect(result).toMatchObject({ jobName, restorable: true, tag: `savepoint-${result.savepointId}` });
      // The parent returned the child's result; the child ran under the job's id.
      expect(await temporal.client.workflow.getHandle(operationId, child.runId).result()).toEqual(result);
    });
    expect(stack.callsOf('stopWithSavepoint')).toEqual([]);
    expect(stack.callsOf('triggerSavepoint')).toHaveLength(1);
  });

  it('a job given by id has the key of its name: the savepoint runs under flink-job/<name>', async () => {
    const jobName = unique('by-id');
    const stack = new FakeStack({ jobName });
    await withWorker(stack.activities(), async (taskQueue) => {
      const parent = await temporal.client.workflow.start('takeSavepointWorkflow', {
        taskQueue,
        workflowId: unique('savepoint-by-id'),
        args: [{ ...savepointInput(jobName), job: { jobId: stack.initialJobId } }],
      });
      const result = (await parent.result()) as TakeSavepointResult;
      expect(result.jobName).toBe(jobName);
      const child = await temporal.client.workflow.getHandle(operationWorkflowId({ jobName })).describe();
      expect(child.type).toBe('takeSavepointWorkflow');
      expect(child.status.name).toBe('COMPLETED');
    });
    expect(stack.callsOf('resolveJob')[0]).toEqual({ job: { jobId: stack.initialJobId } });
    expect(stack.callsOf('triggerSavepoint')).toHaveLength(1);
  });

  it("a savepoint's failure comes back with its own type and message, not as a failed child", async () => {
    const jobName = unique('refused-child');
    const stack = new FakeStack({ jobName, jobState: 'RESTARTING' });
    const failure = await withWorker(stack.activities(), (taskQueue) =>
      failureOf(temporal.client.workflow.execute('takeSavepointWorkflow', { taskQueue, workflowId: unique('savepoint-parent'), args: [savepointInput(jobName)] })),
    );
    expect(failure.type).toBe(WorkflowFailureType.JobNotRunning);
    expect(failure.message).toMatch(/is RESTARTING, not RUNNING/);
  });
});

describe('retention during an upgrade of the same job', () => {
  it('skips (it does not wait): nothing listed, decided or deleted, and the result names the upgrade', async () => {
    const jobName = unique('busy-retention');
    const stack = new FakeStack({ jobName });
    const catalog = fakeCatalog([point(1, 3 * DAY, { jobName }), point(2, 2 * DAY, { jobName }), point(3, DAY, { jobName })]);
    await withWorker({ ...stack.activities(), ...catalog.activities }, async (taskQueue) => {
      const { handle: upgrade, release } = await upgradeBeingStopped(stack, taskQueue);
      const started = await upgrade.describe();
      const result: RetentionResult = await temporal.client.workflow.execute('retentionWorkflow', {
        taskQueue,
        workflowId: retentionWorkflowId(jobName),
        args: [{ jobName, policy: { keepLast: 1 } }],
      });
      expect(result).toEqual({
        jobName,
        dryRun: false,
        decisions: [],
        deleted: [],
        failed: [],
        skipped: {
          reason:
            `job '${jobName}' already has an operation running: upgradeWorkflow '${operationWorkflowId({ jobName })}' ` +
            `(run ${started.runId}, started ${started.startTime.toISOString()}); retention was skipped and deleted nothing ` +
            '(run it again once that operation has ended)',
          runningOperation: expect.objectContaining({ workflowType: 'upgradeWorkflow', runId: started.runId }),
        },
      });
      expect(catalog.calls).toEqual([]);

      // A dry run deletes nothing: it runs beside the upgrade and says what it would do.
      const dry: RetentionResult = await temporal.client.workflow.execute('retentionWorkflow', {
        taskQueue,
        workflowId: unique('retention-dry'),
        args: [{ jobName, policy: { keepLast: 1 }, dryRun: true }],
      });
      expect(dry.skipped).toBeUndefined();
      expect(dry.decisions.filter((d) => d.action === 'delete').map((d) => d.savepointId)).toEqual([2, 1]);

      release();
      await upgrade.result();
      // Once the upgrade ended, the same run deletes.
      const after: RetentionResult = await temporal.client.workflow.execute('retentionWorkflow', {
        taskQueue,
        workflowId: retentionWorkflowId(jobName),
        args: [{ jobName, policy: { keepLast: 1 } }],
      });
      expect(after.skipped).toBeUndefined();
      expect(after.deleted).toEqual([1, 2]);
    });
    const acting = stack.calls.filter((c) => ACTING.includes(c.name)).map((c) => c.name);
    expect(acting).toEqual(['stopWithSavepoint']);
  });

  it('the retention a savepoint runs after itself runs under that savepoint, which holds the job', async () => {
    const jobName = unique('savepoint-then-retention');
    const stack = new FakeStack({ jobName });
    const catalog = fakeCatalog([point(1, 3 * DAY, { jobName }), point(2, 2 * DAY, { jobName })]);
    const result = await withWorker({ ...stack.activities(), ...catalog.activities }, (taskQueue) =>
      temporal.client.workflow.execute('takeSavepointWorkflow', {
        taskQueue,
        workflowId: unique('savepoint-with-retention'),
        args: [{ ...savepointInput(jobName), retention: { keepLast: 1 } }],
      }),
    );
    expect(result.retentionError).toBeUndefined();
    expect(result.retention).toMatchObject({ jobName, dryRun: false, deleted: [1] });
    expect(result.retention.skipped).toBeUndefined();
  });
});

describe('an upgrade asked while retention deletes', () => {
  it('is refused, naming the retention run', async () => {
    const jobName = unique('retention-holds');
    const stack = new FakeStack({ jobName });
    const catalog = fakeCatalog([point(1, 3 * DAY, { jobName }), point(2, 2 * DAY, { jobName })]);
    let releaseList!: () => void;
    const listing = new Promise<void>((resolve) => (releaseList = resolve));
    const activities = {
      ...stack.activities(),
      ...catalog.activities,
      listRestorePoints: async (input: { jobName: string }) => {
        await listing;
        return catalog.activities.listRestorePoints(input as never);
      },
    };
    await withWorker(activities, async (taskQueue) => {
      const retention = await temporal.client.workflow.start('retentionWorkflow', {
        taskQueue,
        workflowId: retentionWorkflowId(jobName),
        args: [{ jobName, policy: { keepLast: 1 } }],
      });
      const operationId = operationWorkflowId({ jobName });
      const child = await until(
        () => temporal.client.workflow.getHandle(operationId).describe().catch(() => undefined),
        (d) => d?.status.name === 'RUNNING',
        'retention to take the job',
      );
      const refusal = await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue }).then(
        () => expect.fail('the upgrade started while retention held the job'),
        (e: unknown) => e,
      );
      expect((refusal as Error).message).toContain(`retentionWorkflow '${operationId}' (run ${child!.runId}, started `);
      releaseList();
      expect(((await retention.result()) as RetentionResult).deleted).toEqual([1]);
    });
    expect(stack.callsOf('stopWithSavepoint')).toEqual([]);
  });
});
