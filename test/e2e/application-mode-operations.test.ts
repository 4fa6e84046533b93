// Application mode's operations beside the upgrade (#25 item 3), on REAL standalone application
// clusters started by the local launcher (scripts/app-cluster.sh), one job at parallelism 1 whose
// v1 cluster the cases share, in this order:
//   b. a scheduled savepoint (the schedule names the application target) lands on the job's own
//      cluster, is tagged on both tables and recorded in the catalog; retention keepLast 1 then
//      deletes the older point (its tags, its savepoint directory, its record) and keeps the newer;
//   a. one operation per job: a savepoint asked (savepointctl and the Temporal UI) while an upgrade
//      v1 -> v2 holds flink-job/<name> is refused before it reaches Flink;
//   c. a worker (a process of its own) SIGKILLed while the deploy activity launches v3's cluster: a
//      new worker takes over, the upgrade completes, and v3's deploy token has one cluster, one
//      JobManager and one TaskManager.
// Own database, job and launch registry; every cluster it started is stopped in afterAll.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { localPath, RestorePointStore } from '../../activities/catalog/store';
import type { LaunchRecord } from '../../activities/targets/registry';
import { main as savepointctl } from '../../src/cli/main';
import { createSavepointSchedule, deleteSavepointSchedule, describeSavepointSchedule, triggerSavepointSchedule } from '../../src/client/schedules';
import { startUpgrade } from '../../src/client/start-upgrade';
import { retentionWorkflowId } from '../../src/domain/job-name';
import type { Deployment } from '../../src/domain/model';
import type { RetentionResult } from '../../src/domain/retention-input';
import type { TakeSavepointResult } from '../../src/domain/savepoint-input';
import { operationStepKey, operationWorkflowId, type UpgradeResult } from '../../workflows/messages';
import { refusalOf } from '../bad-input/refusal';
import { activityRunning, retryStartedAfter, startedAttempts } from '../faults/fixture';
import { run } from '../support/activity-calls';
import { APPS, appModeFixture, clusterFoldersOf, idsPipeline, launcher, LOCAL } from '../support/app-mode';
import { tagNames } from '../support/demo-pipeline';
import { startInProcessWorker, type InProcessWorker } from '../support/in-process-worker';
import { freshDatabase } from '../support/paimon-fixtures';
import { savepointDirsOf } from '../support/savepoint-dirs';
import { config, flinkGet, requireStack, until } from '../support/stack';
import { connectStackClient } from '../support/stack-client';
import { unique } from '../support/temporal-env';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

// Own database, job and launch registry (the worker process inherits them from the environment).
const fixture = appModeFixture('appops');
const { job: JOB, launches, launchOf, checkpointed, savepoints } = fixture;
const pipeline = idsPipeline(fixture);
const TABLES = pipeline.tables;
const [v1, v2, v3] = ['v1', 'v2', 'v3'].map((name) => pipeline.version(name)) as [Deployment, Deployment, Deployment];

/** The launcher's clusters of this job (app-cluster.sh list): one per deploy token. */
async function clustersOfJob(): Promise<{ token: string; jobId: string; alive: boolean }[]> {
  const { stdout } = await launcher('list');
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { token: string; name: string; jobId: string; alive: boolean })
    .filter((c) => c.name === JOB);
}

/** The JVMs of a cluster's folder, by Flink entry point. */
async function jvmsOf(clusterDir: string): Promise<{ jobManagers: number; taskManagers: number }> {
  const counts = { jobManagers: 0, taskManagers: 0 };
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!args.some((a) => a.includes(clusterDir))) continue;
    if (args.some((a) => a.endsWith('StandaloneApplicationClusterEntryPoint'))) counts.jobManagers++;
    if (args.some((a) => a.endsWith('TaskManagerRunner'))) counts.taskManagers++;
  }
  return counts;
}

interface CheckpointEntry {
  id: number;
  status: string;
  is_savepoint: boolean;
  checkpoint_type: string;
  external_path?: string;
}
const historyOf = async (launch: LaunchRecord) =>
  ((await (await fetch(`${launch.restUrl}/jobs/${launch.jobId}/checkpoints`)).json()) as { history: CheckpointEntry[] }).history;

describe('application mode: schedules, retention, one operation per job, a worker killed mid-launch (real application clusters)', () => {
  let client: Client;
  let worker: InProcessWorker | undefined;
  let workerProcess: WorkerProcess | undefined;
  const taskQueue = unique('e2e-appops');
  const activities = createActivities(config);
  /** the job running now (v1, then v2, then v3) */
  let running: { version: Deployment; jobId: string };
  const upgrade = (newVersion: Deployment, queue: string) =>
    startUpgrade(
      client,
      {
        job: { jobName: JOB },
        newVersion,
        oldVersion: running.version,
        sinkTables: TABLES,
        target: LOCAL,
        options: { healthTimeout: '3m', tagTimeout: '2m', savepointTimeout: '3m' },
      },
      { taskQueue: queue },
    );

  beforeAll(async () => {
    await requireStack();
    await freshDatabase(fixture.db);
    await pipeline.createTables();
    client = await connectStackClient();
    worker = await startInProcessWorker(config, taskQueue, activities);
    const first = await run(activities.deployJob, { deployment: v1, deployToken: `appops-v1-${fixture.run}`, target: LOCAL, jobName: JOB });
    running = { version: v1, jobId: first.jobId };
    await checkpointed(first.jobId);
  }, 600_000);

  afterAll(async () => {
    await deleteSavepointSchedule(client, JOB).catch(() => undefined);
    await worker?.stop();
    await workerProcess?.stop();
    await fixture.cleanUp();
    await client?.connection.close();
  });

  it('b. a scheduled savepoint lands on the job\'s own cluster, tagged and recorded; retention deletes what its policy says', { timeout: 360_000 }, async () => {
    await createSavepointSchedule(
      client,
      { savepoint: { job: { jobName: JOB }, target: LOCAL, tables: TABLES, options: { label: 'appops', tagTimeout: '2m' } }, every: '1h', paused: true },
      { taskQueue },
    );
    const scheduled = async (): Promise<TakeSavepointResult> => {
      const before = (await describeSavepointSchedule(client, JOB)).recentActions.length;
      await triggerSavepointSchedule(client, JOB);
      const action = await until('the schedule to start a run', 60_000, async () => (await describeSavepointSchedule(client, JOB)).recentActions[before]);
      const result: TakeSavepointResult = await client.workflow.getHandle(action.workflowId, action.runId).result();
      savepoints.push(result.path);
      return result;
    };
    const older = await scheduled();
    const newer = await scheduled();
    const v1Launch = await launchOf(running.jobId);
    for (const sp of [older, newer]) {
      expect(sp).toMatchObject({ jobName: JOB, jobId: running.jobId, restorable: true, missingTags: [] });
      // Taken by the job's own cluster, written under the same savepoint dir as the session cluster's.
      expect((await historyOf(v1Launch)).find((c) => c.id === sp.savepointId)).toMatchObject({
        is_savepoint: true,
        status: 'COMPLETED',
        checkpoint_type: 'SAVEPOINT',
        external_path: sp.path,
      });
      expect(path.dirname(localPath(sp.path, 'savepoint'))).toBe(localPath(config.flink.savepointDir, 'savepoint dir'));
      expect(existsSync(path.join(localPath(sp.path, 'savepoint'), '_metadata'))).toBe(true);
      for (const table of TABLES) expect(await tagNames(...(table.split('.') as [string, string]))).toContain(sp.tag);
    }
    // The session cluster never ran the job.
    const session = await flinkGet<{ jobs: { name: string }[] }>('/jobs/overview');
    expect(session.jobs.filter((j) => j.name === JOB)).toEqual([]);
    const catalog = () => run(activities.listRestorePoints, { jobName: JOB, tables: TABLES });
    expect((await catalog()).map((p) => [p.savepointId, p.jobId, p.restorable, p.recorded, p.label])).toEqual([
      [newer.savepointId, running.jobId, true, true, 'appops'],
      [older.savepointId, running.jobId, true, true, 'appops'],
    ]);

    const retention: RetentionResult = await client.workflow.execute('retentionWorkflow', {
      taskQueue,
      workflowId: retentionWorkflowId(JOB),
      args: [{ jobName: JOB, policy: { keepLast: 1 } }],
    });
    expect(retention.decisions).toEqual([
      { savepointId: newer.savepointId, action: 'keep', reason: 'newest-restorable' },
      { savepointId: older.savepointId, action: 'delete', reason: 'expired' },
    ]);
    expect(retention).toMatchObject({ deleted: [older.savepointId], failed: [] });
    for (const table of TABLES) {
      const tags = await tagNames(...(table.split('.') as [string, string]));
      expect(tags).not.toContain(older.tag);
      expect(tags).toContain(newer.tag);
    }
    expect(existsSync(localPath(older.path, 'savepoint'))).toBe(false);
    expect(existsSync(path.join(localPath(newer.path, 'savepoint'), '_metadata'))).toBe(true);
    expect(existsSync(new RestorePointStore(config.flink.savepointDir).recordFile(JOB, older.savepointId))).toBe(false);
    expect(await catalog()).toMatchObject([{ savepointId: newer.savepointId, restorable: true, recorded: true, problems: [] }]);
    await deleteSavepointSchedule(client, JOB);
  });

  it('a. a savepoint asked while an upgrade of the job holds flink-job/<name> is refused, and Flink takes none', { timeout: 420_000 }, async () => {
    const v1Job = running.jobId;
    const dirsBefore = await savepointDirsOf(v1Job);
    const handle = await upgrade(v2, taskQueue);
    // From the stop on: the stop and the tag wait take seconds and a look can miss them, the
    // launch of v2's cluster that follows takes a minute (the upgrade is still far from its end).
    const stepsHolding = ['stopping-with-savepoint', 'awaiting-tag', 'deploying-new-version'];
    await until('the upgrade to stop the job', 180_000, async () => {
      const step = (await handle.describe()).typedSearchAttributes.get(operationStepKey);
      return step !== undefined && stepsHolding.includes(step) ? step : undefined;
    });
    const out: string[] = [];
    const err: string[] = [];
    const [code, ui] = await Promise.all([
      savepointctl(['savepoint', '--job-name', JOB, '--table', TABLES.join(','), '--target', 'application', '--launcher', 'local', '--wait', '--task-queue', taskQueue], {
        out: (line = '') => out.push(line),
        err: (line) => err.push(line),
      }),
      refusalOf(
        client.workflow.execute('takeSavepointWorkflow', {
          taskQueue,
          workflowId: unique('appops-ui-savepoint'),
          args: [{ job: { jobName: JOB }, target: LOCAL, tables: TABLES }],
        }),
      ),
    ]);
    const holding = await handle.describe();
    expect(holding.status.name).toBe('RUNNING');
    const busy =
      `job '${JOB}' already has an operation running: upgradeWorkflow '${operationWorkflowId({ jobName: JOB })}' ` +
      `(run ${holding.runId}, started ${holding.startTime.toISOString()})`;
    expect(code, out.join('\n')).toBe(1);
    expect(err.join('\n')).toContain(`savepointctl savepoint: ${busy}`);
    expect(ui).toEqual({
      type: 'OperationRunning',
      message: `${busy}. This savepoint was refused and nothing was sent to Flink: take it once that operation has ended.`,
    });

    const result: UpgradeResult = await handle.result();
    savepoints.push(result.savepoint!.path);
    expect(result).toMatchObject({ status: 'upgraded', oldJobId: v1Job });
    // Flink wrote one savepoint of v1 since: the upgrade's stop-with-savepoint.
    const dirsAfter = (await savepointDirsOf(v1Job)).filter((d) => !dirsBefore.includes(d));
    expect(dirsAfter).toEqual([path.basename(localPath(result.savepoint!.path, 'savepoint'))]);
    expect(await launchOf(result.newJobId!)).toMatchObject({ launcher: 'local', version: 'v2' });
    running = { version: v2, jobId: result.newJobId! };
    await checkpointed(result.newJobId!);
  });

  it('c. a worker SIGKILLed while the deploy launches the new cluster: a new worker completes the upgrade, one cluster for the version', { timeout: 600_000 }, async () => {
    await worker?.stop();
    worker = undefined;
    const queue = unique('e2e-appops-kill');
    workerProcess = await startWorkerProcess(queue);
    // The launcher's folders (one per token), read directly: `app-cluster.sh list` reads every
    // folder's processes and can take longer than a launch on an unloaded machine.
    const tokensBefore = new Set(await readdir(APPS));
    const handle = await upgrade(v3, queue);
    await activityRunning(handle, 'deployJob', 300_000);
    // The launch is under way once the launcher wrote the new cluster's launch.json (its processes
    // started); the job is planned and listed a minute or so later. Only this job's: other
    // launches on the same stack (another file's, another run's) add folders too.
    const launching = await until('the launcher to start v3\'s cluster', 120_000, async () => {
      const fresh = (await clusterFoldersOf(JOB)).find((token) => !tokensBefore.has(token));
      return fresh === undefined ? undefined : { token: fresh };
    });
    expect((await launches()).map((l) => l.version)).not.toContain('v3');
    const killedAt = Date.now();
    await workerProcess.kill();
    workerProcess = await startWorkerProcess(queue);
    // Measured, not asserted: the deploy's heartbeat timeout is 1 min.
    const takeover = await retryStartedAfter(handle, 'deployJob', killedAt, 300_000);
    console.log(`worker killed during the launch: the next deployJob attempt started ${takeover === undefined ? '(none)' : `${(takeover / 1000).toFixed(1)} s`} after the kill`);

    const result: UpgradeResult = await handle.result();
    savepoints.push(result.savepoint!.path);
    expect(result).toMatchObject({ status: 'upgraded', oldJobId: running.jobId });
    // The killed attempt never reported back: a later one, on the new worker, launched.
    expect((await startedAttempts(handle, 'deployJob')).at(-1)).toBeGreaterThan(1);
    const v3Launch = await launchOf(result.newJobId!);
    expect(v3Launch).toMatchObject({ launcher: 'local', version: 'v3', deployId: launching.token });
    expect((await launches()).filter((l) => l.version === 'v3')).toHaveLength(1);
    // One cluster per deploy token, and v3's has one JobManager and one TaskManager.
    const clusters = await clustersOfJob();
    expect(clusters.filter((c) => !tokensBefore.has(c.token))).toEqual([expect.objectContaining({ token: launching.token, jobId: result.newJobId, alive: true })]);
    expect(await jvmsOf(path.join(APPS, launching.token))).toEqual({ jobManagers: 1, taskManagers: 1 });
    const status = (await (await fetch(`${v3Launch.restUrl}/jobs/${result.newJobId}/status`)).json()) as { status: string };
    expect(status.status).toBe('RUNNING');
    const restored = (await (await fetch(`${v3Launch.restUrl}/jobs/${result.newJobId}/checkpoints`)).json()) as { latest: { restored?: { external_path: string } | null } };
    expect(restored.latest.restored?.external_path).toBe(result.savepoint!.path);
    running = { version: v3, jobId: result.newJobId! };
  });
});
