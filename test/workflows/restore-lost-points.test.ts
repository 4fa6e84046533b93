// The restore marks the restore points its rollback deleted as lost in the catalog, after the
// rollback and beside the restored job's deploy, and ends only once they are marked (so its later
// savepoints, which take the same ids, are not refused); a catalog that cannot be written never
// fails the restore. Against the fake stack.
import { describe, expect, it } from 'vitest';
import { startRestore } from '../../src/client/start-restore';
import { FakeStack } from '../support/fake-stack';
import { unique, useWorkflowTestEnv } from '../support/temporal-env';
import { withWorker } from './fixtures';
import { awaitingApproval, restoreInput, TABLES } from './restore-fixtures';
import { approveSigned } from '../support/approvals';

const temporal = useWorkflowTestEnv();

/** A running job with restore points A, B and C, and commits between them; restore to A. */
async function restoreToA(stack: FakeStack, jobName: string, a: number, beforeResult: () => Promise<void> = async () => undefined) {
  return withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
    const handle = await startRestore(temporal.client, restoreInput(jobName, a), { taskQueue });
    await awaitingApproval(temporal.client, jobName);
    await approveSigned(temporal.client, { jobName }, { approver: 'bob', planVersion: 1 });
    await beforeResult();
    return handle.result();
  });
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 800 && !done(); i++) await new Promise((r) => setTimeout(r, 25));
}

describe('restoreWorkflow and the restore points its rollback deletes', () => {
  it('marks every savepoint-<id> tag the rollback deleted (B, C and the stop) as lost, after the rollback and beside the deploy', async () => {
    const jobName = unique('lost');
    const stack = new FakeStack({ jobName, tables: TABLES });
    const a = stack.seedRestorePoint(2);
    const b = stack.seedRestorePoint(1);
    const c = stack.seedRestorePoint(1);
    const tagsBefore = new Map(TABLES.map((t) => [t, new Map(stack.table(t).tags)]));
    // The marking held until the restored job is healthy: the restore still waits for it.
    const releaseMark = stack.hold('markRestorePointsLost');
    let healthyBeforeMarked = false;

    const result = await restoreToA(stack, jobName, a.savepointId, async () => {
      await until(() => stack.callNames().includes('awaitHealthy') && stack.callNames().includes('markRestorePointsLost'));
      healthyBeforeMarked = stack.callNames().includes('awaitHealthy');
      releaseMark();
    });

    expect(result.status).toBe('restored');
    expect(healthyBeforeMarked).toBe(true);
    const stop = result.todaysSavepoint!;
    const names = stack.callNames();
    const mark = names.indexOf('markRestorePointsLost');
    expect(names.filter((n) => n === 'markRestorePointsLost')).toHaveLength(1);
    expect(mark).toBeGreaterThan(names.lastIndexOf('rollbackToTag'));
    const [input] = stack.callsOf('markRestorePointsLost');
    const deleted = (id: number) =>
      TABLES.map((table) => ({ table, tag: `savepoint-${id}`, snapshotId: id === stop.savepointId ? expect.any(Number) : tagsBefore.get(table)!.get(`savepoint-${id}`) }));
    expect(input).toEqual({
      jobName,
      tagsDeleted: expect.arrayContaining([...deleted(b.savepointId), ...deleted(c.savepointId), ...deleted(stop.savepointId)]),
      deletedBy: expect.stringMatching(new RegExp(`^rollback_to savepoint-${a.savepointId} by restore `)),
      at: expect.any(String),
    });
    expect(input.tagsDeleted).toHaveLength(6);
    expect(result.restorePointsMarkedLost).toEqual([
      { savepointId: b.savepointId, path: b.path },
      { savepointId: c.savepointId, path: c.path },
      { savepointId: stop.savepointId, path: stop.path },
    ]);
    expect(result.restorePointsNotMarkedLost).toBeUndefined();
  });

  it('a catalog that cannot mark them does not fail the restore: the job runs, the result says why', async () => {
    const jobName = unique('lost-down');
    const stack = new FakeStack({ jobName, tables: TABLES });
    const a = stack.seedRestorePoint(2);
    stack.seedRestorePoint(1);
    stack.refuseMarkLost = 'restore-points volume is read-only';

    const result = await restoreToA(stack, jobName, a.savepointId);

    expect(result.status).toBe('restored');
    expect(stack.running()).toEqual([expect.objectContaining({ restoredFrom: a.path })]);
    expect(result.restorePointsNotMarkedLost).toContain('restore-points volume is read-only');
    expect(result.restorePointsMarkedLost).toBeUndefined();
  });
});
