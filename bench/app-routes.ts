// P5's routes: an application-mode upgrade (v1 -> v2) and restore (to restore point A), each
// through its workflow with the local launcher, and by hand: stop-with-savepoint through Flink REST
// on the job's own cluster (polled as often as the worker polls), for the restore `rollback_to` of
// every table at once, then the new cluster started from the savepoint with the same launcher code
// (activities/targets/local.ts), nothing else: the floor. Downtime by Flink's clocks in both: the
// old job's end-time in its own cluster (read while that cluster still answers, watchEnd) to the new
// job's RUNNING timestamp in the new cluster.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { sameLocation } from '../activities/flink/savepoint-metadata';
import { deployIdOf } from '../activities/flink/deploy';
import { localTarget } from '../activities/targets/local';
import type { Deployment } from '../src/domain/model';
import { tagFor } from '../src/domain/model';
import {
  appMode,
  checkpointing,
  clusterOf,
  LOCAL_TARGET,
  newJobFacts,
  registry,
  restGet,
  restPost,
  startV1App,
  watchEnd,
  type AppJob,
  type EndSeen,
} from './app-stack';
import { restoreViaWorkflow } from './restore-routes';
import type { PointA, RestoreRunResult } from './restore-run';
import { stepper, viaWorkflow, type RouteResult, type Step } from './routes';
import { activities, config, runActivity, until, type RunPipeline } from './stack';

/**
 * by-hand: the floor issue 25 names (stop with a savepoint, start the new cluster from it);
 * by-hand-prepared: the same with `app-cluster.sh prepare` before the stop, the head start the
 * workflow takes, so that the workflow's own cost is compared like with like.
 */
export type AppRoute = 'workflow' | 'by-hand' | 'by-hand-prepared';
export const APP_ROUTES: AppRoute[] = ['workflow', 'by-hand', 'by-hand-prepared'];
/** A cluster of its own starts JVMs and plans the job before its first checkpoint: more than a session deploy. */
const HEALTH_TIMEOUT_MS = 240_000;

export interface AppRunResult {
  operation: 'upgrade' | 'restore';
  route: AppRoute;
  run: number;
  ok: boolean;
  error?: string;
  wallMs: number;
  /** the old job's end-time (its cluster's clock) -> the new job's RUNNING (the new cluster's clock) */
  downtimeMs: number;
  /** where the old job's end was read (watchEnd) */
  endFrom?: EndSeen['from'];
  /** the old version's job in its own cluster (none when the run broke before it ran) */
  oldJob?: AppJob;
  newJob?: AppJob;
  /** the savepoints the route took (removed at the end) */
  savepoints: string[];
  /** the new job restored from the savepoint it was to start from, as its cluster says */
  restoredAsMeant?: boolean;
  steps: Step[];
  /** the launcher's own time: its start began (run/launched-at) -> the launch answered (by hand) or the deploy returned (workflow) */
  launchMs?: number;
  /** workflow only: the deploy's start -> the launcher's start began (reading the registry; reaping, for a launcher that reaps first) */
  beforeLaunchMs?: number;
  savepointPollLagMs?: number;
  healthPollLagMs?: number;
  workflow?: RouteResult['workflow'] | RestoreRunResult['workflow'];
  cpuMs?: Record<string, number>;
  /** the downtime by Flink's clocks: the old job's end-time and the new job's RUNNING (Date.now() times) */
  downtimeWindow?: { from: number; to: number };
  /** the CPU each process spent in downtimeWindow (cpu.ts' cpuBetween) */
  downtimeCpuMs?: Record<string, number>;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The facts every P5 route is judged by: the end the watcher saw, the new job's RUNNING and where it restored from. */
async function judge(r: AppRunResult, seen: EndSeen, expectedSavepoint: string, stopReturnedAt?: number, healthReturnedAt?: number): Promise<AppRunResult> {
  r.endFrom = seen.from;
  if (!r.newJob) return r;
  const facts = await newJobFacts(r.newJob);
  r.downtimeMs = facts.runningAt !== undefined ? facts.runningAt - seen.endTime : Number.NaN;
  if (facts.runningAt !== undefined && Number.isFinite(seen.endTime)) r.downtimeWindow = { from: seen.endTime, to: facts.runningAt };
  if (stopReturnedAt !== undefined && Number.isFinite(seen.endTime)) r.savepointPollLagMs = stopReturnedAt - seen.endTime;
  if (healthReturnedAt !== undefined && facts.firstCheckpointAck !== undefined) r.healthPollLagMs = healthReturnedAt - facts.firstCheckpointAck;
  r.restoredAsMeant = !!facts.restoredFrom && sameLocation(facts.restoredFrom, expectedSavepoint);
  if (r.ok && !r.restoredAsMeant) {
    r.ok = false;
    r.error = `the new job did not restore from ${expectedSavepoint}; its cluster says ${facts.restoredFrom ?? 'no savepoint'}`;
  }
  if (r.ok && !Number.isFinite(r.downtimeMs)) {
    r.ok = false;
    r.error = `no downtime: the old job's end was ${seen.from}, the new job's RUNNING ${facts.runningAt ?? 'missing'}`;
  }
  return r;
}

/**
 * When the launcher's start began (scripts/app-cluster.sh writes run/launched-at); before a prepare
 * existed, when it created the new cluster's folder ($STACK_HOME/apps/<token>).
 */
async function launchStartedAt(deployId: string): Promise<number | undefined> {
  const dir = path.join(config.stackHome, 'apps', deployId);
  const launchedAt = Number((await readFile(path.join(dir, 'run', 'launched-at'), 'utf8').catch(() => '')).trim());
  if (launchedAt > 0) return launchedAt;
  const s = await stat(dir).catch(() => undefined);
  return s && s.birthtimeMs > 0 ? s.birthtimeMs : undefined;
}

/** The launcher's share of a workflow's deploy, split at the moment its start began. */
async function splitDeploy(r: AppRunResult): Promise<void> {
  const deploy = r.steps.filter((s) => s.name === 'deployJob').at(-1);
  const launch = r.newJob ? await registry.byJobId(r.newJob.jobId) : undefined;
  const at = launch ? await launchStartedAt(launch.deployId) : undefined;
  if (!deploy?.endedAt || at === undefined) return;
  r.launchMs = deploy.endedAt - at;
  r.beforeLaunchMs = deploy.ms - r.launchMs;
}

export async function upgradeViaWorkflow(client: Client, taskQueue: string, p: RunPipeline): Promise<AppRunResult> {
  const old = await startV1App(p);
  const watch = watchEnd(old);
  let r: AppRunResult | undefined;
  const judged = await viaWorkflow(client, taskQueue, p, old.jobId, {
    target: LOCAL_TARGET,
    healthTimeoutMs: HEALTH_TIMEOUT_MS,
    judge: async (result, stopReturnedAt, healthReturnedAt) => {
      const newJob = result.newJobId ? await clusterOf(result.newJobId) : undefined;
      r = { ...common(result, 'upgrade', old), newJob, savepoints: result.savepointPath ? [result.savepointPath] : [] };
      watch.stop();
      await judge(r, await watch.seen, result.savepointPath ?? '', stopReturnedAt, healthReturnedAt);
      return result;
    },
  });
  watch.stop();
  r ??= { ...common(judged, 'upgrade', old), savepoints: [] };
  await splitDeploy(r);
  return r;
}

function common(result: RouteResult | RestoreRunResult, operation: AppRunResult['operation'], oldJob: AppJob) {
  return {
    operation,
    route: 'workflow' as const,
    run: result.run,
    ok: result.ok,
    error: result.error,
    wallMs: result.wallMs,
    downtimeMs: Number.NaN,
    oldJob,
    steps: result.steps,
    workflow: result.workflow,
  };
}

/** stop-with-savepoint through REST on the job's own cluster, polled as the worker polls, until the job has ended. */
async function stopByHand(job: AppJob): Promise<string> {
  const { 'request-id': trigger } = await restPost<{ 'request-id': string }>(job.restUrl, `/jobs/${job.jobId}/stop`, { drain: false, formatType: 'CANONICAL' });
  const every = config.flink.savepointPollIntervalMs;
  const location = await until('the stop savepoint', 180_000, async () => {
    const s = await restGet<{ status: { id: string }; operation?: { location?: string; 'failure-cause'?: unknown } }>(job.restUrl, `/jobs/${job.jobId}/savepoints/${trigger}`);
    if (s.status.id !== 'COMPLETED') return undefined;
    if (!s.operation?.location) throw new Error(`stop-with-savepoint of ${job.jobId} failed: ${JSON.stringify(s.operation?.['failure-cause']).slice(0, 500)}`);
    return s.operation.location;
  }, every);
  // The job's last commit lands before it ends: the tables are final from here (what makes a rollback safe).
  await until('the stopped job to end', 60_000, async () => {
    const { status } = await restGet<{ status: string }>(job.restUrl, `/jobs/${job.jobId}/status`);
    return ['FINISHED', 'CANCELED', 'FAILED'].includes(status) ? true : undefined;
  }, every);
  return location;
}

/** The launch the local launcher gets: as the worker's deploy builds it (activities/targets/application-deploy.ts). */
function launchRequest(p: RunPipeline, deployment: Deployment, savepointPath: string, route: string) {
  const deployToken = `bench/${p.jobName}/${route}/${Date.now()}`;
  const deployId = deployIdOf(deployToken);
  const artifact = path.join(registry.dir, `${deployId}.sql`);
  return { deployToken, deployId, artifact, savepointPath, jobName: p.jobName, deployment, allowNonRestoredState: false };
}

async function writeArtifact(request: { artifact: string; deployment: Deployment }): Promise<void> {
  if (request.deployment.kind !== 'sql' || !request.deployment.script) throw new Error('the bench deploys inline SQL scripts');
  await mkdir(path.dirname(request.artifact), { recursive: true });
  await writeFile(request.artifact, request.deployment.script);
}

/** Until the new job has completed a checkpoint since it started (what the health gate waits for), polled as the worker polls. */
async function healthyByHand(job: AppJob): Promise<void> {
  await until('the new job to checkpoint', HEALTH_TIMEOUT_MS, async () => {
    const stats = await restGet<{ counts: { completed: number } }>(job.restUrl, `/jobs/${job.jobId}/checkpoints`).catch(() => undefined);
    return (stats?.counts.completed ?? 0) > 0 ? true : undefined;
  }, config.flink.healthPollIntervalMs);
}

/** By hand: stop (for a restore, rollback_to every table), start the new cluster from the savepoint, wait for a checkpoint. */
async function byHand(
  operation: AppRunResult['operation'],
  p: RunPipeline,
  old: AppJob,
  deployment: Deployment,
  opts: { fromSavepoint?: string; rollbackTo?: string; prepare?: boolean },
): Promise<AppRunResult> {
  const { steps, ended, step } = stepper();
  const r: AppRunResult = { operation, route: opts.prepare ? 'by-hand-prepared' : 'by-hand', run: p.run, ok: false, wallMs: Number.NaN, downtimeMs: Number.NaN, oldJob: old, savepoints: [], steps };
  const watch = watchEnd(old);
  // Written before the clock starts: the workflow's deploy writes its inline script too, but a person has the file.
  const request = launchRequest(p, deployment, opts.fromSavepoint ?? '', 'by-hand');
  await writeArtifact(request);
  const t0 = Date.now();
  let startedAt: number | undefined;
  try {
    if (opts.prepare) await step('prepare', (req: typeof request) => localTarget(appMode).prepare!(req), request);
    const stopped = await step('stopWithSavepoint', stopByHand, old);
    r.savepoints.push(stopped);
    request.savepointPath = opts.fromSavepoint ?? stopped;
    if (opts.rollbackTo) {
      const tag = opts.rollbackTo;
      await Promise.all(p.tables.map((table) => step('rollbackToTag', activities.rollbackToTag, { table, tag })));
    }
    startedAt = Date.now();
    const launched = await step('launch', (req: typeof request) => localTarget(appMode).launch(req), request);
    r.newJob = launched;
    await step('awaitHealthy', healthyByHand, launched);
    r.ok = true;
  } catch (err) {
    r.error = err instanceof Error ? err.message : String(err);
  }
  r.wallMs = Date.now() - t0;
  const folderAt = await launchStartedAt(request.deployId);
  if (ended.launch && folderAt !== undefined) r.launchMs = ended.launch - folderAt;
  else if (ended.launch && startedAt) r.launchMs = ended.launch - startedAt;
  watch.stop();
  return judge(r, await watch.seen, request.savepointPath, ended.stopWithSavepoint, ended.awaitHealthy);
}

export async function upgradeByHand(p: RunPipeline, prepare = false): Promise<AppRunResult> {
  const old = await startV1App(p);
  return byHand('upgrade', p, old, p.v2, { prepare });
}

/** v1 in its own cluster and checkpointing, restore point A taken there, tagged and recorded, then two more checkpoints. */
async function withPointA(p: RunPipeline): Promise<{ old: AppJob; a: PointA }> {
  const old = await startV1App(p);
  const savepoint = (await runActivity(activities.triggerSavepoint, { jobId: old.jobId, triggerId: hex(16) })).value;
  const tag = tagFor(savepoint.savepointId);
  const { value: tagged } = await runActivity(activities.awaitTag, { tables: p.tables, tag, timeoutMs: 60_000 });
  if (tagged.missing.length > 0) throw new Error(`restore point ${tag} never tagged ${tagged.missing.join(', ')}`);
  await runActivity(activities.recordRestorePoint, {
    jobName: p.jobName,
    jobId: old.jobId,
    savepoint,
    tables: p.tables,
    pinned: false,
    label: 'bench P5 restore point A',
    deploymentVersion: p.v1.version,
    taggedAtRecord: true,
  });
  await until('two checkpoints after A', 60_000, async () => {
    const stats = await restGet<{ latest: { completed?: { id: number } | null } }>(old.restUrl, `/jobs/${old.jobId}/checkpoints`).catch(() => undefined);
    return (stats?.latest.completed?.id ?? 0) >= savepoint.savepointId + 2 ? true : undefined;
  });
  await checkpointing(old, 'v1');
  return { old, a: { savepointId: savepoint.savepointId, path: savepoint.path, tag } };
}

export async function restoreViaWorkflowApp(client: Client, taskQueue: string, p: RunPipeline): Promise<AppRunResult> {
  const { old, a } = await withPointA(p);
  const watch = watchEnd(old);
  let r: AppRunResult | undefined;
  const result = await restoreViaWorkflow(client, taskQueue, p, a, old.jobId, {
    target: LOCAL_TARGET,
    judge: async (res, _a, stopReturnedAt, healthReturnedAt) => {
      const newJob = res.newJobId ? await clusterOf(res.newJobId) : undefined;
      r = { ...common(res, 'restore', old), newJob, savepoints: [a.path, ...(res.todaysSavepointPath ? [res.todaysSavepointPath] : [])] };
      watch.stop();
      await judge(r, await watch.seen, a.path, stopReturnedAt, healthReturnedAt);
      return res;
    },
  });
  watch.stop();
  r ??= { ...common(result, 'restore', old), savepoints: [a.path] };
  await splitDeploy(r);
  return r;
}

export async function restoreByHand(p: RunPipeline, prepare = false): Promise<AppRunResult> {
  const { old, a } = await withPointA(p);
  const r = await byHand('restore', p, old, p.v1, { fromSavepoint: a.path, rollbackTo: a.tag, prepare });
  r.savepoints.push(a.path);
  return r;
}

