// Replays recorded histories (test/workflows/histories) against today's workflow code: a change
// that would break running upgrades (a step added, removed or reordered without patched()) fails
// here with a DeterminismViolationError instead of in production.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyFromJson } from '../support/history-json';
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

async function recorded(): Promise<{ workflowId: string; history: ReturnType<typeof historyFromJson> }[]> {
  const files = (await readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      workflowId: path.basename(file, '.json'),
      history: historyFromJson(JSON.parse(await readFile(path.join(HISTORIES_DIR, file), 'utf8'))),
    })),
  );
}

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
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
      results.push({ workflowId: result.workflowId, error: result.error });
    }
    expect(results).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });

  it('would catch a change: a history whose second activity is another one fails to replay', async () => {
    // The control: prove the replay looks at the commands, by tampering with the recorded history
    // the way a reordering of the preflight would.
    const [{ history }] = await recorded();
    const scheduled = history.events?.filter((e) => e.activityTaskScheduledEventAttributes) ?? [];
    expect(scheduled[1].activityTaskScheduledEventAttributes?.activityType?.name).toBe('describeSinkTables');
    scheduled[1].activityTaskScheduledEventAttributes!.activityType!.name = 'checkFlinkCluster';
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, 'tampered')).rejects.toThrow(
      DeterminismViolationError,
    );
  });
});
