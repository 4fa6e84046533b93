// The upgrade workflow against an in-memory Flink and Paimon (test/support/fake-stack.ts): each
// test checks the calls the workflow made and the state the fake stack ends in.
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import {
  InvalidUpgradeInputError,
  OperationAlreadyRunningError,
  startUpgrade,
} from '../../src/client/start-upgrade';
import {
  flinkJobKey,
  operationStepKey,
  operationWorkflowId,
  statusQuery,
  type UpgradeResult,
  type UpgradeStatus,
} from '../../workflows/messages';
import { hash128 } from '../../workflows/tokens';
import { expectCallSteps, PREFLIGHT_READS, withoutTagReads } from '../support/call-steps';
import { FakeStack } from '../support/fake-stack';
import { unique, useWorkflowTestEnv } from '../support/temporal-env';
import type { UpgradeInput } from '../../workflows/input';
import { failureOf, TABLES, upgradeInput, withWorker } from './fixtures';

const temporal = useWorkflowTestEnv();

async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (ok(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const steps = (status: UpgradeStatus) => status.timings.map((t) => t.step);

/**
 * Every check before the stop, made at once (workflows/upgrade-preflight.ts): the job's own
 * (resolveJob, then requireRecentCheckpoint), the preflight reads, the deployment check, and once
 * the job is found findTableJobs (another job writing the sink tables refuses the upgrade,
 * workflows/table-users.ts) and planUpgradeShape (the new version's parallelism and its claim on
 * the job's state, workflows/upgrade-shape.ts).
 */
const CHECKS_BEFORE_STOP = ['resolveJob', 'requireRecentCheckpoint', ...PREFLIGHT_READS, 'findTableJobs', 'checkDeployments', 'planUpgradeShape'];

/** A refusal by the tables: every check ran, reads only (the tag reads may not have begun). */
const CHECKS_ONLY = withoutTagReads(CHECKS_BEFORE_STOP).sort();
/** A refusal by the job: the checks that do not need it ran beside its own, reads only; none that needs it. */
const CHECKS_WITHOUT_THE_JOB = ['resolveJob', 'requireRecentCheckpoint', 'describeSinkTables', 'checkFlinkCluster', 'checkDeployments'].sort();

describe('upgradeWorkflow', () => {
  it('happy path: stops v1 with a savepoint, checks the tag, deploys v2 from it, waits until healthy', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    const result = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue });
      expect(handle.workflowId).toBe(operationWorkflowId({ jobName }));
      const result = await handle.result();

      const { typedSearchAttributes } = await handle.describe();
      expect(typedSearchAttributes.get(flinkJobKey)).toBe(jobName);
      expect(typedSearchAttributes.get(operationStepKey)).toBe('upgraded');
      // The trigger id is the hash of workflow id, run id and step: the same on every retry.
      expect(stack.callsOf('stopWithSavepoint')[0].triggerId).toBe(
        hash128(`${handle.workflowId}/${handle.firstExecutionRunId}/stop-with-savepoint`),
      );
      return result;
    });

    expectCallSteps(stack.callNames(), [
      CHECKS_BEFORE_STOP,
      // The new version's SQL session set up beside the stop (workflows/prepare-cluster.ts).
      ['prepareVersion', 'stopWithSavepoint'],
      'awaitTag',
      ['deployJob', 'recordRestorePoint'],
      'awaitHealthy',
      'recordUpgradeOutcome',
    ]);
    const [v2] = stack.running();
    expect(stack.running()).toHaveLength(1);
    expect(v2).toMatchObject({ version: 'v2', restoredFrom: result.savepoint?.path });
    expect(stack.job(stack.initialJobId).state).toBe('FINISHED');

    const [stop] = stack.callsOf('stopWithSavepoint');
    expect(stop).toMatchObject({ jobId: stack.initialJobId, drain: false });
    expect(stop.triggerId).toMatch(/^[0-9a-f]{32}$/);
    const [deploy] = stack.callsOf('deployJob');
    expect(deploy).toMatchObject({ deployment: { version: 'v2' }, savepointPath: result.savepoint?.path });
    expect(deploy.deployToken).toMatch(/^[0-9a-f]{32}$/);
    expect(stack.callsOf('awaitTag')[0]).toEqual({ tables: TABLES, tag: result.tag, timeoutMs: 10_000 });
    expect(stack.callsOf('awaitHealthy')[0]).toMatchObject({ jobId: v2.jobId, timeoutMs: 20_000 });

    expect(result).toMatchObject<Partial<UpgradeResult>>({
      status: 'upgraded',
      job: jobName,
      oldJobId: stack.initialJobId,
      newJobId: v2.jobId,
      tag: `savepoint-${result.savepoint?.id}`,
    });
    expect(result.restoredJobId).toBeUndefined();
    // The savepoint v1 stopped at is a restore point in the catalog, recorded beside the deploy.
    expect(stack.callsOf('recordRestorePoint')).toEqual([
      {
        jobName,
        jobId: stack.initialJobId,
        savepoint: expect.objectContaining({ savepointId: result.savepoint?.id, path: result.savepoint?.path }),
        tables: TABLES,
        pinned: true,
        // Pinned by the upgrade: retention lets go of it after enough later successful upgrades.
        pinnedBy: 'upgrade',
        upgrade: { fromVersion: 'v1', toVersion: 'v2', outcome: 'in-flight', workflowId: expect.stringMatching(/^flink-job\//) },
        label: 'before upgrade to v2',
        // The version whose state the savepoint holds: the one that was running.
        deploymentVersion: 'v1',
        taggedAtRecord: true,
      },
    ]);
    expect(stack.callsOf('recordUpgradeOutcome')).toEqual([
      { jobName, savepointId: result.savepoint?.id, path: result.savepoint?.path, outcome: 'succeeded', at: expect.any(String) },
    ]);
    expect(result.restorePointRecorded).toBe(true);
    expect(steps(result)).toEqual([
      'validating-input',
      'preflight',
      'stopping-with-savepoint',
      'awaiting-tag',
      'deploying-new-version',
      'awaiting-health',
      'upgraded',
    ]);
    for (const t of result.timings) {
      expect(t.durationMs).toBeGreaterThanOrEqual(0);
      expect(Number.isNaN(Date.parse(t.startedAt))).toBe(false);
    }
  });

  it('an upgrade whose savepoint cannot be recorded still upgrades, and says why it is not a restore point', async () => {
    const jobName = unique('unrecorded');
    const stack = new FakeStack({ jobName });
    stack.refuseRecords = "job already has a restore point for savepoint 1 at file:/old; not overwriting it";
    const result = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      (await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue })).result(),
    );
    expect(result.status).toBe('upgraded');
    expect(stack.running().map((j) => j.version)).toEqual(['v2']);
    expect(result.restorePointRecorded).toBe(false);
    expect(result.restorePointNotRecorded).toContain('already has a restore point for savepoint 1');
  });

  it('refuses bad input typed into the UI with a readable InvalidInput failure, before any activity', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    const bad = {
      ...upgradeInput(jobName),
      job: { jobId: 'not-a-job-id' },
      sinkTables: ['demo.orders', 'demo.orders'],
      options: { healthTimeout: 'soon' },
    };
    const failure = await withWorker(temporal.env, temporal.bundle, stack, (taskQueue) =>
      // What the Temporal UI does: start the workflow type with raw JSON, no client-side check.
      failureOf(temporal.client.workflow.execute('upgradeWorkflow', { taskQueue, workflowId: unique('ui'), args: [bad] })),
    );
    expect(failure.type).toBe('InvalidInput');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('job.jobId: a Flink job id is 32 hex characters');
    expect(failure.message).toContain("sinkTables[1]: 'demo.orders' is listed twice");
    expect(failure.message).toContain("options.healthTimeout: must be milliseconds or a duration like '2m'");
    expect(failure.message).not.toMatch(/invalid_union|"code"|ZodError/);
    expect(stack.calls).toEqual([]);

    // The temporal.client helper refuses the same input before starting anything.
    await expect(startUpgrade(temporal.client, bad as never, { taskQueue: 'unused' })).rejects.toThrow(InvalidUpgradeInputError);
  });

  it('refuses a run typed into the UI under another workflow id than flink-job/<job>, before any activity', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    const failure = await withWorker(temporal.env, temporal.bundle, stack, (taskQueue) =>
      failureOf(temporal.client.workflow.execute('upgradeWorkflow', { taskQueue, workflowId: unique('ui'), args: [upgradeInput(jobName)] })),
    );
    expect(failure.type).toBe('InvalidInput');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`must run as 'flink-job/${jobName}'`);
    expect(failure.message).toContain('Nothing was changed.');
    expect(stack.calls).toEqual([]);
  });

  it('keys a job given by id by its name: a run by id under flink-job/<id> is refused after one read, and a start by id meets a running one by name', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    const byId = upgradeInput(jobName, { job: { jobId: stack.initialJobId } });
    const release = stack.hold('awaitHealthy');
    await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      // Typed into the UI under the id the job was named by: a read of the job's name, and nothing else.
      const ui = await failureOf(temporal.client.workflow.execute('upgradeWorkflow', { taskQueue, workflowId: `flink-job/${stack.initialJobId}`, args: [byId] }));
      expect(ui.type).toBe('InvalidInput');
      expect(ui.message).toContain(`must run as 'flink-job/${jobName}'`);
      expect(stack.callNames()).toEqual(['resolveJob']);

      const first = await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue });
      expect(first.workflowId).toBe(`flink-job/${jobName}`);
      await until(() => first.query(statusQuery), (s) => s.step === 'awaiting-health', 'the health gate');
      const lookedUp: string[] = [];
      const jobNameOf = async (jobId: string) => (lookedUp.push(jobId), jobName);
      const refusal = await startUpgrade(temporal.client, byId, { taskQueue, jobNameOf }).then(
        () => expect.fail('an upgrade by job id started beside the one by name'),
        (e: unknown) => e,
      );
      expect(lookedUp).toEqual([stack.initialJobId]);
      expect(refusal).toBeInstanceOf(OperationAlreadyRunningError);
      expect((refusal as Error).message).toContain(`job '${jobName}' already has an operation running: upgradeWorkflow 'flink-job/${jobName}'`);
      release();
      expect((await first.result()).status).toBe('upgraded');
      expect(stack.callsOf('stopWithSavepoint')).toHaveLength(1);
    });
  });

  it('refuses a job that is not RUNNING, before stopping anything', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName, jobState: 'RESTARTING' });
    const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      failureOf((await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue })).result()),
    );
    expect(failure.type).toBe('JobNotRunning');
    expect(failure.message).toContain('RESTARTING');
    // A RESTARTING job that checkpointed lately is refused by its state.
    expect(withoutTagReads(stack.callNames()).sort()).toEqual(CHECKS_WITHOUT_THE_JOB);
    expect(stack.job(stack.initialJobId).state).toBe('RESTARTING');
  });

  it('refuses a job without a recent completed checkpoint with its own cause, before anything is stopped', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    stack.noRecentCheckpoint.set('v1', 'no checkpoint has completed since it started; its latest exception: ArithmeticException: / by zero');
    const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      failureOf((await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue })).result()),
    );
    expect(failure.type).toBe('NoRecentCheckpoint');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('ArithmeticException: / by zero');
    expect(withoutTagReads(stack.callNames()).sort()).toEqual(CHECKS_WITHOUT_THE_JOB);
    expect(stack.job(stack.initialJobId).state).toBe('RUNNING');
  });

  it('checks the new version and the old one its compensation would start, and refuses a bad one before the stop', async () => {
    for (const bad of ['v2', 'v1']) {
      const jobName = unique('orders');
      const stack = new FakeStack({ jobName });
      stack.badDeployments.set(bad, `scriptFile ../../etc/passwd resolves outside the deployments root`);
      const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
        failureOf((await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue })).result()),
      );
      expect(failure.type, bad).toBe('DeploymentCheckFailed');
      expect(failure.message, bad).toContain(`${bad}: scriptFile ../../etc/passwd`);
      expect(stack.callsOf('checkDeployments').map((c) => c.deployments.map((d: { version: string }) => d.version))).toEqual([['v2', 'v1']]);
      expect(stack.callsOf('checkDeployments')[0].sinkTables).toEqual(TABLES);
      expect(stack.callNames(), bad).not.toContain('stopWithSavepoint');
      expect(stack.callNames(), bad).not.toContain('deployJob');
      expect(stack.running().map((j) => j.jobId), bad).toEqual([stack.initialJobId]);
    }
  });

  it('plans the new version\'s parallelism before the stop, deploys it per vertex, and refuses what the plan refuses before stopping anything', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    const vertex = 'a'.repeat(32);
    const result = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      (await startUpgrade(temporal.client, upgradeInput(jobName, { options: { ...upgradeInput(jobName).options, parallelism: 2 } }), { taskQueue })).result(),
    );
    expect(result.status).toBe('upgraded');
    expect(stack.callsOf('planUpgradeShape')[0]).toMatchObject({ newVersion: { version: 'v2' }, parallelism: 2, allowNonRestoredState: false });
    expect(result.parallelism).toEqual([{ id: vertex, name: 'fake vertex', from: 1, to: 2 }]);
    expect(result.stateCheck).toBe('the fake stack checks no state');
    expect(stack.callsOf('deployJob')[0].parallelism).toEqual({ graphParallelism: 1, overrides: { [vertex]: 2 } });

    const refused = new FakeStack({ jobName: unique('orders') });
    refused.badShapes.set('v2', `vertexParallelism: ${vertex} is not a vertex of the running job`);
    const failure = await withWorker(temporal.env, temporal.bundle, refused, async (taskQueue) =>
      failureOf((await startUpgrade(temporal.client, upgradeInput(refused.options.jobName, { options: { vertexParallelism: { [vertex]: 3 } } }), { taskQueue })).result()),
    );
    expect(failure.type).toBe('DeploymentCheckFailed');
    expect(failure.message).toContain('is not a vertex of the running job');
    expect(refused.callNames()).not.toContain('stopWithSavepoint');
    expect(refused.running().map((j) => j.jobId)).toEqual([refused.initialJobId]);
  });

  it('refuses a sink table without sink.savepoint.auto-tag: nothing is stopped', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    stack.table('demo.customers').autoTag = false;
    const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      failureOf((await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue })).result()),
    );
    expect(failure.type).toBe('AutoTagDisabled');
    expect(failure.message).toContain('demo.customers');
    expect(failure.message).not.toContain('demo.orders');
    expect(withoutTagReads(stack.callNames()).sort()).toEqual(CHECKS_ONLY);
    expect(stack.job(stack.initialJobId).state).toBe('RUNNING');
  });

  it('refuses a sink table that does not exist (TableNotFound): nothing is stopped', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      failureOf(
        (await startUpgrade(temporal.client, upgradeInput(jobName, { sinkTables: ['demo.orders', 'demo.nope'] }), { taskQueue })).result(),
      ),
    );
    expect(failure.type).toBe('TableNotFound');
    expect(failure.message).toContain('demo.nope');
    expect(withoutTagReads(stack.callNames()).sort()).toEqual(CHECKS_ONLY);
    expect(stack.job(stack.initialJobId).state).toBe('RUNNING');
  });

  it('a savepoint tag above the job\'s latest checkpoint (left by an earlier run): refused before the stop, nothing changed', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    // The latest checkpoint is 40, so the stop's savepoint gets 41 or more; an earlier run (checkpoint
    // ids from 1 again) left savepoint-41 and savepoint-57 on one table, savepoint-12 on the other.
    stack.table('demo.customers').tags.set('savepoint-41', 1).set('savepoint-57', 2);
    stack.table('demo.orders').tags.set('savepoint-12', 1);
    const { failure, status } = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue });
      return { failure: await failureOf(handle.result()), status: await handle.query(statusQuery) };
    });
    expect(failure.type).toBe('TagCollision');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`the latest completed checkpoint of job '${jobName}' (${stack.initialJobId}) is 40`);
    expect(failure.message).toContain('(demo.customers: savepoint-41, savepoint-57)');
    expect(failure.message).not.toContain('savepoint-12');
    expect(failure.message).toContain('Delete or rename the old tag(s) if nobody needs them (CALL sys.delete_tag), or let the job checkpoint past them');
    expect(failure.message).toContain('Nothing was changed');
    expect(stack.callNames()).not.toContain('stopWithSavepoint');
    expect(stack.callNames()).not.toContain('deployJob');
    expect(stack.running()).toEqual([expect.objectContaining({ jobId: stack.initialJobId, version: 'v1' })]);
    expect(status).toMatchObject({ step: 'failed' });
    expect(steps(status)).not.toContain('stopping-with-savepoint');
  });

  it('tag missing on one table: v2 is never deployed, v1 restarts from the savepoint, fails TagMissing', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    stack.tagNeverAppearsOn.add('demo.customers');
    const { failure, status } = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue });
      const failure = await failureOf(handle.result());
      return { failure, status: await handle.query(statusQuery) };
    });

    expect(failure.type).toBe('TagMissing');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('demo.customers');
    expect(failure.message).not.toContain('demo.orders');
    expectCallSteps(stack.callNames(), [
      CHECKS_BEFORE_STOP,
      ['prepareVersion', 'stopWithSavepoint'],
      'awaitTag',
      // the session prepared for v2 closed: v2 will not come
      'releaseVersion',
      'deployJob',
      'awaitHealthy',
    ]);
    expect(stack.callsOf('releaseVersion')).toEqual([{ deployToken: stack.callsOf('prepareVersion')[0].deployToken }]);
    const deploys = stack.callsOf('deployJob');
    expect(deploys.map((d) => d.deployment.version)).toEqual(['v1']);
    expect(deploys[0].savepointPath).toBe(status.savepoint?.path);

    const [v1] = stack.running();
    expect(stack.running()).toHaveLength(1);
    expect(v1).toMatchObject({ version: 'v1', restoredFrom: status.savepoint?.path });
    expect(failure.message).toContain(`as job ${v1.jobId}`);
    expect(status).toMatchObject({ step: 'failed', restoredJobId: v1.jobId, oldJobId: stack.initialJobId });
    expect(status.newJobId).toBeUndefined();
    expect(steps(status)).toContain('redeploying-old-version');
  });

  it('application mode, local launcher: the new version\'s cluster is prepared before the stop under the deploy\'s token, and not released once deployed', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    const target = { kind: 'application', launcher: 'local' } as const;
    await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      await (await startUpgrade(temporal.client, upgradeInput(jobName, { target }), { taskQueue })).result();
    });
    const names = stack.callNames();
    expect(names.indexOf('prepareVersion')).toBeGreaterThan(names.indexOf('planUpgradeShape'));
    expect(names.indexOf('prepareVersion')).toBeLessThan(names.indexOf('stopWithSavepoint'));
    const [prepare] = stack.callsOf('prepareVersion');
    expect(prepare).toMatchObject({ deployment: { version: 'v2' }, target, jobName });
    const [deploy] = stack.callsOf('deployJob');
    expect(deploy).toMatchObject({ deployment: { version: 'v2' }, deployToken: prepare.deployToken, target });
    expect(deploy.parallelism).toEqual(prepare.parallelism);
    expect(stack.callsOf('releaseVersion')).toEqual([]);
  });

  it('application mode, local launcher: a tag that never comes releases the prepared cluster; the old version restarts under a token of its own', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    stack.tagNeverAppearsOn.add('demo.customers');
    const target = { kind: 'application', launcher: 'local' } as const;
    const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      failureOf((await startUpgrade(temporal.client, upgradeInput(jobName, { target }), { taskQueue })).result()),
    );
    expect(failure.type).toBe('TagMissing');
    const [prepare] = stack.callsOf('prepareVersion');
    expect(stack.callsOf('releaseVersion')).toEqual([{ deployToken: prepare.deployToken, target }]);
    expect(stack.callsOf('deployJob').map((d) => [d.deployment.version, d.deployToken === prepare.deployToken])).toEqual([['v1', false]]);
  });

  it('the session cluster: a SQL version\'s session is prepared beside the stop under the deploy\'s token, with what the deploy will be given', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    const input = upgradeInput(jobName);
    input.options = { ...input.options, allowNonRestoredState: true };
    await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      await (await startUpgrade(temporal.client, input, { taskQueue })).result();
    });
    const [prepare] = stack.callsOf('prepareVersion');
    expect(prepare).toEqual({ deployment: input.newVersion, deployToken: expect.stringMatching(/^[0-9a-f]{32}$/), allowNonRestoredState: true });
    const [deploy] = stack.callsOf('deployJob');
    expect(deploy).toMatchObject({ deployment: { version: 'v2' }, deployToken: prepare.deployToken, allowNonRestoredState: true });
    expect(stack.callsOf('releaseVersion')).toEqual([]);
  });

  it('a jar on the session cluster and the command launcher prepare nothing before the stop', async () => {
    const jar = (version: string) => ({ kind: 'jar' as const, version, jarFile: '/jars/demo.jar', entryClass: 'demo.Main' });
    const cases: Partial<UpgradeInput>[] = [{ newVersion: jar('v2'), oldVersion: jar('v1') }, { target: { kind: 'application', launcher: 'command' } }];
    for (const overrides of cases) {
      const jobName = unique('orders');
      const stack = new FakeStack({ jobName });
      await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
        await (await startUpgrade(temporal.client, upgradeInput(jobName, overrides), { taskQueue })).result();
      });
      expect(stack.callsOf('prepareVersion')).toEqual([]);
      expect(stack.callsOf('deployJob')).toHaveLength(1);
    }
  });

  it('allowNonRestoredState: only the new version may drop state, and the result says it did; the old version back never may', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    stack.unhealthyVersions.add('v2');
    const input = upgradeInput(jobName);
    const result = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      (await startUpgrade(temporal.client, { ...input, options: { ...input.options, allowNonRestoredState: true } }, { taskQueue })).result(),
    );
    expect(result.status).toBe('rolled-back');
    const [v2Deploy, v1Back] = stack.callsOf('deployJob');
    expect(v2Deploy).toMatchObject({ deployment: { version: 'v2' }, allowNonRestoredState: true });
    expect(v1Back).toMatchObject({ deployment: { version: 'v1' } });
    expect(v1Back).not.toHaveProperty('allowNonRestoredState');
    expect(result.droppedState).toContain('v2 was started with allowNonRestoredState');
    expect(result.droppedState).toContain(result.savepoint!.path);
    // Without the option nothing is dropped and nothing is said.
    const plain = new FakeStack({ jobName: unique('orders') });
    const upgraded = await withWorker(temporal.env, temporal.bundle, plain, async (taskQueue) =>
      (await startUpgrade(temporal.client, upgradeInput(plain.options.jobName), { taskQueue })).result(),
    );
    expect(plain.callsOf('deployJob')[0]).not.toHaveProperty('allowNonRestoredState');
    expect(upgraded.droppedState).toBeUndefined();
  });

  it('health gate fails with compensate: cancels v2, rolls every table back to the tag, redeploys v1', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    stack.unhealthyVersions.add('v2');
    const result = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      (await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue })).result(),
    );

    expect(result.status).toBe('rolled-back');
    expect(result.reason).toContain('v2');
    expect(result.reason).toContain('no checkpoint completed since the deploy');
    expectCallSteps(stack.callNames(), [
      CHECKS_BEFORE_STOP,
      ['prepareVersion', 'stopWithSavepoint'],
      'awaitTag',
      ['deployJob', 'recordRestorePoint'],
      'awaitHealthy',
      'getJob',
      'cancelJob',
      'getJob',
      'rollbackToTag',
      'rollbackToTag',
      'deployJob',
      'awaitHealthy',
      'recordUpgradeOutcome',
    ]);
    expect(stack.callsOf('recordUpgradeOutcome')).toEqual([expect.objectContaining({ outcome: 'failed', savepointId: result.savepoint?.id })]);
    const v2 = stack.job(result.newJobId!);
    expect(v2).toMatchObject({ version: 'v2', state: 'CANCELED' });
    expect(stack.callsOf('cancelJob')).toEqual([{ jobId: v2.jobId }]);
    // Every table went back to the snapshot the tag points at, the one the savepoint committed.
    expect(stack.rollbacks.map((r) => r.table)).toEqual(TABLES);
    for (const { table, tag, snapshot } of stack.rollbacks) {
      expect(tag).toBe(result.tag);
      expect(snapshot).toBe(stack.table(table).tags.get(result.tag!));
    }
    const [v1] = stack.running();
    expect(stack.running()).toHaveLength(1);
    expect(v1).toMatchObject({ version: 'v1', restoredFrom: result.savepoint?.path, jobId: result.restoredJobId });
    expect(steps(result).slice(-6)).toEqual([
      'awaiting-health',
      'cancelling-new-job',
      'rolling-back-tables',
      'redeploying-old-version',
      'awaiting-old-version-health',
      'rolled-back',
    ]);
  });

  it('health gate fails with compensate off: fails UpgradeUnhealthy, leaves v2 running, says what to do', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    stack.unhealthyVersions.add('v2');
    const input = upgradeInput(jobName);
    input.options = { ...input.options, compensate: false };
    const failure = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      failureOf((await startUpgrade(temporal.client, input, { taskQueue })).result()),
    );

    expect(failure.type).toBe('UpgradeUnhealthy');
    const [v2] = stack.running();
    expect(stack.running()).toHaveLength(1);
    expect(v2.version).toBe('v2');
    expect(failure.message).toContain(`cancel job ${v2.jobId}`);
    expect(failure.message).toContain("CALL sys.rollback_to(`table` => 'demo.orders', tag => 'savepoint-");
    const [result] = failure.details as [UpgradeResult];
    expect(result).toMatchObject({ status: 'failed', newJobId: v2.jobId, step: 'failed' });
    expect(result.instructions).toContain('deploy v1 from savepoint');
    expect(stack.callNames()).not.toContain('cancelJob');
    expect(stack.callNames()).not.toContain('rollbackToTag');
    expect(stack.callsOf('deployJob')).toHaveLength(1);
    expect(stack.rollbacks).toEqual([]);
  });

  it('when the rollback cannot bring v1 back either, fails CompensationFailed naming the step it stopped at', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    stack.unhealthyVersions.add('v2');
    stack.unhealthyVersions.add('v1');
    const { failure, status } = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue });
      return { failure: await failureOf(handle.result()), status: await handle.query(statusQuery) };
    });

    expect(failure.type).toBe('CompensationFailed');
    expect(failure.message).toContain('v2 (job');
    expect(failure.message).toContain("failed at step 'awaiting-old-version-health'");
    expect((failure.cause as ApplicationFailure | undefined)?.type).toBe('RollbackUnhealthy');
    expect(status.step).toBe('awaiting-old-version-health');
    // Everything before the failing undo happened: v2 cancelled, tables rolled back, v1 deployed.
    expect(stack.rollbacks.map((r) => r.table)).toEqual(TABLES);
    expect(stack.job(status.newJobId!).state).toBe('CANCELED');
    expect(stack.job(status.restoredJobId!).version).toBe('v1');
  });

  it('a table the compensation cannot roll back: fails naming the tables rolled back and not, with the SQL to finish; rollbacks outlast a gateway restart', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    stack.unhealthyVersions.add('v2');
    stack.failRollbackOn.add(TABLES[1]!);
    const { failure, status, history } = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue });
      return { failure: await failureOf(handle.result()), status: await handle.query(statusQuery), history: await handle.fetchHistory() };
    });

    expect(failure.type).toBe('CompensationFailed');
    expect(failure.message).toContain("failed at step 'rolling-back-tables'");
    expect(failure.message).toContain(`Rolled back to ${status.tag}: ${TABLES[0]}; NOT rolled back: ${TABLES[1]}`);
    expect(failure.message).toContain(`CALL sys.rollback_to(\`table\` => '${TABLES[1]}', tag => '${status.tag}')`);
    expect(failure.message).toContain(`then start v1 from ${status.savepoint!.path}`);
    expect(stack.rollbacks.map((r) => r.table)).toEqual([TABLES[0]]);
    expect(stack.running()).toEqual([]);
    // The rollbacks retry as the restore's do (tableRollback: about 2.5 minutes), not as a quick REST call.
    const scheduled = history.events!.flatMap((e) => e.activityTaskScheduledEventAttributes ?? []);
    const rollbacks = scheduled.filter((a) => a.activityType?.name === 'rollbackToTag');
    expect(rollbacks.map((a) => a.retryPolicy?.maximumAttempts)).toEqual([10, 10]);
  });

  it('an operator cancelling mid-upgrade gets the upgrade undone before the workflow ends cancelled', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    const release = stack.hold('awaitHealthy');
    const err = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue });
      await until(() => handle.query(statusQuery), (s) => s.step === 'awaiting-health', 'the health gate');
      await handle.cancel();
      // The undo runs although the workflow is cancelled; let its health check of v1 through.
      await until(async () => stack.callsOf('deployJob').length, (n) => n === 2, 'the redeploy of v1');
      release();
      return handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
    });

    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
    // The Temporal UI's memo says it was cancelled, not that it failed.
    expect((await temporal.client.workflow.getHandle(operationWorkflowId({ jobName })).describe()).memo).toMatchObject({ outcome: 'cancelled' });
    // The checks before the stop (resolveJob, the checkpoint check, 4 preflight reads, the other-writers
    // read, the deployment check, the shape plan), the prepare beside the stop, awaitTag, deploy and record, the health gate: then the undo.
    expect(stack.callNames().slice(15)).toEqual([
      'getJob',
      'cancelJob',
      'getJob',
      'rollbackToTag',
      'rollbackToTag',
      'deployJob',
      'awaitHealthy',
      // then the outcome with the restore point, also for a cancelled upgrade: no longer in flight
      'recordUpgradeOutcome',
    ]);
    expect(stack.running().map((j) => j.version)).toEqual(['v1']);
  });

  it('answers the status query mid-way and shows the step as the OperationStep search attribute', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    const release = stack.hold('awaitHealthy');
    await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const handle = await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue });
      const status = await until(
        () => handle.query(statusQuery),
        (s) => s.step === 'awaiting-health',
        'the health gate',
      );
      const [v2] = stack.running();
      expect(status).toMatchObject({
        job: jobName,
        oldJobId: stack.initialJobId,
        newJobId: v2.jobId,
        savepoint: { id: expect.any(Number), path: expect.stringContaining('savepoint-') },
        tag: `savepoint-${status.savepoint?.id}`,
        triggerId: stack.callsOf('stopWithSavepoint')[0].triggerId,
      });
      expect(steps(status)).toEqual([
        'validating-input',
        'preflight',
        'stopping-with-savepoint',
        'awaiting-tag',
        'deploying-new-version',
        'awaiting-health',
      ]);
      // Steps that are over have a duration; the current one does not yet.
      expect(status.timings.slice(0, -1).every((t) => t.durationMs !== undefined)).toBe(true);
      expect(status.timings.at(-1)?.durationMs).toBeUndefined();
      const { typedSearchAttributes } = await handle.describe();
      expect(typedSearchAttributes.get(operationStepKey)).toBe('awaiting-health');
      expect(typedSearchAttributes.get(flinkJobKey)).toBe(jobName);

      release();
      expect((await handle.result()).status).toBe('upgraded');
    });
  });

  it('refuses a second operation on the same job while one runs, naming the running workflow', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    const release = stack.hold('awaitHealthy');
    await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) => {
      const first = await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue });
      await until(() => first.query(statusQuery), (s) => s.step === 'awaiting-health', 'the health gate');

      const refusal = await startUpgrade(temporal.client, upgradeInput(jobName), {
        taskQueue,
        uiUrl: 'http://127.0.0.1:8233',
      }).then(
        () => expect.fail('a second upgrade started'),
        (e: unknown) => e,
      );
      expect(refusal).toBeInstanceOf(OperationAlreadyRunningError);
      const message = (refusal as Error).message;
      expect(message).toContain(`job '${jobName}' already has an operation running`);
      expect(message).toContain(`upgradeWorkflow '${operationWorkflowId({ jobName })}'`);
      expect(message).toContain(first.firstExecutionRunId);
      expect(message).toContain('http://127.0.0.1:8233/namespaces/default/workflows/');

      release();
      expect((await first.result()).status).toBe('upgraded');
      expect(stack.callsOf('stopWithSavepoint')).toHaveLength(1);

      // Once it is over the id is free again: the next upgrade (v2 → v3) starts.
      const next = await startUpgrade(
        temporal.client,
        upgradeInput(jobName, {
          newVersion: { kind: 'sql', version: 'v3', script: 'INSERT INTO demo.orders SELECT 3' },
          oldVersion: { kind: 'sql', version: 'v2', script: 'INSERT INTO demo.orders SELECT 2' },
        }),
        { taskQueue },
      );
      expect(next.workflowId).toBe(first.workflowId);
      expect((await next.result()).status).toBe('upgraded');
      expect(stack.running().map((j) => j.version)).toEqual(['v3']);
    });
  });

  it('retries an activity whose answer was lost: the same trigger id and deploy token, one savepoint, one job', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    stack.failOnceAfterWork.add('stopWithSavepoint');
    stack.failOnceAfterWork.add('deployJob');
    const result = await withWorker(temporal.env, temporal.bundle, stack, async (taskQueue) =>
      (await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue })).result(),
    );

    expect(result.status).toBe('upgraded');
    const stops = stack.callsOf('stopWithSavepoint');
    expect(stops).toHaveLength(2);
    expect(stops[1].triggerId).toBe(stops[0].triggerId);
    expect([...stack.savepointsTaken.values()]).toEqual([1]);
    const deploys = stack.callsOf('deployJob');
    expect(deploys).toHaveLength(2);
    expect(deploys[1].deployToken).toBe(deploys[0].deployToken);
    expect(stack.running()).toHaveLength(1);
    expect(stack.jobs.size).toBe(2);
  });

  it('a worker restart mid-upgrade resumes on another worker without a second savepoint or deploy', async () => {
    const jobName = unique('orders');
    const stack = new FakeStack({ jobName });
    const release = stack.hold('awaitHealthy');
    const taskQueue = unique('upgrade');

    const first = await Worker.create({
      connection: temporal.env.nativeConnection,
      taskQueue,
      workflowBundle: temporal.bundle,
      activities: stack.activities(),
      shutdownGraceTime: '100ms',
    });
    const handle = await first.runUntil(async () => {
      const handle = await startUpgrade(temporal.client, upgradeInput(jobName), { taskQueue });
      await until(() => handle.query(statusQuery), (s) => s.step === 'awaiting-health', 'the health gate');
      return handle;
    });
    // runUntil shut the first worker down: its awaitHealthy attempt was cancelled mid-wait.
    release();

    const result = await withWorker(temporal.env, temporal.bundle, stack, () => handle.result(), taskQueue);
    expect(result.status).toBe('upgraded');
    expect(stack.callsOf('stopWithSavepoint')).toHaveLength(1);
    expect(stack.callsOf('deployJob')).toHaveLength(1);
    expect(stack.callsOf('awaitHealthy')).toHaveLength(2);
    expect(stack.running().map((j) => j.version)).toEqual(['v2']);
  });
});
