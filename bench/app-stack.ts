// The real stack as P5 (application mode) uses it: each version of a run's pipeline in a Flink
// cluster of its own, started by the local launcher (scripts/app-cluster.sh) and found through the
// launch registry; the Flink facts a run is judged by, read from the cluster each job ran in; and
// the clusters stopped and their folders and records removed when a run is over.
import { execFile } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { LaunchRegistry } from '../activities/targets/registry';
import { loadApplicationModeConfig } from '../src/config/application-mode';
import type { DeploymentTarget } from '../src/domain/deployment-target';
import { activities, config, createSinkTables, runActivity, until, type RunPipeline } from './stack';

const exec = promisify(execFile);
const TERMINAL = ['FINISHED', 'CANCELED', 'FAILED'];

export const LOCAL_TARGET: DeploymentTarget = { kind: 'application', launcher: 'local' };
/** The worker's application-mode settings (the same registry and launcher the bench's worker uses). */
export const appMode = loadApplicationModeConfig(config.stackHome);
export const registry = new LaunchRegistry(appMode.registryDir);
const APPS = path.join(config.stackHome, 'apps');

/** A job in its own cluster. */
export interface AppJob {
  jobId: string;
  restUrl: string;
}

export async function restGet<T = any>(restUrl: string, urlPath: string): Promise<T> {
  const res = await request(`${restUrl}${urlPath}`, { headersTimeout: 10_000 });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET ${restUrl}${urlPath}: HTTP ${res.statusCode} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

export async function restPost<T = any>(restUrl: string, urlPath: string, body: unknown): Promise<T> {
  const res = await request(`${restUrl}${urlPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    headersTimeout: 10_000,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200 && res.statusCode !== 202) throw new Error(`POST ${restUrl}${urlPath}: HTTP ${res.statusCode} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** Fresh tables, v1 launched in a cluster of its own without a savepoint, RUNNING with a completed checkpoint. */
export async function startV1App(p: RunPipeline): Promise<AppJob> {
  await createSinkTables(p.tables);
  const { value } = await runActivity(activities.deployJob, {
    deployment: p.v1,
    deployToken: `bench/${p.jobName}/v1/${Date.now()}`,
    target: LOCAL_TARGET,
    jobName: p.jobName,
  });
  const job = { jobId: value.jobId, restUrl: value.restUrl! };
  await checkpointing(job, 'v1');
  return job;
}

/** Until the job is RUNNING with every task running and a completed checkpoint (rows committed). */
export async function checkpointing(job: AppJob, what: string): Promise<void> {
  await until(`${what} (${job.jobId} at ${job.restUrl}) to complete a checkpoint`, 180_000, async () => {
    const details = await restGet<{ state: string; vertices: { status: string }[] }>(job.restUrl, `/jobs/${job.jobId}`).catch(() => undefined);
    if (!details) return undefined;
    if (TERMINAL.includes(details.state)) throw new Error(`${what} ${job.jobId} ended ${details.state} before its first checkpoint`);
    const tasksRunning = details.vertices.every((v) => v.status === 'RUNNING' || v.status === 'FINISHED');
    // Flink answers 500 for the checkpoints of a job still initializing.
    const stats = await restGet<{ counts: { completed: number } }>(job.restUrl, `/jobs/${job.jobId}/checkpoints`).catch(() => undefined);
    return details.state === 'RUNNING' && tasksRunning && (stats?.counts.completed ?? 0) > 0 ? true : undefined;
  });
}

/** The old job's end, by Flink's clock, and where it was read. */
export interface EndSeen {
  endTime: number;
  /** 'job end-time': /jobs/overview of the old job's own cluster; 'not seen': the cluster went before the job showed as ended */
  from: 'job end-time' | 'not seen';
}

/**
 * Watches the old job in its own cluster until it has ended, and keeps its end-time. The workflow's
 * deploy reaps that cluster before it launches the new one, so the end-time must be read while the
 * cluster still answers: /jobs/overview every 100 ms (not cached by Flink, unlike /jobs/:id, whose
 * execution graph may be up to web.refresh-interval old).
 */
export function watchEnd(job: AppJob): { seen: Promise<EndSeen>; stop: () => void } {
  let stopped = false;
  const seen = (async (): Promise<EndSeen> => {
    let unanswered = 0;
    for (;;) {
      const overview = await restGet<{ jobs: { jid: string; state: string; 'end-time': number }[] }>(job.restUrl, '/jobs/overview').catch(() => undefined);
      const mine = overview?.jobs.find((j) => j.jid === job.jobId);
      if (mine && TERMINAL.includes(mine.state) && mine['end-time'] > 0) return { endTime: mine['end-time'], from: 'job end-time' };
      // Three unanswered polls in a row: the cluster is gone (reaped) before the job showed as ended.
      unanswered = overview === undefined ? unanswered + 1 : 0;
      if (stopped || unanswered >= 3) return { endTime: Number.NaN, from: 'not seen' };
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return { seen, stop: () => (stopped = true) };
}

export interface AppJobTimes {
  runningAt?: number;
  restoredFrom?: string;
  firstCheckpointAck?: number;
}

/** The new job's RUNNING timestamp, the savepoint it restored from and its first checkpoint, from its own cluster. */
export async function newJobFacts(job: AppJob): Promise<AppJobTimes> {
  const details = await restGet<{ timestamps?: Record<string, number> }>(job.restUrl, `/jobs/${job.jobId}`);
  const stats = await restGet<{
    latest: { restored?: { is_savepoint: boolean; external_path?: string } | null };
    history: { id: number; status: string; latest_ack_timestamp: number; is_savepoint: boolean }[];
  }>(job.restUrl, `/jobs/${job.jobId}/checkpoints`);
  const done = stats.history.filter((c) => c.status === 'COMPLETED' && !c.is_savepoint).sort((a, b) => a.id - b.id);
  return {
    runningAt: details.timestamps?.RUNNING || undefined,
    restoredFrom: stats.latest.restored?.is_savepoint ? (stats.latest.restored.external_path ?? undefined) : undefined,
    firstCheckpointAck: done[0]?.latest_ack_timestamp,
  };
}

/** The job's cluster, from its launch record (the workflow's launches). */
export async function clusterOf(jobId: string): Promise<AppJob | undefined> {
  const launch = await registry.byJobId(jobId);
  return launch ? { jobId, restUrl: launch.restUrl } : undefined;
}

/** Stops the clusters of these launch tokens and removes their folders and launch records: nothing of ours left. */
export async function removeClusters(tokens: string[]): Promise<void> {
  const env = { ...process.env, STACK_HOME: config.stackHome };
  for (const token of new Set(tokens)) {
    await exec('bash', [appMode.localLauncher, 'stop', '--token', token], { env }).catch(() => undefined);
    await rm(path.join(APPS, token), { recursive: true, force: true });
    await rm(path.join(registry.dir, `${token}.json`), { force: true });
    await rm(path.join(registry.dir, `${token}.sql`), { force: true });
  }
}

/** The launch tokens of every cluster the launcher started for this job name (app-cluster.sh's launch.json). */
export async function clustersNamed(jobName: string): Promise<string[]> {
  const tokens: string[] = [];
  for (const token of await readdir(APPS).catch(() => [] as string[])) {
    const text = await readFile(path.join(APPS, token, 'launch.json'), 'utf8').catch(() => undefined);
    const name = text === undefined ? undefined : (JSON.parse(text) as { name?: string }).name;
    if (name === jobName) tokens.push(token);
  }
  return tokens;
}
