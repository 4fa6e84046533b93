// Records the restore histories the restore replay test replays: `RECORD_HISTORIES=1 npx vitest
// run test/workflows/restore-replay.test.ts`. Re-record only for an intended, compatible change of
// the workflow (a new branch behind patched(), say), and commit the histories with that change.
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startRestore } from '../../src/client/start-restore';
import { FakeStack, type ActivityName } from '../support/fake-stack';
import { writeHistoryJson } from '../support/history-json';
import { unique } from '../support/temporal-env';
import { withWorker } from './fixtures';
import { awaitingApproval, restoreInput } from './restore-fixtures';
import { approveSigned, rejectSigned } from '../support/approvals';

export const RESTORE_HISTORIES_DIR = path.join(__dirname, 'histories', 'restore');

interface Scenario {
  name: string;
  /** what the operators do while the restore of `jobName` runs on `stack` */
  act(env: TestWorkflowEnvironment, jobName: string, stack: FakeStack): Promise<void>;
  approvalTimeout?: string;
}

/** One run per outcome: restored, rejected, expired, asked again after a plan change (before or during the stop), half-done. */
const scenarios: Scenario[] = [
  {
    name: 'restore-restored',
    act: async (env, jobName) => {
      await awaitingApproval(env.client, jobName);
      await approveSigned(env.client, { jobName }, { approver: 'bob', comment: 'recorded' });
    },
  },
  {
    name: 'restore-rejected',
    act: async (env, jobName) => {
      await awaitingApproval(env.client, jobName);
      await rejectSigned(env.client, { jobName }, { approver: 'carol' });
    },
  },
  { name: 'restore-expired', act: async () => undefined, approvalTimeout: '1s' },
  {
    name: 'restore-plan-changed',
    // The plan's tag reads after the approval wait until a new tag appeared (before the stop).
    act: (env, jobName, stack) => tagAppearsWhileHeld(env, jobName, stack, 'listTags', 3),
  },
  {
    name: 'restore-changed-during-stop',
    // A tag appears while the writer stops: a whole new plan, approved with the writer stopped.
    act: (env, jobName, stack) => tagAppearsWhileHeld(env, jobName, stack, 'stopWithSavepoint', 1),
  },
  {
    name: 'restore-incomplete',
    act: async (env, jobName, stack) => {
      stack.failRollbackOn.add('demo.customers');
      await awaitingApproval(env.client, jobName);
      await approveSigned(env.client, { jobName }, { approver: 'bob' });
    },
  },
];

/**
 * Plan 1 approved while `held` is held once it was called `calls` times; a new tag appears on
 * demo.orders meanwhile, and plan 2 is approved by another approver.
 */
async function tagAppearsWhileHeld(env: TestWorkflowEnvironment, jobName: string, stack: FakeStack, held: ActivityName, calls: number): Promise<void> {
  await awaitingApproval(env.client, jobName);
  const release = stack.hold(held);
  const approving = approveSigned(env.client, { jobName }, { approver: 'bob' });
  while (stack.callsOf(held).length < calls) await new Promise((r) => setTimeout(r, 25));
  stack.table('demo.orders').tags.set('nightly-export', stack.table('demo.orders').snapshot);
  release();
  await approving;
  await awaitingApproval(env.client, jobName, 2);
  await approveSigned(env.client, { jobName }, { approver: 'carol' });
}

export async function recordRestoreHistories(env: TestWorkflowEnvironment, bundle: WorkflowBundleWithSourceMap): Promise<string[]> {
  const written: string[] = [];
  for (const scenario of scenarios) {
    const jobName = unique('recorded');
    const stack = new FakeStack({ jobName });
    const a = stack.seedRestorePoint(2);
    stack.seedRestorePoint(1);
    const input = restoreInput(jobName, a.savepointId, scenario.approvalTimeout ? { approvalTimeout: scenario.approvalTimeout } : {});
    const history = await withWorker(env, bundle, stack, async (taskQueue) => {
      const handle = await startRestore(env.client, input, { taskQueue });
      await scenario.act(env, jobName, stack);
      await handle.result().catch(() => undefined);
      return handle.fetchHistory();
    });
    const file = path.join(RESTORE_HISTORIES_DIR, `${scenario.name}.json`);
    await writeHistoryJson(file, history);
    written.push(file);
  }
  return written;
}
