// Records the histories the replay test replays: `RECORD_HISTORIES=1 npx vitest run
// test/workflows/replay.test.ts`. Re-record only for an intended, compatible change of the
// workflow (a new branch behind patched(), say), and commit the histories with that change.
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startUpgrade } from '../../src/client/start-upgrade';
import { FakeStack } from '../support/fake-stack';
import { writeHistoryJson } from '../support/history-json';
import { unique } from '../support/temporal-env';
import { upgradeInput, withWorker } from './fixtures';

export const HISTORIES_DIR = path.join(__dirname, 'histories');

interface Scenario {
  name: string;
  arrange(stack: FakeStack): void;
  compensate?: boolean;
}

/** One run per outcome: upgraded, rolled back, tag missing, unhealthy left for a human. */
const scenarios: Scenario[] = [
  { name: 'upgrade-upgraded', arrange: () => undefined },
  { name: 'upgrade-rolled-back', arrange: (s) => s.unhealthyVersions.add('v2') },
  { name: 'upgrade-tag-missing', arrange: (s) => s.tagNeverAppearsOn.add('demo.customers') },
  { name: 'upgrade-unhealthy-not-compensated', arrange: (s) => s.unhealthyVersions.add('v2'), compensate: false },
];

export async function recordHistories(env: TestWorkflowEnvironment, bundle: WorkflowBundleWithSourceMap): Promise<string[]> {
  const written: string[] = [];
  for (const scenario of scenarios) {
    const jobName = unique('recorded');
    const stack = new FakeStack({ jobName });
    scenario.arrange(stack);
    const input = upgradeInput(jobName);
    input.options = { ...input.options, compensate: scenario.compensate ?? true };
    const history = await withWorker(env, bundle, stack, async (taskQueue) => {
      const handle = await startUpgrade(env.client, input, { taskQueue });
      await handle.result().catch(() => undefined);
      return handle.fetchHistory();
    });
    const file = path.join(HISTORIES_DIR, `${scenario.name}.json`);
    await writeHistoryJson(file, history);
    written.push(file);
  }
  return written;
}
