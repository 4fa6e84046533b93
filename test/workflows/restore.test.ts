// The restore workflow against the in-memory Flink and Paimon (test/support/fake-stack.ts): each
// test drives the approval through the client helpers and checks the calls and the end state.
import { describe, expect, it } from 'vitest';
import { ApprovalRefusedError, approveRestore, restorePlan } from '../../src/client/approval';
import { OperationAlreadyRunningError } from '../../src/client/operation';
import { InvalidRestoreInputError, startRestore } from '../../src/client/start-restore';
import { flinkJobKey, operationStepKey, operationWorkflowId } from '../../workflows/messages';
import { approveSignal, restoreStatusQuery, type RestoreResult, type RestoreStatus } from '../../workflows/restore-messages';
import { FAKE_VERTEX, FakeStack } from '../support/fake-stack';
import { unique, useWorkflowTestEnv } from '../support/temporal-env';
import { withWorker } from './fixtures';
import { awaitingApproval, CHANGING, failureOf, restoreInput, TABLES } from './restore-fixtures';
import { approveSigned, rejectSigned, signedBy } from '../support/approvals';

const temporal = useWorkflowTestEnv();

/** A running job with restore point A, rows after it, and a newer restore point B. */
function stackWithRestorePoints(tables = TABLES) {
  const jobName = unique('orders');
  const stack = new FakeStack({ jobName, tables });
  const a = stack.seedRestorePoint(2);
  const b = stack.seedRestorePoint(1);
  return { jobName, stack, a, b };
}

/** Snapshot ids and tags of every table: what "nothing changed" compares. */
const tablesOf = (stack: FakeStack) =>
  [...stack.tables].map(([table, t]) => ({ table, snapshot: t.snapshot, tags: [...t.tags], branches: [...t.branches] }));

const steps = (status: RestoreStatus) => status.timings.map((t) => t.step);

/**
 * Approves plan 1; while stop-with-savepoint runs, an old tag of the name the stop's savepoint gets
 * appears on `table` (after the check before the stop: the check after it is the backstop).
 */
async function approveWhileTagNameIsTaken(stack: FakeStack, jobName: string, table: string): Promise<string> {
  const taken = `savepoint-${stack.nextSavepointId}`;
  const release = stack.hold('stopWithSavepoint');
  const approving = approveSigned(temporal.client, { jobName }, { approver: 'bob' });
  for (let i = 0; i < 400 && stack.callsOf('stopWithSavepoint').length === 0; i++) await new Promise((r) => setTimeout(r, 25));
  expect(stack.callsOf('stopWithSavepoint')).toHaveLength(1);
  stack.table(table).tags.set(taken, 1);
  release();
  await approving;
  return taken;
}

describe('restoreWorkflow', () => {
  it('approved: plans, waits, stops the writer with a savepoint, branches, rolls back every table, restarts from A', async () => {
    const { jobName, stack, a, b } = stackWithRestorePoints();
    const before = tablesOf(stack);
    const { result, plan, answer, memo } = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      expect(handle.workflowId).toBe(operationWorkflowId({ jobName }));
      const plan = await awaitingApproval(temporal.client, jobName);
      // Nothing changes while the plan waits.
      expect(stack.callNames().filter((n) => CHANGING.includes(n))).toEqual([]);
      expect(tablesOf(stack)).toEqual(before);
      const { memo, typedSearchAttributes } = await handle.describe();
      expect(typedSearchAttributes.get(flinkJobKey)).toBe(jobName);
      expect(await restorePlan(temporal.client, { jobName })).toEqual(plan);

      const answer = await approveSigned(temporal.client, { jobName }, { approver: 'bob', comment: 'checked the blast radius', planVersion: 1 });
      return { result: await handle.result(), plan, answer, memo };
    });

    // The plan: restore point A resolved to its savepoint and tag, the blast radius per table.
    const tag = `savepoint-${a.savepointId}`;
    expect(plan.restorePoint).toMatchObject({ savepointId: a.savepointId, tag, path: a.path });
    expect(plan.writer).toMatchObject({ jobId: stack.initialJobId, state: 'RUNNING', action: 'stop-with-savepoint' });
    for (const t of plan.tables) {
      const at = before.find((x) => x.table === t.table)!;
      const tagSnapshot = new Map(at.tags).get(tag)!;
      expect(t).toEqual({
        table: t.table,
        tagSnapshotId: tagSnapshot,
        tagSchemaId: 0,
        recordsAtTag: tagSnapshot * 10,
        latestSnapshotId: at.snapshot,
        recordsNow: at.snapshot * 10,
        snapshotsDeleted: at.snapshot - tagSnapshot,
        tagsDeleted: [{ tag: `savepoint-${b.savepointId}`, snapshotId: new Map(at.tags).get(`savepoint-${b.savepointId}`)! }],
        restorePointsLost: [`savepoint-${b.savepointId}`],
      });
    }
    expect(plan.irreversible).toContain(`savepoint-${b.savepointId} on demo.orders`);
    expect(plan.irreversible).toContain("today's savepoint");
    expect(plan.undo).toContain(`INSERT OVERWRITE \`demo\`.\`orders\` SELECT * FROM \`demo\`.\`orders$branch_before_restore_`);
    expect(memo).toMatchObject({ restorePlan: plan.summary, planVersion: 1 });
    expect(answer).toEqual({ planVersion: 1, outcome: 'proceeding' });

    // The writer stopped with a savepoint before any table was touched, and only once.
    const names = stack.callNames();
    const stop = names.indexOf('stopWithSavepoint');
    expect(stop).toBeGreaterThan(-1);
    expect(names.filter((n) => n === 'stopWithSavepoint')).toHaveLength(1);
    expect(names.indexOf('rollbackToTag')).toBeGreaterThan(names.indexOf('createBranch'));
    expect(names.indexOf('createBranch')).toBeGreaterThan(stop);
    expect(stack.job(stack.initialJobId).state).toBe('FINISHED');

    // Every table at the tag; the undo branch keeps the snapshot from just before the rollback.
    const undo = result.undo!.branch;
    for (const table of TABLES) {
      const t = stack.table(table);
      const rollback = stack.rollbacks.find((r) => r.table === table)!;
      expect(rollback).toEqual({ table, tag, snapshot: new Map(before.find((x) => x.table === table)!.tags).get(tag) });
      expect(t.tags.has(`savepoint-${b.savepointId}`)).toBe(false);
      expect(t.tags.has(result.todaysSavepoint!.tag)).toBe(false);
      expect(t.branches.get(undo)).toBe(rollback.snapshot + 5); // A's snapshot + 2 commits + B + 1 commit + today's stop
    }

    const [restarted] = stack.running();
    expect(stack.running()).toHaveLength(1);
    expect(restarted).toMatchObject({ version: 'v1', restoredFrom: a.path });
    expect(result).toMatchObject<Partial<RestoreResult>>({
      status: 'restored',
      job: jobName,
      newJobId: restarted.jobId,
      approval: { approver: 'bob', comment: 'checked the blast radius', planVersion: 1, via: 'update', at: expect.any(String) },
      plan: { ...plan, version: 1 },
    });
    expect(result.todaysSavepoint?.savepointId).toBeGreaterThan(b.savepointId);
    // What the rollback deleted, counted as it ran: the writer's last commits and today's stop came
    // after the plan, so there are more snapshots than the plan's estimate, and today's tag is among the tags.
    expect(result.tables).toEqual(
      TABLES.map((table) => {
        const to = stack.rollbacks.find((r) => r.table === table)!.snapshot;
        return {
          table,
          rolledBack: true,
          snapshotId: to,
          schemaId: 0,
          records: expect.any(Number),
          previousSnapshotId: to + 5,
          snapshotsDeleted: 5,
          tagsDeleted: [`savepoint-${b.savepointId}`, result.todaysSavepoint!.tag].sort(),
        };
      }),
    );
    for (const t of plan.tables) expect(t.snapshotsDeleted).toBeLessThan(5);
    expect(result.tables!.every((t) => t.tagsDeleted!.length === plan.tables.find((p) => p.table === t.table)!.tagsDeleted.length + 1)).toBe(true);
    // The Temporal UI shows how it ended without opening the history.
    const ended = await temporal.client.workflow.getHandle(operationWorkflowId({ jobName })).describe();
    expect(ended.memo).toMatchObject({ outcome: 'restored' });
    expect(ended.memo).not.toHaveProperty('reason');
    expect(steps(result)).toEqual([
      'validating-input',
      'planning',
      'awaiting-approval',
      're-planning',
      'stopping-writer',
      'awaiting-savepoint-tag',
      'creating-undo-branches',
      'rolling-back-tables',
      'deploying',
      'awaiting-health',
      'restored',
    ]);
  });

  it('rejected: ends rejected, nothing stopped, no table changed', async () => {
    const { jobName, stack, a } = stackWithRestorePoints();
    const before = tablesOf(stack);
    const result = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      await awaitingApproval(temporal.client, jobName);
      await rejectSigned(temporal.client, { jobName }, { approver: 'carol', comment: 'not during business hours' });
      return handle.result();
    });
    expect(result).toMatchObject({ status: 'rejected', rejection: { rejectedBy: 'carol', comment: 'not during business hours', planVersion: 1 } });
    expect(result.approval).toBeUndefined();
    expect(stack.callNames().filter((n) => CHANGING.includes(n))).toEqual([]);
    expect(tablesOf(stack)).toEqual(before);
    expect(stack.job(stack.initialJobId).state).toBe('RUNNING');
  });

  it('a version that fails the deployment check is refused while planning: no plan to approve, nothing stopped', async () => {
    const { jobName, stack, a } = stackWithRestorePoints();
    const before = tablesOf(stack);
    stack.badDeployments.set('v1', 'scriptFile ../../etc/passwd resolves outside the deployments root');
    const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      failureOf((await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue })).result()),
    );
    expect(failure.type).toBe('DeploymentCheckFailed');
    expect(failure.message).toContain('v1: scriptFile ../../etc/passwd');
    // The refusal's reason is in the memo, where the Temporal UI shows it without the history.
    const { memo } = await temporal.client.workflow.getHandle(operationWorkflowId({ jobName })).describe();
    expect(memo).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('v1: scriptFile ../../etc/passwd') });
    expect(stack.callsOf('checkDeployments')).toEqual([{ deployments: [restoreInput(jobName, a.savepointId).deployment], sinkTables: TABLES }]);
    expect(stack.callNames().filter((n) => CHANGING.includes(n))).toEqual([]);
    expect(tablesOf(stack)).toEqual(before);
    expect(stack.job(stack.initialJobId).state).toBe('RUNNING');
  });

  it('expired: no decision within approvalTimeout ends expired with nothing changed', async () => {
    const { jobName, stack, a } = stackWithRestorePoints();
    const before = tablesOf(stack);
    const result = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      (await startRestore(temporal.client, restoreInput(jobName, a.savepointId, { approvalTimeout: '2s' }), { taskQueue })).result(),
    );
    expect(result.status).toBe('expired');
    expect(result.reason).toContain('no approval within 2s');
    expect((await temporal.client.workflow.getHandle(operationWorkflowId({ jobName })).describe()).memo).toMatchObject({
      outcome: 'expired',
      reason: expect.stringContaining('no approval within 2s'),
    });
    expect(stack.callNames().filter((n) => CHANGING.includes(n))).toEqual([]);
    expect(tablesOf(stack)).toEqual(before);
    expect(stack.job(stack.initialJobId).state).toBe('RUNNING');
  });

  it('an identity that is not an approver is refused by the validator and never recorded; an invalid signal is ignored', async () => {
    const { jobName, stack, a } = stackWithRestorePoints();
    const { refusal, history, result } = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      await awaitingApproval(temporal.client, jobName);
      const refusal = await approveSigned(temporal.client, { jobName }, { approver: 'mallory', comment: 'trust me' }).catch((e: unknown) => e);
      await handle.signal(approveSignal, { approver: 'mallory' });
      // Still waiting: neither the update nor the signal approved anything.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await handle.describe()).typedSearchAttributes.get(operationStepKey)).toBe('awaiting-approval');
      await rejectSigned(temporal.client, { jobName }, { approver: 'bob' });
      const result = await handle.result();
      return { refusal, history: await handle.fetchHistory(), result };
    });
    expect(refusal).toBeInstanceOf(ApprovalRefusedError);
    expect((refusal as Error).message).toContain("'mallory' is not an approver of this restore (approvers: alice, bob, carol)");
    // The refused update left no trace in the history; only bob's rejection was accepted.
    const accepted = history.events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    expect(accepted).toHaveLength(1);
    expect(JSON.stringify(history)).not.toContain(Buffer.from('"trust me"').toString('base64'));
    expect(result).toMatchObject({ status: 'rejected', rejection: { rejectedBy: 'bob' } });
    // The refused signal got no answer, so the status says it was refused, and why.
    expect(result.refusedSignals).toEqual([{ approver: 'mallory', problem: expect.stringContaining("'mallory' is not an approver"), at: expect.any(String) }]);
    expect(stack.callNames().filter((n) => CHANGING.includes(n))).toEqual([]);
  });

  it('four-eyes: the requester cannot approve; another approver can, also by signal', async () => {
    const { jobName, stack, a } = stackWithRestorePoints();
    const result = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      await awaitingApproval(temporal.client, jobName);
      await expect(approveSigned(temporal.client, { jobName }, { approver: 'alice' })).rejects.toThrow(
        "four-eyes: 'alice' asked for this restore and cannot approve it too",
      );
      await handle.signal(approveSignal, { approver: 'alice' }); // ignored the same way
      // The requester signs as carol with her own key: refused, by update and by signal.
      const asCarol = await signedBy(handle, { approver: 'carol' }, 'approve', 'alice');
      await expect(approveRestore(temporal.client, { jobName }, asCarol)).rejects.toThrow(/may not sign as 'carol'/);
      await handle.signal(approveSignal, asCarol);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(stack.callNames().filter((n) => CHANGING.includes(n))).toEqual([]);
      await handle.signal(approveSignal, await signedBy(handle, { approver: 'carol', comment: 'via the pager bot' }));
      return handle.result();
    });
    expect(result).toMatchObject({ status: 'restored', approval: { approver: 'carol', comment: 'via the pager bot', via: 'signal', proof: { kind: 'ssh-signature' } } });
    expect(result.refusedSignals?.map((r) => r.problem)).toEqual([
      "four-eyes: 'alice' asked for this restore and cannot approve it too",
      expect.stringMatching(/^key SHA256:\S+ may not sign as 'carol'/),
    ]);
    expect(stack.rollbacks.map((r) => r.table)).toEqual(TABLES);

    // The input itself refuses four-eyes without a requester, or with nobody else to approve.
    await expect(
      startRestore(temporal.client, restoreInput(jobName, a.savepointId, { requestedBy: undefined }), { taskQueue: 'unused' }),
    ).rejects.toThrow('options.requestedBy: fourEyes needs requestedBy');
    await expect(
      startRestore(temporal.client, restoreInput(jobName, a.savepointId, { approvers: ['alice'] }), { taskQueue: 'unused' }),
    ).rejects.toThrow(InvalidRestoreInputError);
  });

  it('stale plan: a tag that appears after the approval sends the new plan back for approval', async () => {
    const { jobName, stack, a } = stackWithRestorePoints();
    const { first, second, stale, result } = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      await awaitingApproval(temporal.client, jobName);
      // The re-plan after the approval waits until a new tag appeared on one table.
      const release = stack.hold('listTags');
      const approving = approveSigned(temporal.client, { jobName }, { approver: 'bob', planVersion: 1 });
      for (let i = 0; i < 200 && stack.callsOf('listTags').length <= TABLES.length; i++) await new Promise((r) => setTimeout(r, 25));
      const orders = stack.table('demo.orders');
      orders.tags.set('nightly-export', orders.snapshot);
      release();
      const first = await approving;
      const second = await awaitingApproval(temporal.client, jobName, 2);
      const stale = await approveSigned(temporal.client, { jobName }, { approver: 'bob', planVersion: 1 }).catch((e: unknown) => e);
      await approveSigned(temporal.client, { jobName }, { approver: 'carol', comment: 'the export is not needed', planVersion: 2 });
      return { first, second, stale, result: await handle.result() };
    });
    expect(first).toMatchObject({ planVersion: 1, outcome: 'plan-changed' });
    expect(first.changes).toEqual([expect.stringContaining('demo.orders: new tag(s) the rollback would delete: nightly-export@')]);
    expect(second.tables.find((t) => t.table === 'demo.orders')!.tagsDeleted.map((t) => t.tag)).toContain('nightly-export');
    expect(second.irreversible).toContain('nightly-export on demo.orders');
    expect(stale).toBeInstanceOf(ApprovalRefusedError);
    expect((stale as Error).message).toContain('plan version 1 was reviewed, but the plan is now version 2');
    // The writer was stopped only after the plan that was approved held.
    const names = stack.callNames();
    const listings = names.flatMap((n, i) => (n === 'listRestorePoints' ? [i] : []));
    expect(names.indexOf('stopWithSavepoint')).toBeGreaterThan(listings[2]); // plan, re-plan (changed), re-plan (held)
    expect(result).toMatchObject({ status: 'restored', approval: { approver: 'carol', planVersion: 2 } });
    expect(result.supersededApprovals).toEqual([
      expect.objectContaining({ approver: 'bob', planVersion: 1, changes: first.changes }),
    ]);
    expect(stack.table('demo.orders').tags.has('nightly-export')).toBe(false);
  });

  it('failure midway: the 2nd table fails to roll back; the failure names what was and was not rolled back, no job starts', async () => {
    const { jobName, stack, a } = stackWithRestorePoints();
    stack.failRollbackOn.add('demo.customers');
    const { failure, status } = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      await awaitingApproval(temporal.client, jobName);
      await approveSigned(temporal.client, { jobName }, { approver: 'bob' });
      const failure = await failureOf(handle.result());
      return { failure, status: (await handle.describe()).typedSearchAttributes.get(operationStepKey) };
    });
    const tag = `savepoint-${a.savepointId}`;
    expect(failure.type).toBe('RestoreIncomplete');
    expect(failure.message).toContain(`Rolled back to ${tag}: demo.orders; NOT rolled back: demo.customers`);
    expect(failure.message).toContain(`CALL sys.rollback_to(\`table\` => 'demo.customers', tag => '${tag}')`);
    expect(failure.message).toContain('Or undo what was done: Before the rollback every sink table gets branch');
    expect(failure.message).toContain('No job was started');
    const [details] = failure.details as [RestoreStatus];
    expect(details.tables).toEqual([
      {
        table: 'demo.orders',
        rolledBack: true,
        snapshotId: expect.any(Number),
        schemaId: 0,
        records: expect.any(Number),
        previousSnapshotId: expect.any(Number),
        snapshotsDeleted: expect.any(Number),
        tagsDeleted: expect.any(Array),
      },
      { table: 'demo.customers', rolledBack: false },
    ]);
    expect(status).toBe('failed');
    expect(stack.rollbacks.map((r) => r.table)).toEqual(['demo.orders']);
    // One attempt: the failure is non-retryable. No job runs on the half-restored tables.
    expect(stack.callsOf('rollbackToTag').filter((c) => c.table === 'demo.customers')).toHaveLength(1);
    expect(stack.running()).toEqual([]);
  });

  it('a table not at its tag after every rollback ran: the failure says all were rolled back and which check failed, from metadata', async () => {
    const { jobName, stack, a } = stackWithRestorePoints();
    stack.offAfterRollback.add('demo.customers');
    const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      await awaitingApproval(temporal.client, jobName);
      await approveSigned(temporal.client, { jobName }, { approver: 'bob' });
      return failureOf(handle.result());
    });
    const tag = `savepoint-${a.savepointId}`;
    const atTag = stack.rollbacks.find((r) => r.table === 'demo.customers')!.snapshot;
    expect(failure.type).toBe('RestoreIncomplete');
    expect(failure.message).toContain(
      `every sink table was rolled back to ${tag}, but the check after the rollback of demo.customers failed: after rollback_to demo.customers ` +
        `is not at tag ${tag}: its snapshot counts ${atTag * 10 + 1} records in data files, the tag ${atTag * 10}. No job was started.`,
    );
    expect(failure.message).not.toContain('NOT rolled back');
    expect(stack.rollbacks.map((r) => r.table)).toEqual(['demo.orders', 'demo.customers']);
    expect(stack.running()).toEqual([]);
  });

  it("today's tag is an older one of the same name, come during the stop: fails before any rollback and restarts the writer from today's savepoint", async () => {
    const { jobName, stack, a } = stackWithRestorePoints();
    // The name the stop's savepoint gets is taken while it runs (an old tag put back): Paimon keeps
    // the old tag and tags nothing.
    const { failure, status, taken } = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      await awaitingApproval(temporal.client, jobName);
      const taken = await approveWhileTagNameIsTaken(stack, jobName, 'demo.customers');
      const failure = await failureOf(handle.result());
      return { failure, status: await handle.query(restoreStatusQuery), taken };
    });
    expect(failure.type).toBe('TagMissing');
    expect(failure.message).toContain(`tag '${taken}' of the savepoint the writer stopped with is an older tag of the same name on demo.customers`);
    expect(failure.message).not.toContain('on demo.orders');
    expect(failure.message).toContain('nothing was rolled back');
    expect(stack.callNames()).not.toContain('rollbackToTag');
    expect(stack.callNames()).not.toContain('createBranch');
    // The saga put the writer back on today's savepoint.
    const [writer] = stack.running();
    expect(stack.running()).toHaveLength(1);
    expect(writer).toMatchObject({ version: 'v1', restoredFrom: status.todaysSavepoint!.path });
    expect(status).toMatchObject({ step: 'failed', restartedJobId: writer.jobId });
    expect(steps(status)).toEqual(expect.arrayContaining(['stopping-writer', 'restarting-writer', 'awaiting-writer-health', 'failed']));
  });

  it('application mode, local launcher: the restored job\'s cluster is prepared before the stop under its deploy\'s token; a failure before the rollback releases it', async () => {
    const target = { kind: 'application', launcher: 'local' } as const;
    // Restored: the deploy from A uses the prepared cluster's token, nothing is released.
    {
      const { jobName, stack, a } = stackWithRestorePoints();
      await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
        const handle = await startRestore(temporal.client, { ...restoreInput(jobName, a.savepointId), target }, { taskQueue });
        await awaitingApproval(temporal.client, jobName);
        await approveSigned(temporal.client, { jobName }, { approver: 'bob' });
        await handle.result();
      });
      const names = stack.callNames();
      expect(names.indexOf('prepareVersion')).toBeGreaterThan(-1);
      expect(names.indexOf('prepareVersion')).toBeLessThan(names.indexOf('stopWithSavepoint'));
      const [prepare] = stack.callsOf('prepareVersion');
      expect(prepare).toMatchObject({ deployment: { version: 'v1' }, target, jobName });
      expect(stack.callsOf('deployJob')).toEqual([expect.objectContaining({ deployToken: prepare.deployToken, savepointPath: a.path })]);
      expect(stack.callsOf('releaseVersion')).toEqual([]);
    }
    // Today's tag taken during the stop: the writer restarts from today's savepoint, the prepared cluster is released.
    {
      const { jobName, stack, a } = stackWithRestorePoints();
      const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
        const handle = await startRestore(temporal.client, { ...restoreInput(jobName, a.savepointId), target }, { taskQueue });
        await awaitingApproval(temporal.client, jobName);
        await approveWhileTagNameIsTaken(stack, jobName, 'demo.customers');
        return failureOf(handle.result());
      });
      expect(failure.type).toBe('TagMissing');
      const [prepare] = stack.callsOf('prepareVersion');
      expect(stack.callsOf('releaseVersion')).toEqual([{ deployToken: prepare.deployToken, target }]);
      expect(stack.callsOf('deployJob').map((d) => d.deployToken === prepare.deployToken)).toEqual([false]);
    }
  });

  it('the session cluster: the restored SQL version\'s session is prepared beside the stop with the restore point\'s savepoint, under its deploy\'s token', async () => {
    const { jobName, stack, a } = stackWithRestorePoints();
    await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      await awaitingApproval(temporal.client, jobName);
      await approveSigned(temporal.client, { jobName }, { approver: 'bob' });
      await handle.result();
    });
    // Scheduled by the same workflow task as the stop: it adds no step before the stop.
    const history = await temporal.client.workflow.getHandle(operationWorkflowId({ jobName })).fetchHistory();
    const task = (name: string) => {
      const i = history.events!.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name);
      return history.events![i]!.activityTaskScheduledEventAttributes!.workflowTaskCompletedEventId?.toString();
    };
    expect(task('prepareVersion')).toBe(task('stopWithSavepoint'));
    const [prepare] = stack.callsOf('prepareVersion');
    expect(prepare).toMatchObject({ deployment: { version: 'v1' }, savepointPath: a.path, allowNonRestoredState: false });
    expect(stack.callsOf('deployJob')).toEqual([expect.objectContaining({ deployToken: prepare.deployToken, savepointPath: a.path })]);
    expect(stack.callsOf('releaseVersion')).toEqual([]);
  });

  it('a sink table holds a savepoint tag above the writer\'s latest checkpoint (an earlier run): refused at the plan, nothing stopped', async () => {
    const { jobName, stack, a } = stackWithRestorePoints();
    // An earlier run of the job (started afresh, checkpoint ids from 1 again) left the name the stop's savepoint would get.
    const taken = `savepoint-${stack.nextSavepointId}`;
    stack.table('demo.customers').tags.set(taken, 1);
    const before = tablesOf(stack);
    const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      failureOf((await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue })).result()),
    );
    expect(failure.type).toBe('TagCollision');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`the latest completed checkpoint of the writer, job '${jobName}' (${stack.initialJobId}), is ${stack.nextSavepointId - 1}`);
    expect(failure.message).toContain(`(demo.customers: ${taken})`);
    expect(failure.message).toContain('Delete or rename the old tag(s)');
    expect(failure.message).toContain('Nothing was changed');
    expect(stack.callNames().filter((n) => CHANGING.includes(n))).toEqual([]);
    expect(stack.job(stack.initialJobId).state).toBe('RUNNING');
    expect(tablesOf(stack)).toEqual(before);
  });

  it("a restore point from an earlier run (its id above the writer's checkpoints) is restored; the other old tags refuse it", async () => {
    // Points 41 and 42, then the job started afresh: its checkpoints count from 1 again.
    const { jobName, stack, a, b } = stackWithRestorePoints();
    stack.checkpointIdsStartAgainAt(5);
    const refused = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      failureOf((await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue })).result()),
    );
    // savepoint-42 may be the stop's name one day; savepoint-41 is the point restored, needed as it is.
    expect(refused.type).toBe('TagCollision');
    expect(refused.message).toContain(`(demo.orders: savepoint-${b.savepointId}; demo.customers: savepoint-${b.savepointId})`);
    expect(refused.message).not.toContain(`savepoint-${a.savepointId}`);
    expect(stack.callNames()).not.toContain('stopWithSavepoint');

    const only = stackWithRestorePoints();
    for (const t of TABLES) only.stack.table(t).tags.delete(`savepoint-${only.b.savepointId}`);
    only.stack.checkpointIdsStartAgainAt(5);
    const result = await withWorker(temporal.env, temporal.bundle, only.stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(only.jobName, only.a.savepointId), { taskQueue });
      await awaitingApproval(temporal.client, only.jobName);
      await approveSigned(temporal.client, { jobName: only.jobName }, { approver: 'bob' });
      return handle.result();
    });
    expect(result.status).toBe('restored');
    expect(result.todaysSavepoint).toMatchObject({ savepointId: 5, tag: 'savepoint-5' });
    expect(only.stack.rollbacks.map((r) => r.tag)).toEqual([`savepoint-${only.a.savepointId}`, `savepoint-${only.a.savepointId}`]);
  });

  it('a writer an upgrade scaled apart from its graph: the restored job, and a writer restarted by the saga, run at its parallelism', async () => {
    const scaled = { graphParallelism: 1, overrides: { [FAKE_VERTEX]: 2, ['b'.repeat(32)]: 1 } };
    const restore = async (stack: FakeStack, jobName: string, savepointId: number, tagTakenDuringStop?: string) =>
      withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
        const handle = await startRestore(temporal.client, restoreInput(jobName, savepointId), { taskQueue });
        await awaitingApproval(temporal.client, jobName);
        if (tagTakenDuringStop) await approveWhileTagNameIsTaken(stack, jobName, tagTakenDuringStop);
        else await approveSigned(temporal.client, { jobName }, { approver: 'bob' });
        await handle.result().catch(() => undefined);
        return handle.query(restoreStatusQuery);
      });

    const restored = stackWithRestorePoints();
    restored.stack.job(restored.stack.initialJobId).parallelism = scaled;
    const status = await restore(restored.stack, restored.jobName, restored.a.savepointId);
    expect(status.step).toBe('restored');
    expect(status.writerParallelism).toEqual(scaled);
    // Read before the stop: the job is gone after it.
    const names = restored.stack.callNames();
    expect(names.indexOf('jobParallelism')).toBeLessThan(names.indexOf('stopWithSavepoint'));
    expect(restored.stack.callsOf('deployJob')).toEqual([expect.objectContaining({ savepointPath: restored.a.path, parallelism: scaled })]);
    expect(restored.stack.running()).toEqual([expect.objectContaining({ restoredFrom: restored.a.path, parallelism: scaled })]);

    // The saga's restart from today's savepoint (today's tag is an older one of the same name).
    const restarted = stackWithRestorePoints();
    restarted.stack.job(restarted.stack.initialJobId).parallelism = scaled;
    const failed = await restore(restarted.stack, restarted.jobName, restarted.a.savepointId, 'demo.customers');
    expect(failed.step).toBe('failed');
    expect(restarted.stack.callsOf('deployJob')).toEqual([expect.objectContaining({ savepointPath: failed.todaysSavepoint!.path, parallelism: scaled })]);

    // A writer at its graph's parallelism everywhere: nothing to set, the deploy is as before.
    const plain = stackWithRestorePoints();
    const plainStatus = await restore(plain.stack, plain.jobName, plain.a.savepointId);
    expect(plainStatus.step).toBe('restored');
    expect(plainStatus.writerParallelism).toBeUndefined();
    expect(plain.stack.callsOf('deployJob')[0]).not.toHaveProperty('parallelism');
  });

  it("reads the approvers' keys beside the plan's first reads, and the writer's parallelism beside the plan made again", async () => {
    const { jobName, stack, a } = stackWithRestorePoints();
    const history = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      await awaitingApproval(temporal.client, jobName);
      await approveSigned(temporal.client, { jobName }, { approver: 'bob', planVersion: 1 });
      expect((await handle.result()).status).toBe('restored');
      return handle.fetchHistory();
    });
    // Activities scheduled by the same workflow task start together: group them by it.
    const scheduled = (history.events ?? []).flatMap((e) => {
      const s = e.activityTaskScheduledEventAttributes;
      return s ? [{ name: s.activityType!.name!, task: Number(s.workflowTaskCompletedEventId) }] : [];
    });
    const together = (name: string, nth = 0) => {
      const task = scheduled.filter((s) => s.name === name)[nth]!.task;
      return scheduled.filter((s) => s.task === task).map((s) => s.name).sort();
    };
    expect(together('awaitApproverKeys')).toEqual(['awaitApproverKeys', 'checkDeployments', 'resolveJob']);
    expect(together('jobParallelism')).toEqual(['checkDeployments', 'jobParallelism', 'resolveJob']);
    // The parallelism read once, for the plan that held, before the stop.
    expect(scheduled.filter((s) => s.name === 'jobParallelism')).toHaveLength(1);
    expect(together('resolveJob', 1)).toContain('jobParallelism');
  });

  it('refuses a run typed into the UI under another workflow id than flink-job/<job>, before any activity', async () => {
    const { jobName, stack, a } = stackWithRestorePoints();
    const before = tablesOf(stack);
    const failure = await withWorker(temporal.env, temporal.bundle, stack, (taskQueue) =>
      failureOf(temporal.client.workflow.execute('restoreWorkflow', { taskQueue, workflowId: unique('ui'), args: [restoreInput(jobName, a.savepointId)] })),
    );
    expect(failure.type).toBe('InvalidInput');
    expect(failure.message).toContain(`must run as 'flink-job/${jobName}'`);
    expect(stack.callNames()).toEqual([]);
    expect(tablesOf(stack)).toEqual(before);
  });

  it('tag missing on one table: fails in planning with the table named, nothing changed', async () => {
    const { jobName, stack, a } = stackWithRestorePoints();
    stack.table('demo.customers').tags.delete(`savepoint-${a.savepointId}`);
    const before = tablesOf(stack);
    const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      failureOf((await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue })).result()),
    );
    expect(failure.type).toBe('TagMissing');
    expect(failure.message).toContain(`tag 'savepoint-${a.savepointId}' is missing on demo.customers`);
    expect(failure.message).not.toContain('missing on demo.orders');
    expect(failure.message).toContain('Nothing was changed');
    expect(stack.callNames().filter((n) => CHANGING.includes(n))).toEqual([]);
    expect(tablesOf(stack)).toEqual(before);
    expect(stack.job(stack.initialJobId).state).toBe('RUNNING');
  });

  it("'latest-restorable' picks the newest restore point; a second operation on the job is refused", async () => {
    const { jobName, stack, b } = stackWithRestorePoints();
    await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const input = { ...restoreInput(jobName, 0), restorePoint: 'latest-restorable' as const };
      const handle = await startRestore(temporal.client, input, { taskQueue });
      const plan = await awaitingApproval(temporal.client, jobName);
      expect(plan.restorePoint.savepointId).toBe(b.savepointId);
      const refusal = await startRestore(temporal.client, input, { taskQueue }).catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(OperationAlreadyRunningError);
      expect((refusal as Error).message).toContain(`restoreWorkflow '${operationWorkflowId({ jobName })}'`);
      await rejectSigned(temporal.client, { jobName }, { approver: 'alice', comment: 'withdrawn by the requester' });
      expect((await handle.result()).status).toBe('rejected');
    });
  });
});
