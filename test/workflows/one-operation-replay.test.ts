// Replays recorded histories of the one-operation-per-job branches (patches
// 'savepoint-holds-operation-id' and 'retention-holds-operation-id') against today's code: a
// savepoint or retention run that took the job as a child under flink-job/<job>, the child itself,
// and the runs that found the job busy (skipped by a schedule, refused in the UI, retention skipped).
// Each is replayed under the workflow id it ran under, since these branches decide on that id.
// `RECORD_HISTORIES=1 npx vitest run test/workflows/one-operation-replay.test.ts` re-records; do that
// only for an intended, compatible change, and commit the histories with it.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { describeOperation } from '../../activities/catalog/in-use';
import type { Activities } from '../../activities/contract';
import { createSavepointSchedule, deleteSavepointSchedule, describeSavepointSchedule, triggerSavepointSchedule } from '../../src/client/schedules';
import { startUpgrade } from '../../src/client/start-upgrade';
import { retentionWorkflowId } from '../../src/domain/job-name';
import { operationStepKey, operationWorkflowId } from '../../workflows/messages';
import { FakeStack } from '../support/fake-stack';
import { historyToJson } from '../support/history-json';
import { recordedHistories, replayBundle, scheduledActivities, type Recorded } from '../support/replay';
import { DAY, fakeCatalog, point } from '../support/restore-point-fakes';
import { unique } from '../support/temporal-env';
import { TABLES, upgradeInput } from './fixtures';

const HISTORIES_DIR = path.join(__dirname, 'histories-one-operation');
/** The file name of a run recorded under the job's operation id starts with this; the rest is the job's name. */
const UNDER_OPERATION_ID = 'under-operation-id--';

const savepointInput = (jobName: string) => ({ job: { jobName }, tables: TABLES, options: { tagTimeout: '10s' } });
const points = (jobName: string) => [point(1, 3 * DAY, { jobName }), point(2, 2 * DAY, { jobName }), point(3, DAY, { jobName })];

async function record(env: TestWorkflowEnvironment, bundle: WorkflowBundleWithSourceMap): Promise<void> {
  await mkdir(HISTORIES_DIR, { recursive: true });
  const save = async (name: string, handle: WorkflowHandle) =>
    writeFile(path.join(HISTORIES_DIR, `${name}.json`), `${JSON.stringify(historyToJson(await handle.fetchHistory()), null, 2)}\n`);
  const withWorker = async <T>(activities: Partial<Activities>, fn: (taskQueue: string) => Promise<T>) => {
    const taskQueue = unique('one-op-replay');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: { ...activities, describeOperation } });
    return worker.runUntil(fn(taskQueue));
  };

  // A savepoint typed into the UI while the job is free: the parent, and its child under the job's id.
  {
    const jobName = unique('recorded-sp');
    const stack = new FakeStack({ jobName });
    const catalog = fakeCatalog(points(jobName));
    await withWorker({ ...stack.activities(), ...catalog.activities }, async (taskQueue) => {
      const parent = await env.client.workflow.start('takeSavepointWorkflow', {
        taskQueue,
        workflowId: unique('savepoint-parent'),
        args: [{ ...savepointInput(jobName), retention: { keepLast: 2 } }],
      });
      await parent.result();
      await save('savepoint-parent-ran', parent);
      await save(`${UNDER_OPERATION_ID}${jobName}`, env.client.workflow.getHandle(operationWorkflowId({ jobName })));
    });
  }

  // Runs that find the job busy: an upgrade held in its stop.
  const jobName = unique('recorded-busy');
  const stack = new FakeStack({ jobName });
  const catalog = fakeCatalog(points(jobName));
  await withWorker({ ...stack.activities(), ...catalog.activities }, async (taskQueue) => {
    const release = stack.hold('stopWithSavepoint');
    const upgrade = await startUpgrade(env.client, upgradeInput(jobName), { taskQueue });
    for (let i = 0; (await upgrade.describe()).typedSearchAttributes.get(operationStepKey) !== 'stopping-with-savepoint'; i++) {
      if (i > 400) throw new Error('the upgrade did not reach its stop');
      await new Promise((r) => setTimeout(r, 50));
    }
    const refused = await env.client.workflow.start('takeSavepointWorkflow', { taskQueue, workflowId: unique('ui-savepoint'), args: [savepointInput(jobName)] });
    await refused.result().catch(() => undefined);
    await save('savepoint-refused', refused);

    await createSavepointSchedule(env.client, { savepoint: savepointInput(jobName), cron: '0 3 * * *', paused: true }, { taskQueue });
    try {
      await triggerSavepointSchedule(env.client, jobName);
      let action;
      for (let i = 0; !(action = (await describeSavepointSchedule(env.client, jobName)).recentActions[0]); i++) {
        if (i > 400) throw new Error('the schedule took no action');
        await new Promise((r) => setTimeout(r, 50));
      }
      const scheduled = env.client.workflow.getHandle(action.workflowId);
      await scheduled.result();
      await save('savepoint-scheduled-skipped', scheduled);
    } finally {
      await deleteSavepointSchedule(env.client, jobName);
    }

    const retention = await env.client.workflow.start('retentionWorkflow', { taskQueue, workflowId: retentionWorkflowId(jobName), args: [{ jobName, policy: { keepLast: 1 } }] });
    await retention.result();
    await save('retention-skipped', retention);
    release();
    await upgrade.result();
  });
}

/** Replays each history under the id it ran under: the job's operation id for the runs recorded under it. */
async function replay(bundle: WorkflowBundleWithSourceMap, histories: Recorded[]): Promise<{ workflowId: string; error: unknown }[]> {
  const results = [];
  for (const { workflowId, history } of histories) {
    const ranAs = workflowId.startsWith(UNDER_OPERATION_ID) ? operationWorkflowId({ jobName: workflowId.slice(UNDER_OPERATION_ID.length) }) : workflowId;
    const error = await Worker.runReplayHistory({ workflowBundle: bundle }, history, ranAs).then(
      () => undefined,
      (err: unknown) => err,
    );
    results.push({ workflowId, error });
  }
  return results;
}

const recorded = () => recordedHistories(HISTORIES_DIR);
const jobNameInput = (h: Recorded) =>
  defaultPayloadConverter.fromPayload(h.history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!) as { job: { jobName: string } };

describe('recorded one-operation-per-job histories', () => {
  const bundle = replayBundle(record);

  it('has a history for every branch', async () => {
    const names = (await recorded()).map((h) => h.workflowId.replace(/--.*$/, '--'));
    expect(names).toEqual(['retention-skipped', 'savepoint-parent-ran', 'savepoint-refused', 'savepoint-scheduled-skipped', UNDER_OPERATION_ID]);
  });

  it('replay without a determinism error on the current workflow code, each under the id it ran under', async () => {
    const histories = await recorded();
    expect(await replay(bundle(), histories)).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });

  it('the parent and the busy runs touched neither Flink nor the catalog; the child did the work', async () => {
    const histories = await recorded();
    const byName = (prefix: string) => histories.find((h) => h.workflowId.startsWith(prefix))!;
    expect(scheduledActivities(byName('savepoint-parent-ran').history).names).toEqual([]);
    expect(scheduledActivities(byName('savepoint-refused').history).names).toEqual(['describeOperation']);
    expect(scheduledActivities(byName('savepoint-scheduled-skipped').history).names).toEqual(['describeOperation']);
    expect(scheduledActivities(byName('retention-skipped').history).names).toEqual(['describeOperation']);
    const child = byName(UNDER_OPERATION_ID);
    expect(child.workflowId).toBe(`${UNDER_OPERATION_ID}${jobNameInput(child).job.jobName}`);
    expect(scheduledActivities(child.history).names).toEqual(expect.arrayContaining(['describeSinkTables', 'recordRestorePoint']));
  });

  it('would catch a change: the child replayed under another id takes the other branch and fails to replay', async () => {
    const child = (await recorded()).find((h) => h.workflowId.startsWith(UNDER_OPERATION_ID))!;
    await expect(Worker.runReplayHistory({ workflowBundle: bundle() }, child.history, 'not-the-operation-id')).rejects.toThrow(DeterminismViolationError);
  });
});
