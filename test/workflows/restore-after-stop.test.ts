// The restore after the writer stopped: the job is down, so only what the stop could change is
// read again (workflows/restore-after-stop.ts), the undo branch comes from today's tag, and every
// table is rolled back at once. Anything that moved still goes back to a person, or restarts the
// writer, before any table is touched.
import { describe, expect, it } from 'vitest';
import { startRestore } from '../../src/client/start-restore';
import { restoreStatusQuery } from '../../workflows/restore-messages';
import { FakeStack } from '../support/fake-stack';
import { unique, useWorkflowTestEnv } from '../support/temporal-env';
import { withWorker } from './fixtures';
import { awaitingApproval, failureOf, restoreApprovedByBob, restoreInput, TABLES } from './restore-fixtures';
import { approveSigned } from '../support/approvals';

const temporal = useWorkflowTestEnv();

const [ORDERS, CUSTOMERS] = TABLES as [string, string];
const TOUCHING_TABLES = ['createTag', 'createBranch', 'rollbackToTag'];

function stackWithRestorePoint() {
  const jobName = unique('orders');
  const stack = new FakeStack({ jobName, tables: TABLES });
  const a = stack.seedRestorePoint(2);
  return { jobName, stack, a };
}

/** Approves plan 1 and lets `duringStop` act while stop-with-savepoint runs. */
async function approveAndActDuringStop(stack: FakeStack, jobName: string, duringStop: () => void): Promise<void> {
  const release = stack.hold('stopWithSavepoint');
  const approving = approveSigned(temporal.client, { jobName }, { approver: 'bob', planVersion: 1 });
  for (let i = 0; i < 400 && stack.callsOf('stopWithSavepoint').length === 0; i++) await new Promise((r) => setTimeout(r, 25));
  expect(stack.callsOf('stopWithSavepoint')).toHaveLength(1);
  duringStop();
  release();
  await approving;
}

describe('restore after the stop', () => {
  it('reads only writers and the savepoint again (tags come with the wait for today\'s tag); branches from today\'s tag; rolls every table back at once', async () => {
    const { jobName, stack, a } = stackWithRestorePoint();
    const result = await withWorker(temporal.env, temporal.bundle, stack, (taskQueue) => restoreApprovedByBob(temporal.client, jobName, restoreInput(jobName, a.savepointId), taskQueue));
    expect(result.status).toBe('restored');
    const names = stack.callNames();
    const afterStop = names.slice(names.indexOf('stopWithSavepoint') + 1);
    // No whole plan after the stop: no catalog listing, no table options, no consumers, no COUNT of
    // snapshots, and the tags are the ones the wait for today's tag read.
    expect(stack.callsOf('awaitTag').at(-1)).toMatchObject({ withTags: true });
    expect(afterStop.slice(0, afterStop.indexOf('createBranch')).sort()).toEqual(['awaitTag', 'findTableJobs', 'inspectSavepoint']);
    // The undo is a branch from today's tag: no tag of its own.
    expect(names).not.toContain('createTag');
    const todaysTag = result.todaysSavepoint!.tag;
    expect(stack.callsOf('createBranch').map((c) => c.tag)).toEqual([todaysTag, todaysTag]);
    expect(result.undo).toMatchObject({ tag: todaysTag });
    for (const table of TABLES) {
      const branch = stack.table(table).branches.get(result.undo!.branch);
      expect(branch).toBe(stack.rollbacks.find((r) => r.table === table)!.snapshot + 3); // A + 2 commits + today's stop
    }
    // Both rollbacks were scheduled together, each reading its table's state for the check itself.
    const rollbacks = afterStop.slice(afterStop.indexOf('rollbackToTag'));
    expect(rollbacks.slice(0, 2)).toEqual(['rollbackToTag', 'rollbackToTag']);
    expect(stack.callsOf('rollbackToTag')).toEqual(TABLES.map((table) => expect.objectContaining({ table, count: true, readAfter: true })));
    expect(rollbacks).not.toContain('tableState');
    // What each rollback deletes was counted in the wait for today's tag, so the rollback reads nothing before rollback_to:
    // the 2 commits after A and today's stop, and the tags on them (today's).
    expect(stack.callsOf('awaitTag').at(-1)).toMatchObject({ newerThanTag: `savepoint-${a.savepointId}` });
    for (const table of TABLES) {
      const rolledBackTo = stack.rollbacks.find((r) => r.table === table)!.snapshot;
      const before = { latestSnapshotId: rolledBackTo + 3, snapshotsNewer: 3, tagsNewer: [todaysTag] };
      expect(stack.callsOf('rollbackToTag').find((c) => c.table === table)).toMatchObject({ before });
      expect(result.tables!.find((t) => t.table === table)).toMatchObject({ snapshotsDeleted: 3, tagsDeleted: [todaysTag] });
    }
  });

  it("reads the writers and the restore point's files while it waits for today's tag", async () => {
    const { jobName, stack, a } = stackWithRestorePoint();
    const result = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      await awaitingApproval(temporal.client, jobName);
      const release = stack.hold('awaitTag');
      const approving = approveSigned(temporal.client, { jobName }, { approver: 'bob', planVersion: 1 });
      const afterStop = () => stack.callNames().slice(stack.callNames().indexOf('stopWithSavepoint') + 1);
      for (let i = 0; i < 800 && !(['awaitTag', 'findTableJobs', 'inspectSavepoint'] as const).every((n) => afterStop().includes(n)); i++) {
        await new Promise((r) => setTimeout(r, 25));
      }
      // The tag is still awaited: both reads are there already.
      expect(afterStop().sort()).toEqual(['awaitTag', 'findTableJobs', 'inspectSavepoint']);
      release();
      await approving;
      return handle.result();
    });
    expect(result.status).toBe('restored');
  });

  it('a rollback whose read after it failed is checked with tableState: the same check, the same figures', async () => {
    const { jobName, stack, a } = stackWithRestorePoint();
    stack.readAfterRollbackFails.add(CUSTOMERS);
    stack.offAfterRollback.add(CUSTOMERS);
    const { failure, status } = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      await awaitingApproval(temporal.client, jobName);
      await approveSigned(temporal.client, { jobName }, { approver: 'bob', planVersion: 1 });
      const failure = await failureOf(handle.result());
      return { failure, status: await handle.query(restoreStatusQuery) };
    });
    // Only the table whose read failed is read again (the plan's reads ask with newerThan), and its check still finds it off its tag.
    const firstRollback = stack.calls.findIndex((c) => c.name === 'rollbackToTag');
    const readAfterRollback = stack.calls.slice(firstRollback).filter((c) => c.name === 'tableState');
    expect(readAfterRollback.map((c) => c.input)).toEqual([{ table: CUSTOMERS }]);
    expect(failure.type).toBe('RestoreIncomplete');
    expect(failure.message).toContain(`after rollback_to ${CUSTOMERS} is not at tag savepoint-${a.savepointId}`);
    for (const table of TABLES) expect(status.tables!.find((t) => t.table === table)).toMatchObject({ rolledBack: true, snapshotsDeleted: 3 });
    expect(stack.callNames()).not.toContain('deployJob');
  });

  it('a tag that appears while the writer stops: the whole plan is made again and asked again, nothing rolled back', async () => {
    const { jobName, stack, a } = stackWithRestorePoint();
    const { second, touchedBeforeSecond, result } = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      await awaitingApproval(temporal.client, jobName);
      await approveAndActDuringStop(stack, jobName, () => stack.table(ORDERS).tags.set('nightly-export', stack.table(ORDERS).snapshot));
      const second = await awaitingApproval(temporal.client, jobName, 2);
      const touchedBeforeSecond = stack.callNames().filter((n) => TOUCHING_TABLES.includes(n));
      await approveSigned(temporal.client, { jobName }, { approver: 'carol', planVersion: 2 });
      return { second, touchedBeforeSecond, result: await handle.result() };
    });
    expect(touchedBeforeSecond).toEqual([]);
    expect(second.writer).toMatchObject({ stoppedByRestore: true, action: 'none' });
    expect(second.tables.find((t) => t.table === ORDERS)!.tagsDeleted.map((t) => t.tag)).toContain('nightly-export');
    expect(result.supersededApprovals).toEqual([
      expect.objectContaining({ approver: 'bob', planVersion: 1, changes: [expect.stringContaining(`${ORDERS}: new tag(s) the rollback would delete: nightly-export@`)] }),
    ]);
    expect(result).toMatchObject({ status: 'restored', approval: { approver: 'carol', planVersion: 2 } });
  });

  it('a writer that starts while the writer stops: refused, nothing rolled back, the writer restarted from today\'s savepoint', async () => {
    const { jobName, stack, a } = stackWithRestorePoint();
    const { failure, status } = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      await awaitingApproval(temporal.client, jobName);
      await approveAndActDuringStop(stack, jobName, () =>
        stack.otherJobs.push({ jobId: 'f'.repeat(32), name: 'late-writer', state: 'RUNNING', writes: [CUSTOMERS], reads: [] }),
      );
      const failure = await failureOf(handle.result());
      return { failure, status: await handle.query(restoreStatusQuery) };
    });
    expect(failure.type).toBe('OtherWriters');
    expect(failure.message).toContain(`this restore stopped job '${jobName}'`);
    expect(failure.message).toContain("'late-writer'");
    expect(failure.message).toContain("Nothing was rolled back; the writer this restore stopped is started again from today's savepoint.");
    expect(stack.callNames().filter((n) => TOUCHING_TABLES.includes(n))).toEqual([]);
    const [writer] = stack.running();
    expect(writer).toMatchObject({ restoredFrom: status.todaysSavepoint!.path });
  });

  it("the restore point's savepoint files deleted while the writer stops: refused, nothing rolled back, the writer restarted", async () => {
    const { jobName, stack, a } = stackWithRestorePoint();
    const { failure, status } = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      await awaitingApproval(temporal.client, jobName);
      await approveAndActDuringStop(stack, jobName, () => stack.removeSavepointFiles(a.path));
      const failure = await failureOf(handle.result());
      return { failure, status: await handle.query(restoreStatusQuery) };
    });
    expect(failure.type).toBe('SavepointMissing');
    expect(failure.message).toContain(`while the writer stopped, ${a.path} changed (its files are gone)`);
    expect(stack.callNames().filter((n) => TOUCHING_TABLES.includes(n))).toEqual([]);
    const [writer] = stack.running();
    expect(writer).toMatchObject({ restoredFrom: status.todaysSavepoint!.path });
  });
});
