// A restore with another writer left running (options.notWriters): the plan says what the rollback
// takes from that writer's output (its snapshots and records since the tag, by Paimon commit user),
// and a stop-with-savepoint that fails (the two writers' commit conflicts, as measured on the real
// stack) ends saying what Flink shows the writer in, starting it again when it is no longer running.
// The failing stop is fault injection in the fake stack; test/e2e/restore-other-writer.test.ts
// produces it with real Flink and Paimon.
import { describe, expect, it } from 'vitest';
import type { TableJob } from '../../activities/contract';
import { approveSigned } from '../support/approvals';
import { startRestore } from '../../src/client/start-restore';
import { restoreStatusQuery } from '../../workflows/restore-messages';
import { FAKE_VERTEX, FAKE_WRITER_USER, FakeStack } from '../support/fake-stack';
import { unique, useWorkflowTestEnv } from '../support/temporal-env';
import { withWorker } from './fixtures';
import { awaitingApproval, failureOf, restoreApprovedByBob, restoreInput, TABLES } from './restore-fixtures';

const temporal = useWorkflowTestEnv();

const [ORDERS, CUSTOMERS] = TABLES as [string, string];
const TOUCHING_TABLES = ['createTag', 'createBranch', 'rollbackToTag'];
const OTHER_USER = 'backfill-commit-user';

const backfill: TableJob = { jobId: 'b'.repeat(32), name: 'orders-backfill', state: 'RUNNING', writes: [ORDERS], reads: [] };

/** A restore point, then 2 commits of our writer and 3 of the backfill on orders (customers: ours only). */
function twoWriters() {
  const jobName = unique('orders');
  const stack = new FakeStack({ jobName, tables: TABLES });
  const a = stack.seedRestorePoint(2);
  const orders = stack.table(ORDERS);
  const theirs = new Map<number, string>();
  for (let i = 0; i < 3; i++) {
    orders.snapshot++;
    theirs.set(orders.snapshot, OTHER_USER);
  }
  stack.commitUsers.set(ORDERS, theirs);
  stack.otherJobs.push(backfill);
  const tagSnapshot = orders.tags.get(`savepoint-${a.savepointId}`)!;
  return { jobName, stack, a, tagSnapshot };
}

const input = (jobName: string, savepointId: number) => restoreInput(jobName, savepointId, { notWriters: [backfill.name] });

describe('restore with another writer left running', () => {
  it("the plan says what the rollback takes from the other writer's output, by commit user, and that two writers fail each other", async () => {
    const { jobName, stack, a, tagSnapshot } = twoWriters();
    const plan = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, input(jobName, a.savepointId), { taskQueue });
      const plan = await awaitingApproval(temporal.client, jobName);
      await handle.terminate('seen the plan');
      return plan;
    });
    // Only the tables the backfill writes, counted from the tag's snapshot.
    expect(stack.callsOf('commitsByUser')).toEqual([{ tables: [{ table: ORDERS, after: tagSnapshot }] }]);
    const latest = stack.table(ORDERS).snapshot;
    expect(plan.otherWriters).toHaveLength(1);
    const [other] = plan.otherWriters!;
    expect(other!.rolledBack).toEqual([
      {
        table: ORDERS,
        commitUsers: [OTHER_USER],
        snapshots: 3,
        compactions: 0,
        records: 30,
        tagSnapshotId: tagSnapshot,
        upToSnapshotId: latest,
        basis: expect.stringContaining(`commit users other than ${FAKE_WRITER_USER}, which committed snapshot ${tagSnapshot}`),
      },
    ]);
    // The writer's own 2 commits since the tag are not the backfill's.
    expect(plan.tables.find((t) => t.table === ORDERS)!.snapshotsDeleted).toBe(5);
    expect(other!.note).toContain('File deletion conflicts detected');
    expect(plan.summary).toContain(`job 'orders-backfill' (${backfill.jobId}) is left running by request (options.notWriters), and the rollback deletes what it committed since the tag: 3 snapshot(s) with 30 record(s) in data files on ${ORDERS}`);
    expect(plan.irreversible).toContain(`job 'orders-backfill' (${backfill.jobId}) on ${ORDERS}: 3 snapshot(s), 30 record(s) in data files`);
  });

  it('a tag whose snapshot Paimon no longer lists: the figures are every commit since the tag, and the plan says the writer could not be told apart', async () => {
    const { jobName, stack, a } = twoWriters();
    // The fake lists snapshot ids from 1; a tag on snapshot 0 stands for one expiry removed from $snapshots.
    const tag = `savepoint-${a.savepointId}`;
    stack.table(ORDERS).tags.set(tag, 0);
    stack.table(CUSTOMERS).tags.set(tag, 0);
    const plan = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, input(jobName, a.savepointId), { taskQueue });
      const plan = await awaitingApproval(temporal.client, jobName);
      await handle.terminate('seen the plan');
      return plan;
    });
    const [loss] = plan.otherWriters![0]!.rolledBack!;
    expect(loss!.snapshots).toBe(stack.table(ORDERS).snapshot);
    expect(loss!.commitUsers.sort()).toEqual([OTHER_USER, FAKE_WRITER_USER].sort());
    expect(loss!.basis).toContain("the restore's writer's commit user is unknown");
  });

  it('with the other writer left running, each rollback counts what it deletes itself (the count read with today\'s tag may be behind)', async () => {
    const { jobName, stack, a } = twoWriters();
    const result = await withWorker(temporal.env, temporal.bundle, stack, (taskQueue) => restoreApprovedByBob(temporal.client, jobName, input(jobName, a.savepointId), taskQueue));
    expect(result.status).toBe('restored');
    expect(stack.callsOf('rollbackToTag')).toHaveLength(TABLES.length);
    for (const call of stack.callsOf('rollbackToTag')) expect(call).not.toHaveProperty('before');
  });

  it('no writer left running: no commit read, and the plan has no other writers', async () => {
    const { jobName, stack, a } = twoWriters();
    stack.otherJobs.length = 0;
    const plan = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      const plan = await awaitingApproval(temporal.client, jobName);
      await handle.terminate('seen the plan');
      return plan;
    });
    expect(stack.callNames()).not.toContain('commitsByUser');
    expect(plan.otherWriters).toEqual([]);
  });
});

/** Fault injection: the stop fails and leaves the writer in `state`; returns the failure and the status. */
async function restoreWhoseStopFails(stack: FakeStack, jobName: string, savepointId: number) {
  return withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
    const handle = await startRestore(temporal.client, input(jobName, savepointId), { taskQueue });
    await awaitingApproval(temporal.client, jobName);
    await approveSigned(temporal.client, { jobName }, { approver: 'bob', planVersion: 1 });
    const failure = await failureOf(handle.result());
    return { failure, status: await handle.query(restoreStatusQuery) };
  });
}

const STOPPING_FAILED =
  'StopWithSavepointStoppingException: A savepoint has been created at: file:/sp/savepoint-x, but the corresponding job failed during stopping';

describe('fault injection: a restore whose stop-with-savepoint fails', () => {
  it('writer FAILED: started again from its latest checkpoint at its parallelism; the restore ends saying so, nothing rolled back', async () => {
    const { jobName, stack, a } = twoWriters();
    stack.stopFails = { state: 'FAILED', cause: STOPPING_FAILED };
    const writer = stack.initialJobId;
    // An upgrade set its vertex apart from its graph's parallelism: the writer started again keeps it.
    const ranAt = { graphParallelism: 1, overrides: { [FAKE_VERTEX]: 3 } };
    stack.job(writer).parallelism = ranAt;
    const { failure, status } = await restoreWhoseStopFails(stack, jobName, a.savepointId);
    const [deploy] = stack.callsOf('deployJob');
    expect(stack.callsOf('deployJob')).toHaveLength(1);
    expect(deploy.savepointPath).toMatch(new RegExp(`^file:///checkpoints/${writer}/chk-\\d+$`));
    expect(deploy.parallelism).toEqual(ranAt);
    const restarted = status.restartedJobId!;
    expect(stack.job(restarted)).toMatchObject({ state: 'RUNNING', version: 'v1', restoredFrom: deploy.savepointPath });
    expect(stack.job(writer).state).toBe('FAILED');
    expect(failure.type).toBe('SavepointFailed');
    expect(failure.message).toContain(STOPPING_FAILED);
    expect(failure.message).toContain(`Flink then showed job ${writer} FAILED, so this restore started v1 again from its latest checkpoint`);
    expect(failure.message).toContain(`job ${restarted}, healthy`);
    expect(failure.message).toContain('Nothing was rolled back and no undo branch was made');
    expect(failure.message).toContain(`'orders-backfill' (${backfill.jobId}) left running by options.notWriters`);
    expect(failure.message).not.toContain('keeps running');
    expect(status).toMatchObject({
      step: 'failed',
      writerAfterFailedStop: { jobId: writer, state: 'FAILED', restartedFrom: { kind: 'checkpoint', path: deploy.savepointPath } },
    });
    expect(stack.callNames().filter((n) => TOUCHING_TABLES.includes(n))).toEqual([]);
  });

  it('writer RUNNING again (Flink restarted it): the restore says it keeps running and starts nothing', async () => {
    const { jobName, stack, a } = twoWriters();
    stack.stopFails = { state: 'RUNNING', cause: 'CheckpointException: Not all required tasks are currently running' };
    const { failure, status } = await restoreWhoseStopFails(stack, jobName, a.savepointId);
    expect(stack.callNames()).not.toContain('deployJob');
    expect(failure.message).toContain(`Flink shows job ${stack.initialJobId} RUNNING: it keeps running as before`);
    expect(status.writerAfterFailedStop).toEqual({ jobId: stack.initialJobId, state: 'RUNNING' });
    expect(status.restartedJobId).toBeUndefined();
    expect(stack.callNames().filter((n) => TOUCHING_TABLES.includes(n))).toEqual([]);
  });

  it('writer still RESTARTING after the health timeout: no second job started, its state and what to run said', async () => {
    const { jobName, stack, a } = twoWriters();
    stack.stopFails = { state: 'RESTARTING', cause: 'CheckpointException: Not all required tasks are currently running' };
    const { failure, status } = await restoreWhoseStopFails(stack, jobName, a.savepointId);
    expect(stack.callNames()).toContain('awaitHealthy');
    expect(stack.callNames()).not.toContain('deployJob');
    expect(failure.message).toContain(`Flink shows job ${stack.initialJobId} RESTARTING after 20s`);
    expect(failure.message).toContain(`if it ends FAILED, start v1 again from checkpoint`);
    expect(status.writerAfterFailedStop).toEqual({ jobId: stack.initialJobId, state: 'RESTARTING' });
  });

  it('writer FAILED and nothing retained: ends saying no job runs and what to run', async () => {
    const { jobName, stack, a } = twoWriters();
    stack.stopFails = { state: 'FAILED', cause: STOPPING_FAILED };
    stack.nothingRetained.add(stack.initialJobId);
    const { failure } = await restoreWhoseStopFails(stack, jobName, a.savepointId);
    expect(stack.callNames()).not.toContain('deployJob');
    expect(failure.message).toContain('lists no completed checkpoint or savepoint of it whose files are there: no job of v1 runs');
    expect(failure.message).toContain('Start v1 by hand from a savepoint you trust');
  });

  it('writer FAILED and the restarted one unhealthy: ends naming the started job and the checkpoint to start from', async () => {
    const { jobName, stack, a } = twoWriters();
    stack.stopFails = { state: 'FAILED', cause: STOPPING_FAILED };
    stack.unhealthyVersions.add('v1');
    const { failure, status } = await restoreWhoseStopFails(stack, jobName, a.savepointId);
    expect(stack.callsOf('deployJob')).toHaveLength(1);
    expect(failure.message).toContain('starting v1 again from its latest checkpoint');
    expect(failure.message).toContain(`Job ${status.restartedJobId} was started and is not healthy`);
    expect(failure.message).toContain(`start v1 from ${stack.callsOf('deployJob')[0].savepointPath} by hand`);
  });
});
