// The job an operation names must write every declared sink table (its plan in Flink, by table
// name as Paimon names its writer): a job id copied from the wrong pipeline would be stopped, get
// no tag on these tables, and be replaced by another pipeline's version. Refused before anything
// is stopped or triggered, on the in-memory stack.
import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { startRestore } from '../../src/client/start-restore';
import { startUpgrade } from '../../src/client/start-upgrade';
import type { TableRef } from '../../src/domain/model';
import { FakeStack } from '../support/fake-stack';
import { fakeCatalog, fakeJob, point, DAY } from '../support/restore-point-fakes';
import { unique, useWorkflowTestEnv } from '../support/temporal-env';
import { upgradeInput, withWorker } from './fixtures';
import { awaitingApproval, CHANGING, failureOf, restoreInput, TABLES } from './restore-fixtures';
import { approveSigned } from '../support/approvals';

const temporal = useWorkflowTestEnv();

const [ORDERS, CUSTOMERS] = TABLES as [string, string];

/** A running job (restore point seeded while it wrote every table) whose plan now writes only `writes`. */
function stackWhoseJobWrites(writes: TableRef[]) {
  const jobName = unique('billing');
  const stack = new FakeStack({ jobName, tables: TABLES });
  const a = stack.seedRestorePoint(2);
  stack.ownJobWrites = writes;
  return { jobName, stack, a };
}

const tablesOf = (stack: FakeStack) => [...stack.tables].map(([table, t]) => ({ table, snapshot: t.snapshot, tags: [...t.tags] }));

describe('the job named writes every declared sink table', () => {
  it('upgrade: a job writing none of them is refused before the stop, saying what its plan shows; nothing changed', async () => {
    const { jobName, stack } = stackWhoseJobWrites([]);
    const before = tablesOf(stack);
    const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      failureOf((await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue })).result()),
    );
    expect(failure.type).toBe('NotTheWriter');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`job '${jobName}' (${stack.initialJobId}) does not write every declared sink table`);
    expect(failure.message).toContain("its plan in Flink shows no Paimon writer ('Writer : <table>') of a table named orders, customers");
    expect(failure.message).toContain('No live job writes them');
    expect(failure.message).toContain(`Name the job that writes ${ORDERS}, ${CUSTOMERS}`);
    expect(failure.message).toContain('Nothing was changed');
    expect(stack.callNames()).toContain('findTableJobs');
    expect(stack.callNames().filter((n) => CHANGING.includes(n))).toEqual([]);
    expect(stack.running()).toEqual([expect.objectContaining({ jobId: stack.initialJobId, version: 'v1' })]);
    expect(tablesOf(stack)).toEqual(before);
  });

  it('upgrade: a job writing only some of them is refused naming what it writes, what not, and the job that does', async () => {
    const { jobName, stack } = stackWhoseJobWrites([ORDERS]);
    const realWriter = { jobId: 'e'.repeat(32), name: 'customers-sync', state: 'RUNNING' as const, writes: [CUSTOMERS], reads: [] };
    stack.otherJobs.push(realWriter);
    const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      failureOf((await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue })).result()),
    );
    expect(failure.type).toBe('NotTheWriter');
    expect(failure.message).toContain('its plan in Flink writes a table named orders, but none named customers');
    expect(failure.message).toContain(`Live jobs that do write them: 'customers-sync' (${realWriter.jobId}, RUNNING) writes a table named customers`);
    expect(failure.message).toContain(`Name the job that writes ${CUSTOMERS}, or declare the tables this job writes`);
    expect(stack.callNames().filter((n) => CHANGING.includes(n))).toEqual([]);
  });

  it('upgrade: the job that writes every table goes through as before', async () => {
    const { jobName, stack } = stackWhoseJobWrites([...TABLES]);
    const result = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      (await startUpgrade(temporal.client, upgradeInput(jobName, { sinkTables: [...TABLES] }), { taskQueue })).result(),
    );
    expect(result.status).toBe('upgraded');
    expect(stack.running()).toEqual([expect.objectContaining({ version: 'v2', restoredFrom: result.savepoint!.path })]);
  });

  it('restore: a live job writing none of the tables is refused at the plan, before any approval or stop; nothing changed', async () => {
    const { jobName, stack, a } = stackWhoseJobWrites([]);
    const before = tablesOf(stack);
    const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      failureOf((await startRestore(temporal.client, restoreInput(jobName, a.savepointId), { taskQueue })).result()),
    );
    expect(failure.type).toBe('NotTheWriter');
    expect(failure.message).toContain(`job '${jobName}' (${stack.initialJobId}) does not write every declared sink table`);
    expect(failure.message).toContain('The restore would stop it, Paimon would not tag its savepoint on these tables, and the restore would start v1');
    expect(failure.message).toContain('Nothing was changed');
    expect(stack.callNames().filter((n) => CHANGING.includes(n))).toEqual([]);
    expect(stack.running()).toEqual([expect.objectContaining({ jobId: stack.initialJobId })]);
    expect(tablesOf(stack)).toEqual(before);
  });

  it('restore: with no live writer (action none) there is nothing to check; the right writer is restored as before', async () => {
    const stopped = stackWhoseJobWrites([]);
    stopped.stack.job(stopped.stack.initialJobId).state = 'CANCELED';
    const right = stackWhoseJobWrites([...TABLES]);
    const restore = (s: typeof stopped) =>
      withWorker(temporal.env, temporal.bundle, s.stack, async (taskQueue) => {
        const handle = await startRestore(temporal.client, restoreInput(s.jobName, s.a.savepointId), { taskQueue });
        const plan = await awaitingApproval(temporal.client, s.jobName);
        await approveSigned(temporal.client, { jobName: s.jobName }, { approver: 'bob', planVersion: 1 });
        return { plan, result: await handle.result() };
      });
    const none = await restore(stopped);
    expect(none.plan.writer.action).toBe('none');
    expect(none.result.status).toBe('restored');
    const run = await restore(right);
    expect(run.plan.writer).toMatchObject({ action: 'stop-with-savepoint', jobId: right.stack.initialJobId });
    expect(run.result.status).toBe('restored');
  });
});

describe('takeSavepointWorkflow: the job writes every sink table', () => {
  async function take(activities: object, args: unknown) {
    const taskQueue = unique('savepoint');
    const worker = await Worker.create({ connection: temporal.env.nativeConnection, taskQueue, workflowBundle: temporal.bundle, activities });
    return worker.runUntil(
      temporal.env.client.workflow.execute('takeSavepointWorkflow', { taskQueue, workflowId: unique('savepoint-writer'), args: [args] }).catch((e: unknown) => e),
    );
  }
  const SEQ: TableRef[] = ['demo.seq_a', 'demo.seq_b'];

  it('a job writing one of two tables: no savepoint, no record, and no retention on tables it does not write', async () => {
    const jobName = unique('wrong-tables');
    const fake = fakeJob(jobName, { writes: ['demo.seq_a'] });
    const catalog = fakeCatalog([point(1, 3 * DAY), point(2, 2 * DAY), point(3, DAY)]);
    const err = await take({ ...fake.activities, ...catalog.activities }, { job: { jobName }, tables: SEQ, retention: { keepLast: 1 } });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toMatchObject({
      type: 'NotTheWriter',
      message: expect.stringContaining('writes a table named seq_a, but none named seq_b'),
    });
    expect(((err as WorkflowFailedError).cause as Error).message).toContain('Retention did not run either');
    const names = fake.calls.map((c) => c.name);
    // The plan read runs beside the tables' description.
    expect([...names.slice(0, 2), ...names.slice(2).sort()]).toEqual(['resolveJob', 'requireRecentCheckpoint', 'describeSinkTables', 'findTableJobs']);
    expect(fake.records).toEqual([]);
    expect(catalog.calls).toEqual([]);
  });

  it('the job that writes every table: the savepoint is taken as before', async () => {
    const jobName = unique('right-tables');
    const fake = fakeJob(jobName, { writes: SEQ });
    const result = await take(fake.activities, { job: { jobName }, tables: SEQ });
    expect(result).toMatchObject({ jobName, savepointId: 40, restorable: true });
    expect(fake.calls.map((c) => c.name)).toContain('triggerSavepoint');
  });
});
