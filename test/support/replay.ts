// What the replay tests share: read a folder of recorded histories, replay them all on today's
// workflow code (re-recording them first with RECORD_HISTORIES=1), and tamper with one activity so a test can prove replay would catch a change.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll } from 'vitest';
import { historyFromJson } from './history-json';
import { bundleWorkflows, createTestEnv } from './temporal-env';

export type Recorded = { workflowId: string; history: ReturnType<typeof historyFromJson> };

/** Every `*.json` history in `dir`, by file name (the workflow id it was recorded under). */
export async function recordedHistories(dir: string): Promise<Recorded[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      workflowId: path.basename(file, '.json'),
      history: historyFromJson(JSON.parse(await readFile(path.join(dir, file), 'utf8'))),
    })),
  );
}

/** Replays every history; each result's error is undefined when it replayed cleanly. */
export async function replayAll(bundle: WorkflowBundleWithSourceMap, histories: Recorded[]) {
  const results: { workflowId: string; error: unknown }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    results.push({ workflowId: result.workflowId, error: result.error });
  }
  return results;
}

/** The names of the activities a history scheduled, in order, and a way to rename one. */
export function scheduledActivities(history: Recorded['history']) {
  const scheduled = history.events?.filter((e) => e.activityTaskScheduledEventAttributes) ?? [];
  return {
    names: scheduled.map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name!),
    rename(index: number, name: string) {
      scheduled[index]!.activityTaskScheduledEventAttributes!.activityType!.name = name;
    },
  };
}

/**
 * The workflow bundle of a replay test file, made once in beforeAll. With RECORD_HISTORIES=1 the
 * file's histories are first re-recorded by `record` on a local dev server.
 */
export function replayBundle(
  record: (env: TestWorkflowEnvironment, bundle: WorkflowBundleWithSourceMap) => Promise<unknown>,
): () => WorkflowBundleWithSourceMap {
  let bundle: WorkflowBundleWithSourceMap | undefined;
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    bundle = await bundleWorkflows();
    if (process.env.RECORD_HISTORIES === '1') {
      env = await createTestEnv();
      await record(env, bundle);
    }
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return () => bundle!;
}
