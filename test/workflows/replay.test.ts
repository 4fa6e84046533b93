// Replays recorded histories (test/workflows/histories) against today's workflow code: a change
// that would break running upgrades (a step added, removed or reordered without patched()) fails
// here with a DeterminismViolationError instead of in production.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordedHistories, replayAll, scheduledActivities } from '../support/replay';
import { bundleWorkflows, createTestEnv } from '../support/temporal-env';
import { HISTORIES_DIR, recordHistories } from './record-histories';

const recording = process.env.RECORD_HISTORIES === '1';

let bundle: WorkflowBundleWithSourceMap;
let env: TestWorkflowEnvironment | undefined;

beforeAll(async () => {
  bundle = await bundleWorkflows();
  if (recording) {
    env = await createTestEnv();
    await recordHistories(env, bundle);
  }
});

afterAll(async () => {
  await env?.teardown();
});

const recorded = () => recordedHistories(HISTORIES_DIR);

describe('recorded upgrade histories', () => {
  it('has histories for every outcome', async () => {
    expect((await recorded()).map((h) => h.workflowId)).toEqual([
      'upgrade-rolled-back',
      'upgrade-tag-missing',
      'upgrade-unhealthy-not-compensated',
      'upgrade-upgraded',
    ]);
  });

  it('replay without a determinism error on the current workflow code', async () => {
    const histories = await recorded();
    expect(await replayAll(bundle, histories)).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });

  it('would catch a change: a history whose second activity is another one fails to replay', async () => {
    // The control: prove the replay looks at the commands, by tampering with the recorded history
    // the way a reordering of the preflight would.
    const [{ history }] = await recorded();
    const activities = scheduledActivities(history);
    expect(activities.names[1]).toBe('describeSinkTables');
    activities.rename(1, 'checkFlinkCluster');
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, 'tampered')).rejects.toThrow(
      DeterminismViolationError,
    );
  });
});
