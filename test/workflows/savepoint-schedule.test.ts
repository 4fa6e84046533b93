// takeSavepointWorkflow against fake activities, started the way production starts it: by the
// job's Temporal Schedule (src/client/schedules.ts), on a real dev server.
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import type { Activities } from '../../activities/contract';
import type { TableRef } from '../../src/domain/model';
import {
  createSavepointSchedule,
  deleteSavepointSchedule,
  describeSavepointSchedule,
  InvalidScheduleInputError,
  listSavepointSchedules,
  pauseSavepointSchedule,
  ScheduleExistsError,
  triggerSavepointSchedule,
  unpauseSavepointSchedule,
} from '../../src/client/schedules';
import { retentionWorkflowId, savepointScheduleId } from '../../src/domain/job-name';
import type { TakeSavepointResult } from '../../src/domain/savepoint-input';
import { DAY, fakeCatalog, fakeJob, point, type FakeJobKnobs } from '../support/restore-point-fakes';
import { unique, useWorkflowTestEnv } from '../support/temporal-env';
import { operationWorkflowId } from '../../workflows/messages';

const TABLES: TableRef[] = ['demo.seq_a', 'demo.seq_b'];

describe('takeSavepointWorkflow, started by its schedule', () => {
  const temporal = useWorkflowTestEnv();

  /** Runs a worker with these activities while `fn` runs. */
  async function withWorker<T>(activities: Partial<Activities>, fn: (taskQueue: string) => Promise<T>): Promise<T> {
    const taskQueue = unique('savepoint');
    const worker = await Worker.create({
      connection: temporal.env.nativeConnection,
      taskQueue,
      workflowBundle: temporal.bundle,
      activities,
    });
    return worker.runUntil(fn(taskQueue));
  }

  /** The next run the schedule starts, after the `known` ones, once it has finished. */
  async function nextScheduledResult(jobName: string, known: number): Promise<TakeSavepointResult> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { recentActions } = await describeSavepointSchedule(temporal.env.client, jobName);
      if (recentActions.length > known) {
        const { workflowId, runId } = recentActions[known]!;
        return temporal.env.client.workflow.getHandle(workflowId, runId).result();
      }
      if (Date.now() > deadline) throw new Error(`schedule of ${jobName} took no action ${known + 1} within 60s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('takes an intermediate savepoint on its interval, waits for the tag on every table, records the restore point', async () => {
    const jobName = unique('interval-job');
    const fake = fakeJob(jobName);
    await withWorker(fake.activities, async (taskQueue) => {
      await createSavepointSchedule(
        temporal.env.client,
        {
          savepoint: {
            job: { jobName },
            tables: TABLES,
            options: { label: 'nightly', deploymentVersion: 'v1', tagTimeout: '30s' },
          },
          every: '2s',
        },
        { taskQueue },
      );
      try {
        const result = await nextScheduledResult(jobName, 0);
        expect(result).toMatchObject({
          jobName,
          savepointId: 40,
          tag: 'savepoint-40',
          restorable: true,
          missingTags: [],
        });
        expect(result.reason).toBeUndefined();
      } finally {
        await deleteSavepointSchedule(temporal.env.client, jobName);
      }
    });

    // The tag names come with the tables' description (one call); no listTags of its own. The job's
    // plan (does it write every table?) is read beside the description.
    const names = fake.calls.slice(0, 7).map((c) => c.name);
    expect([...names.slice(0, 2), names.slice(2, 4).sort(), ...names.slice(4)]).toEqual([
      'resolveJob',
      'requireRecentCheckpoint',
      ['describeSinkTables', 'findTableJobs'],
      'triggerSavepoint',
      'awaitTag',
      'recordRestorePoint',
    ]);
    const input = (name: string) => fake.calls.find((c) => c.name === name)!.input;
    expect(input('resolveJob')).toEqual({ job: { jobName } });
    expect(input('requireRecentCheckpoint')).toEqual({ jobId: 'c'.repeat(32) });
    expect(input('describeSinkTables')).toEqual({ tables: TABLES, withSavepointTags: true });
    expect(input('findTableJobs')).toEqual({ tables: TABLES });
    expect(input('triggerSavepoint')).toMatchObject({ jobId: 'c'.repeat(32), formatType: 'CANONICAL' });
    expect(fake.triggerIds[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(input('awaitTag')).toEqual({ tables: TABLES, tag: 'savepoint-40', timeoutMs: 30_000 });
    expect(fake.records[0]).toMatchObject({
      savepointId: 40,
      jobName,
      tables: TABLES,
      label: 'nightly',
      deploymentVersion: 'v1',
      pinned: false,
      taggedAtRecord: true,
    });
  });

  it('reuses the trigger id when triggerSavepoint is retried, so Flink takes one savepoint, not two', async () => {
    const jobName = unique('retry-job');
    const fake = fakeJob(jobName, { failFirstTrigger: true });
    const result = await withWorker(fake.activities, async (taskQueue) => {
      await createSavepointSchedule(
        temporal.env.client,
        { savepoint: { job: { jobName }, tables: TABLES }, cron: '0 3 * * *', paused: true },
        { taskQueue },
      );
      try {
        // A paused schedule still runs on demand: the operator's "savepoint now".
        await triggerSavepointSchedule(temporal.env.client, jobName);
        return await nextScheduledResult(jobName, 0);
      } finally {
        await deleteSavepointSchedule(temporal.env.client, jobName);
      }
    });
    expect(fake.triggerIds).toHaveLength(2);
    expect(fake.triggerIds[1]).toBe(fake.triggerIds[0]);
    expect(fake.savepoints.size).toBe(1);
    expect(result.savepointId).toBe(40);
    expect(fake.records).toHaveLength(1);
  });

  it('says restorable: false with the reason when the tag did not appear on every table in time, and still records the point', async () => {
    const jobName = unique('untagged-job');
    const fake = fakeJob(jobName, { tagNeverOn: ['demo.seq_b'] });
    const result = await withWorker(fake.activities, async (taskQueue) => {
      await createSavepointSchedule(
        temporal.env.client,
        { savepoint: { job: { jobName }, tables: TABLES, options: { tagTimeout: '5s' } }, every: '1h', paused: true },
        { taskQueue },
      );
      try {
        await triggerSavepointSchedule(temporal.env.client, jobName);
        return await nextScheduledResult(jobName, 0);
      } finally {
        await deleteSavepointSchedule(temporal.env.client, jobName);
      }
    });
    expect(result.restorable).toBe(false);
    expect(result.missingTags).toEqual(['demo.seq_b']);
    expect(result.reason).toMatch(/savepoint-40 did not appear within 5s on demo\.seq_b/);
    expect(fake.records[0]).toMatchObject({ savepointId: 40, taggedAtRecord: false });
  });

  it('runs retention for the job afterwards when asked, as a child (under the job\'s retention id) of the savepoint under the job\'s operation id', async () => {
    const jobName = unique('retention-job');
    const fake = fakeJob(jobName);
    const catalog = fakeCatalog([point(1, 3 * DAY), point(2, 2 * DAY), point(3, DAY)]);
    const workflowId = unique('savepoint-then-retention');
    const result: TakeSavepointResult = await withWorker({ ...fake.activities, ...catalog.activities }, (taskQueue) =>
      temporal.env.client.workflow.execute('takeSavepointWorkflow', {
        taskQueue,
        workflowId,
        args: [{ job: { jobName }, tables: TABLES, retention: { keepLast: 2 } }],
      }),
    );
    expect(result).toMatchObject({ savepointId: 40, restorable: true });
    expect(result.retention).toMatchObject({ jobName, dryRun: false, deleted: [1], failed: [] });
    expect(catalog.calls[0]).toBe(`list ${jobName}`);
    const child = await temporal.env.client.workflow.getHandle(retentionWorkflowId(jobName)).describe();
    // Its parent is the savepoint run under the job's operation id, which this run started as its child.
    expect(child).toMatchObject({ type: 'retentionWorkflow', parentExecution: { workflowId: operationWorkflowId({ jobName }) } });
    const savepoint = await temporal.env.client.workflow.getHandle(operationWorkflowId({ jobName })).describe();
    expect(savepoint).toMatchObject({ type: 'takeSavepointWorkflow', parentExecution: { workflowId } });
  });

  it('with the job stopped, the savepoint step fails with its reason and retention still runs; the run reports both', async () => {
    const jobName = unique('stopped-job');
    const fake = fakeJob(jobName, { notRunning: true });
    const catalog = fakeCatalog([point(1, 3 * DAY), point(2, 2 * DAY), point(3, DAY)]);
    const workflowId = unique('stopped-savepoint-then-retention');
    const err = await withWorker({ ...fake.activities, ...catalog.activities }, (taskQueue) =>
      temporal.env.client.workflow
        .execute('takeSavepointWorkflow', { taskQueue, workflowId, args: [{ job: { jobName }, tables: TABLES, retention: { keepLast: 2 } }] })
        .catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const failure = (err as WorkflowFailedError).cause as ApplicationFailure;
    // The savepoint's own failure type, so clients that match on it still do.
    expect(failure).toMatchObject({ type: 'JobNotFound' });
    expect(failure.message).toBe(`savepoint of job '${jobName}' not taken: no running job has that name: '${jobName}'; retention ran anyway: deleted 1`);
    expect(failure.details?.[0]).toMatchObject({
      savepointError: `no running job has that name: '${jobName}'`,
      retention: { jobName, dryRun: false, deleted: [1], failed: [] },
    });
    expect(fake.calls.map((c) => c.name)).toEqual(['resolveJob']);
    expect(catalog.calls.slice(0, 2)).toEqual([`list ${jobName}`, `inUse ${jobName}`]);
    const child = await temporal.env.client.workflow.getHandle(retentionWorkflowId(jobName)).describe();
    // Its parent is the savepoint run under the job's operation id, which this run started as its child.
    expect(child).toMatchObject({ type: 'retentionWorkflow', parentExecution: { workflowId: operationWorkflowId({ jobName }) } });
    const savepoint = await temporal.env.client.workflow.getHandle(operationWorkflowId({ jobName })).describe();
    expect(savepoint).toMatchObject({ type: 'takeSavepointWorkflow', parentExecution: { workflowId } });
  });

  it('with the job stopped and no retention asked, fails as before: nothing else runs', async () => {
    const jobName = unique('stopped-no-retention');
    const fake = fakeJob(jobName, { notRunning: true });
    const err = await withWorker(fake.activities, (taskQueue) =>
      temporal.env.client.workflow
        .execute('takeSavepointWorkflow', { taskQueue, workflowId: unique('stopped-savepoint'), args: [{ job: { jobName }, tables: TABLES }] })
        .catch((e: unknown) => e),
    );
    expect((err as WorkflowFailedError).cause).toMatchObject({ type: 'JobNotFound', message: `no running job has that name: '${jobName}'` });
  });

  it('refuses a savepoint whose tag name an earlier job run already took, and records no restore point', async () => {
    const jobName = unique('collided-job');
    // The fake's first savepoint id is 40; an old run of the job left savepoint-40 on the tables.
    const fake = fakeJob(jobName, { tagsBefore: ['savepoint-12', 'savepoint-40'] });
    const err = await withWorker(fake.activities, (taskQueue) =>
      temporal.env.client.workflow
        .execute('takeSavepointWorkflow', { taskQueue, workflowId: unique('savepoint-collided'), args: [{ job: { jobName }, tables: TABLES }] })
        .catch((e: unknown) => e),
    );
    expect((err as WorkflowFailedError).cause).toMatchObject({
      type: 'TagCollision',
      message: expect.stringMatching(/tag 'savepoint-40' already existed on demo\.seq_a, demo\.seq_b before this savepoint/),
    });
    expect(fake.calls.map((c) => c.name)).not.toContain('recordRestorePoint');
    expect(fake.records).toEqual([]);
  });

  it("says when Paimon expires the savepoint's tag, and warns when the point is pinned (a long-retention point it is not)", async () => {
    const jobName = unique('tag-expiry-job');
    const fake = fakeJob(jobName, { tagExpiresAt: { 'demo.seq_b': '2026-12-01T08:00:00.000', 'demo.seq_a': '2026-12-02T08:00:00.000' } });
    const take = (pinned: boolean) =>
      withWorker(fake.activities, (taskQueue) =>
        temporal.env.client.workflow.execute('takeSavepointWorkflow', {
          taskQueue,
          workflowId: unique('savepoint-expiry'),
          args: [{ job: { jobName }, tables: TABLES, options: { pinned } }],
        }),
      ) as Promise<TakeSavepointResult>;
    const pinned = await take(true);
    expect(pinned).toMatchObject({ restorable: true, tagExpiresAt: '2026-12-01T08:00:00.000' });
    expect(pinned.warning).toContain(`pinned, but Paimon expires tag ${pinned.tag}`);
    expect(pinned.warning).toContain('demo.seq_b at 2026-12-01T08:00:00.000, demo.seq_a at 2026-12-02T08:00:00.000');
    const unpinned = await take(false);
    expect(unpinned.tagExpiresAt).toBe('2026-12-01T08:00:00.000');
    expect(unpinned.warning).toBeUndefined();
    // A table that keeps its tags: nothing to say.
    const keptJob = unique('tag-kept-job');
    const keeps = fakeJob(keptJob);
    const kept = (await withWorker(keeps.activities, (taskQueue) =>
      temporal.env.client.workflow.execute('takeSavepointWorkflow', {
        taskQueue,
        workflowId: unique('savepoint-kept'),
        args: [{ job: { jobName: keptJob }, tables: TABLES, options: { pinned: true } }],
      }),
    )) as TakeSavepointResult;
    expect(kept.tagExpiresAt).toBeUndefined();
    expect(kept.warning).toBeUndefined();
  });

  it('refuses invalid input in the workflow itself (input typed into the UI), before touching Flink', async () => {
    const jobName = unique('invalid-job');
    const fake = fakeJob(jobName);
    const err = await withWorker(fake.activities, (taskQueue) =>
      temporal.env.client.workflow
        .execute('takeSavepointWorkflow', {
          taskQueue,
          workflowId: unique('savepoint-invalid'),
          args: [{ job: { jobName }, tables: ['no-dot-here'] }],
        })
        .catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('InvalidInput');
    expect(cause.message).toMatch(/tables\[0\]/);
    expect(fake.calls).toEqual([]);
  });

  it.each([
    { knobs: { absent: ['demo.seq_b'] }, type: 'TableNotFound', message: /sink tables not found: demo\.seq_b/ },
    { knobs: { autoTagOff: ['demo.seq_a'] }, type: 'AutoTagDisabled', message: /auto-tag.*: demo\.seq_a/ },
  ])('refuses before any savepoint when a sink table is $type', async ({ knobs, type, message }) => {
    const jobName = unique('refused-job');
    const fake = fakeJob(jobName, knobs as FakeJobKnobs);
    const err = await withWorker(fake.activities, (taskQueue) =>
      temporal.env.client.workflow
        .execute('takeSavepointWorkflow', { taskQueue, workflowId: unique('savepoint-refused'), args: [{ job: { jobName }, tables: TABLES }] })
        .catch((e: unknown) => e),
    );
    expect((err as WorkflowFailedError).cause).toMatchObject({ type, message: expect.stringMatching(message) });
    // The job's plan is read beside the tables' description; the tables are judged first.
    expect(fake.calls.map((c) => c.name).sort()).toEqual(['describeSinkTables', 'findTableJobs', 'requireRecentCheckpoint', 'resolveJob']);
    expect(fake.calls.map((c) => c.name)).not.toContain('triggerSavepoint');
  });

  it('refuses a job without a recent completed checkpoint with its cause, before any savepoint is triggered', async () => {
    const jobName = unique('crash-looping-job');
    const fake = fakeJob(jobName, { noRecentCheckpoint: 'no checkpoint has completed since it started; its latest exception: ArithmeticException: / by zero' });
    const err = await withWorker(fake.activities, (taskQueue) =>
      temporal.env.client.workflow
        .execute('takeSavepointWorkflow', { taskQueue, workflowId: unique('savepoint-refused'), args: [{ job: { jobName }, tables: TABLES }] })
        .catch((e: unknown) => e),
    );
    expect((err as WorkflowFailedError).cause).toMatchObject({
      type: 'NoRecentCheckpoint',
      message: expect.stringContaining('ArithmeticException: / by zero'),
    });
    expect(fake.calls.map((c) => c.name)).toEqual(['resolveJob', 'requireRecentCheckpoint']);
  });

  it('manages one schedule per job: create, duplicate refused, list, pause, unpause, delete', async () => {
    const jobName = unique('managed-job');
    await createSavepointSchedule(
      temporal.env.client,
      { savepoint: { job: { jobName }, tables: TABLES }, cron: '30 2 * * *', timezone: 'Europe/Berlin', catchupWindow: '15m' },
      { taskQueue: 'unused' },
    );
    try {
      await expect(
        createSavepointSchedule(temporal.env.client, { savepoint: { job: { jobName }, tables: TABLES }, every: '1h' }, { taskQueue: 'unused' }),
      ).rejects.toBeInstanceOf(ScheduleExistsError);

      const described = await temporal.env.client.schedule.getHandle(savepointScheduleId(jobName)).describe();
      expect(described.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 15 * 60_000 });
      expect(described.spec.timezone).toBe('Europe/Berlin');
      expect(described.action).toMatchObject({ workflowType: 'takeSavepointWorkflow', taskQueue: 'unused' });

      await pauseSavepointSchedule(temporal.env.client, jobName, 'maintenance window');
      expect(await describeSavepointSchedule(temporal.env.client, jobName)).toMatchObject({ paused: true, note: 'maintenance window' });
      await unpauseSavepointSchedule(temporal.env.client, jobName);
      const mine = await waitForListed(jobName);
      expect(mine).toMatchObject({ scheduleId: savepointScheduleId(jobName), jobName, paused: false });
      expect(mine.nextActionTimes.length).toBeGreaterThan(0);
    } finally {
      await deleteSavepointSchedule(temporal.env.client, jobName);
    }
    await expect(describeSavepointSchedule(temporal.env.client, jobName)).rejects.toThrow();
  });

  it('refuses a schedule by job id, or with both or neither of cron and every', async () => {
    const base = { savepoint: { job: { jobName: 'x' }, tables: TABLES } };
    for (const bad of [
      { savepoint: { job: { jobId: 'a'.repeat(32) }, tables: TABLES }, every: '1h' },
      { ...base, every: '1h', cron: '0 3 * * *' },
      base,
      { ...base, every: 'often' },
    ]) {
      await expect(createSavepointSchedule(temporal.env.client, bad as never, { taskQueue: 'unused' })).rejects.toBeInstanceOf(
        InvalidScheduleInputError,
      );
    }
  });

  /** The schedule list is eventually consistent (visibility), so wait until ours shows. */
  async function waitForListed(jobName: string) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const mine = (await listSavepointSchedules(temporal.env.client)).find((s) => s.jobName === jobName);
      if (mine && !mine.paused) return mine;
      if (Date.now() > deadline) throw new Error(`schedule of ${jobName} not listed (unpaused) within 20s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
});
