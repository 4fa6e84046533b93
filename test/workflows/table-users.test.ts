// Other writers and readers of the sink tables (issue 16, item 4), on the in-memory stack: a job of
// another name writing a sink table refuses the restore and the upgrade before anything is
// stopped; readers and consumers are named in the plan with what they see and the remedy.
import { describe, expect, it } from 'vitest';
import type { TableJob } from '../../activities/contract';
import { startRestore } from '../../src/client/start-restore';
import { startUpgrade } from '../../src/client/start-upgrade';
import { FakeStack } from '../support/fake-stack';
import { unique, useWorkflowTestEnv } from '../support/temporal-env';
import { upgradeInput, withWorker } from './fixtures';
import { awaitingApproval, CHANGING, failureOf, restoreInput, TABLES } from './restore-fixtures';
import { approveSigned } from '../support/approvals';

const temporal = useWorkflowTestEnv();

const [ORDERS, CUSTOMERS] = TABLES as [string, string];

let nextJob = 0xf00;
const otherJob = (name: string, job: Partial<TableJob>): TableJob => ({
  jobId: (nextJob++).toString(16).padStart(32, '0'),
  name,
  state: 'RUNNING',
  writes: [],
  reads: [],
  ...job,
});

function stackWithRestorePoint() {
  const jobName = unique('orders');
  const stack = new FakeStack({ jobName, tables: TABLES });
  const a = stack.seedRestorePoint(2);
  return { jobName, stack, a };
}

const tablesOf = (stack: FakeStack) => [...stack.tables].map(([table, t]) => ({ table, snapshot: t.snapshot, tags: [...t.tags] }));

describe('other writers and readers of the sink tables', () => {
  it('restore: a job of another name writing a sink table refuses it before anything is stopped, naming the job', async () => {
    const { jobName, stack, a } = stackWithRestorePoint();
    stack.otherJobs.push(otherJob('backfill', { writes: [ORDERS] }));
    const before = tablesOf(stack);
    const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      failureOf((await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue })).result()),
    );
    expect(failure.type).toBe('OtherWriters');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`'backfill' (${stack.otherJobs[0]!.jobId}, RUNNING) writes a table named orders`);
    expect(failure.message).toContain(`the restore's writer is job '${jobName}' (${stack.initialJobId}, RUNNING)`);
    expect(failure.message).toContain('Nothing was changed');
    expect(stack.callNames().filter((n) => CHANGING.includes(n))).toEqual([]);
    expect(stack.job(stack.initialJobId).state).toBe('RUNNING');
    expect(tablesOf(stack)).toEqual(before);
  });

  it('restore by a job name no live job has, while another job writes the tables: refused naming that job, never "no writer"', async () => {
    const { stack, a } = stackWithRestorePoint();
    const missing = unique('no-such-job');
    stack.otherJobs.push(otherJob('the-real-writer', { writes: [ORDERS, CUSTOMERS] }));
    const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      failureOf((await startRestore(temporal.client, restoreInput(missing, a.savepointId), { taskQueue })).result()),
    );
    expect(failure.type).toBe('OtherWriters');
    expect(failure.message).toContain(`no live job is named '${missing}'`);
    expect(failure.message).toContain("'the-real-writer'");
    expect(failure.message).toContain('writes a table named orders, customers');
    expect(stack.callNames().filter((n) => CHANGING.includes(n))).toEqual([]);
  });

  it('restore: a writer named in options.notWriters is listed as left running, and the restore goes on', async () => {
    const { jobName, stack, a } = stackWithRestorePoint();
    const elsewhere = otherJob('other-db-writer', { writes: [ORDERS] });
    stack.otherJobs.push(elsewhere);
    const { plan, result } = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId, { notWriters: ['other-db-writer'] }), { taskQueue });
      const plan = await awaitingApproval(temporal.client, jobName);
      await approveSigned(temporal.client, { jobName }, { approver: 'bob', planVersion: 1 });
      return { plan, result: await handle.result() };
    });
    expect(plan.otherWriters).toEqual([
      expect.objectContaining({ jobId: elsewhere.jobId, name: 'other-db-writer', tables: [ORDERS], note: expect.stringContaining('options.notWriters') }),
    ]);
    expect(plan.summary).toContain(`job 'other-db-writer' (${elsewhere.jobId}) is left running by request`);
    expect(result.status).toBe('restored');
  });

  it('restore: readers (a job with a consumer id, a consumer with no job) are named in the plan with what they see and the remedy', async () => {
    const { jobName, stack, a } = stackWithRestorePoint();
    const reader = otherJob('orders-copy', { reads: [{ table: ORDERS, consumerId: 'copy' }] });
    stack.otherJobs.push(reader);
    stack.consumers.push(
      { table: ORDERS, consumerId: 'copy', nextSnapshotId: stack.table(ORDERS).snapshot + 1 },
      { table: CUSTOMERS, consumerId: 'nightly', nextSnapshotId: 2 },
    );
    const tagSnapshot = stack.table(ORDERS).tags.get(`savepoint-${a.savepointId}`)!;
    const customersTag = stack.table(CUSTOMERS).tags.get(`savepoint-${a.savepointId}`)!;
    const plan = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      const plan = await awaitingApproval(temporal.client, jobName);
      await handle.terminate('seen the plan');
      return plan;
    });
    expect(plan.otherWriters).toEqual([]);
    expect(plan.readers).toHaveLength(2);
    const [copy, nightly] = plan.readers!;
    expect(copy).toMatchObject({
      table: ORDERS,
      job: { jobId: reader.jobId, name: 'orders-copy', state: 'RUNNING' },
      consumerId: 'copy',
      nextSnapshotId: stack.table(ORDERS).snapshot + 1,
    });
    expect(copy!.sees).toContain(`after snapshot ${tagSnapshot} disappear`);
    expect(copy!.remedy).toContain(`stop job 'orders-copy' (${reader.jobId}) before the rollback`);
    expect(copy!.remedy).toContain(
      `CALL sys.reset_consumer(\`table\` => '${ORDERS}', consumer_id => 'copy', next_snapshot_id => CAST(${tagSnapshot + 1} AS BIGINT))`,
    );
    expect(copy!.remedy).toContain('without its savepoint');
    expect(nightly).toMatchObject({ table: CUSTOMERS, consumerId: 'nightly', nextSnapshotId: 2 });
    expect(nightly!.job).toBeUndefined();
    expect(nightly!.remedy).toContain(`next_snapshot_id => CAST(${customersTag + 1} AS BIGINT)`);
    expect(plan.summary).toContain(`job 'orders-copy' (consumer copy) reads ${ORDERS}`);
    expect(plan.summary).toContain(`consumer (consumer nightly) reads ${CUSTOMERS}`);
  });

  it('restore: a writer that starts after the approval is found when the plan is made again, before the stop', async () => {
    const { jobName, stack, a } = stackWithRestorePoint();
    const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue });
      await awaitingApproval(temporal.client, jobName);
      stack.otherJobs.push(otherJob('late-writer', { writes: [CUSTOMERS] }));
      await approveSigned(temporal.client, { jobName }, { approver: 'bob', planVersion: 1 }).catch(() => undefined);
      return failureOf(handle.result());
    });
    expect(failure.type).toBe('OtherWriters');
    expect(failure.message).toContain("'late-writer'");
    expect(stack.callNames().filter((n) => CHANGING.includes(n))).toEqual([]);
    expect(stack.job(stack.initialJobId).state).toBe('RUNNING');
  });

  it('upgrade: another job writing a sink table refuses it in the preflight, before the stop', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName, tables: TABLES });
    stack.otherJobs.push(otherJob('second-writer', { writes: [CUSTOMERS] }), otherJob('reader-only', { reads: [{ table: ORDERS }] }));
    const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      failureOf((await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue })).result()),
    );
    expect(failure.type).toBe('OtherWriters');
    expect(failure.message).toContain(`the upgrade stops job '${jobName}' (${stack.initialJobId})`);
    expect(failure.message).toContain("'second-writer'");
    expect(failure.message).not.toContain('reader-only');
    expect(stack.callNames()).not.toContain('stopWithSavepoint');
    expect(stack.callNames()).not.toContain('deployJob');
    expect(stack.job(stack.initialJobId).state).toBe('RUNNING');
  });

  it('upgrade: a writer named in options.notWriters (a same-named table elsewhere) does not refuse it', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName, tables: TABLES });
    stack.otherJobs.push(otherJob('other-db-writer', { writes: [CUSTOMERS] }));
    const input = upgradeInput(jobName);
    const result = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      (await startUpgrade(temporal.client, { ...input, options: { ...input.options, notWriters: ['other-db-writer'] } }, { taskQueue })).result(),
    );
    expect(result.status).toBe('upgraded');
  });
});
