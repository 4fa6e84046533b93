// Waiting for the restore's plan with one update (workflows/restore-plan-wait.ts) instead of polling
// the plan query: answered when the plan is there, when a newer one comes, when the restore goes on
// past its approval, and when it ends without one.
import { describe, expect, it } from 'vitest';
import { awaitRestorePlan } from '../../src/client/approval';
import { startRestore } from '../../src/client/start-restore';
import { operationWorkflowId } from '../../workflows/messages';
import { awaitPlanUpdate } from '../../workflows/restore-messages';
import { FakeStack } from '../support/fake-stack';
import { unique, useWorkflowTestEnv } from '../support/temporal-env';
import { approveSigned } from '../support/approvals';
import { withWorker } from './fixtures';
import { awaitingApproval, failureOf, restoreInput, TABLES } from './restore-fixtures';

const temporal = useWorkflowTestEnv();

function stackWithRestorePoint() {
  const jobName = unique('orders');
  const stack = new FakeStack({ jobName, tables: TABLES });
  const a = stack.seedRestorePoint(2);
  return { jobName, stack, a };
}

describe('waiting for the restore plan', () => {
  it('asked at the start: answered with plan 1 once it waits for approval, the plan the query gives', async () => {
    const { jobName, stack, a } = stackWithRestorePoint();
    const { waited, queried, names } = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      const release = stack.hold('tableState');
      const waiting = awaitRestorePlan(temporal.client, { jobName });
      // Still planning: the wait is not answered before the plan's last reads are.
      for (let i = 0; i < 400 && stack.callsOf('tableState').length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      const early = await Promise.race([waiting.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
      expect(early).toBe('waiting');
      release();
      const waited = await waiting;
      const queried = await awaitingApproval(temporal.client, jobName);
      await handle.terminate('test done');
      return { waited, queried, names: (await handle.fetchHistory()).events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length };
    });
    expect(waited).toEqual(queried);
    expect(waited).toMatchObject({ version: 1, restorePoint: { savepointId: a.savepointId } });
    expect(names).toBe(1);
  });

  it('after plan 1: answered with plan 2 when the plan changed after an approval, or with plan 1 once the restore went on', async () => {
    const changed = stackWithRestorePoint();
    const { second, first } = await withWorker(temporal.env, temporal.bundle, changed.stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(changed.jobName, changed.a.savepointId), { taskQueue });
      await awaitRestorePlan(temporal.client, { jobName: changed.jobName });
      const newer = awaitRestorePlan(temporal.client, { jobName: changed.jobName }, 1);
      // The re-plan after the approval finds a new tag on one table.
      const release = changed.stack.hold('listTags');
      const approving = approveSigned(temporal.client, { jobName: changed.jobName }, { approver: 'bob', planVersion: 1 });
      for (let i = 0; i < 200 && changed.stack.callsOf('listTags').length <= TABLES.length; i++) await new Promise((r) => setTimeout(r, 25));
      const orders = changed.stack.table('demo.orders');
      orders.tags.set('nightly-export', orders.snapshot);
      release();
      const first = await approving;
      const second = await newer;
      await handle.terminate('test done');
      return { second, first };
    });
    expect(first).toMatchObject({ planVersion: 1, outcome: 'plan-changed' });
    expect(second).toMatchObject({ version: 2 });
    expect(second!.irreversible).toContain('nightly-export on demo.orders');

    const held = stackWithRestorePoint();
    const { after, result } = await withWorker(temporal.env, temporal.bundle, held.stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(held.jobName, held.a.savepointId), { taskQueue });
      await awaitRestorePlan(temporal.client, { jobName: held.jobName });
      const after = awaitRestorePlan(temporal.client, { jobName: held.jobName }, 1);
      await approveSigned(temporal.client, { jobName: held.jobName }, { approver: 'bob', planVersion: 1 });
      return { after: await after, result: await handle.result() };
    });
    expect(result.status).toBe('restored');
    // No plan above 1 came: the restore went on with plan 1.
    expect(after).toMatchObject({ version: 1 });
  });

  it('a restore refused while planning: the wait ends with no plan; a bad afterVersion is refused by the validator, never recorded', async () => {
    const { jobName, stack, a } = stackWithRestorePoint();
    stack.table('demo.customers').tags.delete(`savepoint-${a.savepointId}`);
    const { waited, failure } = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      const waited = await awaitRestorePlan(temporal.client, { jobName });
      return { waited, failure: await failureOf(handle.result()) };
    });
    expect(failure.type).toBe('TagMissing');
    expect(waited).toBeUndefined();

    const waiting = stackWithRestorePoint();
    const { refused, accepted } = await withWorker(temporal.env, temporal.bundle, waiting.stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(waiting.jobName, waiting.a.savepointId), { taskQueue });
      await awaitRestorePlan(temporal.client, { jobName: waiting.jobName });
      const refused = await temporal.client.workflow
        .getHandle(operationWorkflowId({ jobName: waiting.jobName }))
        .executeUpdate(awaitPlanUpdate, { args: [{ afterVersion: -1 }] })
        .catch((e: unknown) => e);
      const accepted = (await handle.fetchHistory()).events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
      await handle.terminate('test done');
      return { refused, accepted };
    });
    expect(String((refused as Error).cause ?? refused)).toContain('afterVersion must be a whole number of at least 0, got -1');
    expect(accepted).toBe(1);
  });
});
