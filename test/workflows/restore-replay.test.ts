// Replays recorded restore histories (test/workflows/histories/restore) against today's workflow
// code, as replay.test.ts does for upgrades: a change that would break a restore waiting for its
// approval (a step added, removed or reordered without patched()) fails here.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyFromJson } from '../support/history-json';
import { bundleWorkflows, createTestEnv } from '../support/temporal-env';
import { recordRestoreHistories, RESTORE_HISTORIES_DIR } from './record-restore-histories';

const recording = process.env.RECORD_HISTORIES === '1';

let bundle: WorkflowBundleWithSourceMap;
let env: TestWorkflowEnvironment | undefined;

beforeAll(async () => {
  bundle = await bundleWorkflows();
  if (recording) {
    env = await createTestEnv();
    await recordRestoreHistories(env, bundle);
  }
});

afterAll(async () => {
  await env?.teardown();
});

async function recorded(): Promise<{ workflowId: string; history: ReturnType<typeof historyFromJson> }[]> {
  const files = (await readdir(RESTORE_HISTORIES_DIR)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      workflowId: path.basename(file, '.json'),
      history: historyFromJson(JSON.parse(await readFile(path.join(RESTORE_HISTORIES_DIR, file), 'utf8'))),
    })),
  );
}

describe('recorded restore histories', () => {
  it('has histories for every outcome', async () => {
    expect((await recorded()).map((h) => h.workflowId)).toEqual([
      'restore-expired',
      'restore-incomplete',
      'restore-plan-changed',
      'restore-rejected',
      'restore-restored',
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

  it('would catch a change: a restore that rolled back before creating its undo branch fails to replay', async () => {
    const history = (await recorded()).find((h) => h.workflowId === 'restore-restored')!.history;
    const scheduled = history.events?.filter((e) => e.activityTaskScheduledEventAttributes) ?? [];
    const branch = scheduled.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'createBranch')!;
    branch.activityTaskScheduledEventAttributes!.activityType!.name = 'rollbackToTag';
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, 'tampered')).rejects.toThrow(DeterminismViolationError);
  });
});
