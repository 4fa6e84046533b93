// The real stack as the P1/P2 benchmarks use it: our own database (bench_upgrade) and job names
// (bench-upgrade-<tag>-<run>), fresh sink tables per run, v1 started and checkpointing before a run,
// and the Flink facts a run is judged by (job end and RUNNING times, checkpoint times).
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { request } from 'undici';
import { createActivities } from '../activities';
import type { Activities } from '../activities/contract';
import { localPath } from '../activities/flink/savepoint-metadata';
import { rowObjects, SqlGatewayClient } from '../activities/sql-gateway/client';
import { loadConfig } from '../src/config/config';
import { duration } from '../src/domain/durations';
import type { Deployment } from '../src/domain/model';
import { repoRoot } from '../src/config/repo-root';

export const config = loadConfig();
export const DATABASE = 'bench_upgrade';
/**
 * This bench process's own mark in its job and table names (BENCH_TAG, else from the clock): two
 * benches on one shared stack must neither cancel each other's jobs nor see each other's writers
 * (a writer is matched by table name).
 */
export const RUN_TAG = process.env.BENCH_TAG ?? Date.now().toString(36).slice(-6);
if (!/^[a-z0-9]{1,12}$/.test(RUN_TAG)) throw new Error(`BENCH_TAG must be 1-12 lowercase letters or digits, got '${RUN_TAG}'`);
export const JOB_PREFIX = `bench-upgrade-${RUN_TAG}-`;
const TERMINAL = ['FINISHED', 'CANCELED', 'FAILED'];

/** The activities exactly as the worker builds them (same poll intervals), for scripts. */
export const activities: Activities = createActivities(config);

/** Runs an activity function the way a worker would; counts its heartbeats (one per poll round). */
export async function runActivity<I, O>(fn: (input: I) => Promise<O>, input: I): Promise<{ value: O; heartbeats: number }> {
  const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  let heartbeats = 0;
  env.on('heartbeat', () => heartbeats++);
  const value = (await env.run(fn, input)) as O;
  return { value, heartbeats };
}

export async function requireStack(): Promise<void> {
  for (const url of [`${config.flink.restUrl}/overview`, `${config.sqlGateway.url}/v1/info`]) {
    const ok = await request(url, { headersTimeout: 5_000 })
      .then(async (res) => (await res.body.text(), res.statusCode === 200))
      .catch(() => false);
    if (!ok) throw new Error(`the stack is not reachable at ${url}: start it with 'bash scripts/stack.sh up' (P4 alone needs only BENCH_ONLY=P4)`);
  }
}

export async function flinkGet<T = any>(urlPath: string): Promise<T> {
  const res = await request(`${config.flink.restUrl}${urlPath}`, { headersTimeout: 10_000 });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET ${urlPath}: HTTP ${res.statusCode} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** Statements in one batch session with the Paimon catalog in use; the last one's rows. */
export async function paimonQuery(...statements: string[]): Promise<Record<string, unknown>[]> {
  const client = new SqlGatewayClient({ url: config.sqlGateway.url, requestTimeoutMs: 30_000 });
  const session = await client.openSession({ 'execution.runtime-mode': 'batch' });
  try {
    const { catalog, warehouse } = config.paimon;
    await client.execute(session, `CREATE CATALOG IF NOT EXISTS \`${catalog}\` WITH ('type' = 'paimon', 'warehouse' = '${warehouse}')`);
    await client.execute(session, `USE CATALOG \`${catalog}\``);
    let last: Record<string, unknown>[] = [];
    for (const statement of statements) last = rowObjects(await client.execute(session, statement));
    return last;
  } finally {
    await client.closeSession(session).catch(() => undefined);
    await client.close();
  }
}

/** One benchmark run's pipeline: its own sink tables (checkpoint ids, hence tag names, restart at 1 per fresh job). */
export interface RunPipeline {
  run: number;
  jobName: string;
  tables: string[];
  v1: Deployment;
  v2: Deployment;
}

const PIPELINE_KINDS = {
  upgrade: { table: 'r', job: '' },
  restore: { table: 'restore', job: 'restore-' },
  'app-upgrade': { table: 'appr', job: 'app-' },
  'app-restore': { table: 'apprestore', job: 'app-restore-' },
};

/**
 * P1/P2 upgrade pipelines are `r<n>_<tag>` / `bench-upgrade-<tag>-<n>`, P3 restore pipelines
 * `restore<n>_<tag>` / `bench-upgrade-<tag>-restore-<n>`, P5's (application mode) `appr…` /
 * `…-app-<n>` and `apprestore…` / `…-app-restore-<n>`.
 */
export function pipelineFor(run: number, kind: keyof typeof PIPELINE_KINDS = 'upgrade', settings = ''): RunPipeline {
  const names = PIPELINE_KINDS[kind];
  const tables = ['seq_a', 'seq_b'].map((t) => `${DATABASE}.${names.table}${run}_${RUN_TAG}_${t}`);
  const jobName = `${JOB_PREFIX}${names.job}${run}`;
  const script = (file: string) =>
    demoScript(
      file,
      jobName,
      {
        'paimon.demo.seq_a': `paimon.${tables[0]}`,
        'paimon.demo.seq_b': `paimon.${tables[1]}`,
      },
      settings,
    );
  return {
    run,
    jobName,
    tables,
    v1: { kind: 'sql', version: 'v1', script: script('pipeline-v1.sql') },
    v2: { kind: 'sql', version: 'v2', script: script('pipeline-v2.sql') },
  };
}

/** How a session-cluster pipeline checkpoints in the bench (checkpointTiming). */
export interface CheckpointTiming {
  /** SET statements for the pipeline's script */
  settings: string;
  intervalMs: number;
}

/**
 * For pipelines on the session cluster. Flink starts a job's first checkpoint at a random moment
 * between `min-pause` and the interval (CheckpointCoordinator#getRandomInitDelay), so the health
 * gate's wait for it varied by up to the whole interval (3 s) from run to run, on either route: more
 * than the 5% a route is judged by. With min-pause set to the cluster's interval the first
 * checkpoint comes at a fixed delay after the job starts, the same on every route.
 */
export async function checkpointTiming(): Promise<CheckpointTiming> {
  const entries = await flinkGet<{ key: string; value: string }[]>('/jobmanager/config');
  const interval = entries.find((e) => e.key === 'execution.checkpointing.interval')?.value;
  if (interval === undefined) throw new Error("the session cluster's config has no execution.checkpointing.interval (scripts/stack-lib.sh sets it)");
  const intervalMs = duration("the session cluster's execution.checkpointing.interval").parse(interval);
  return { settings: `SET 'execution.checkpointing.min-pause' = '${interval}';`, intervalMs };
}

/**
 * Each route starts at a random moment of its old job's checkpoint cycle. The pipelines checkpoint
 * at a fixed period and a route starts right after a checkpoint completed, so without it a route's
 * stop fell at the same point of the cycle in every round: one whose checks take ~3 s met the next
 * checkpoint in flight and its savepoint waited for it (+0.5 s), every round, while a faster one
 * never did. A person's stop falls at any moment of the cycle.
 */
export async function atRandomMomentOfCycle(timing: CheckpointTiming): Promise<number> {
  const waitMs = Math.floor(Math.random() * timing.intervalMs);
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  return waitMs;
}

/** demo/sql/<file> aimed at other tables and named after our job, with `settings` (SET statements) right after its name. */
export function demoScript(file: string, jobName: string, tables: Record<string, string>, settings = ''): string {
  let text = readFileSync(path.join(repoRoot(), 'demo', 'sql', file), 'utf8');
  for (const [from, to] of Object.entries(tables)) text = text.replaceAll(from, to);
  return text.replace(/SET 'pipeline\.name' = '[^']*';/, `SET 'pipeline.name' = '${jobName}';${settings ? `\n${settings}` : ''}`);
}

export async function createSinkTables(tables: string[]): Promise<void> {
  await paimonQuery(`CREATE DATABASE IF NOT EXISTS \`${DATABASE}\``);
  for (const ref of tables) {
    const [db, t] = ref.split('.');
    await paimonQuery(
      `DROP TABLE IF EXISTS \`${db}\`.\`${t}\``,
      `CREATE TABLE \`${db}\`.\`${t}\` (id BIGINT NOT NULL, payload STRING, PRIMARY KEY (id) NOT ENFORCED) ` +
        `WITH ('bucket' = '1', 'sink.savepoint.auto-tag' = 'true')`,
    );
  }
}

export async function dropSinkTables(tables: string[]): Promise<void> {
  await paimonQuery(...tables.map((ref) => `DROP TABLE IF EXISTS ${ref.split('.').map((p) => `\`${p}\``).join('.')}`));
}

/** Fresh tables, v1 deployed without a savepoint, RUNNING with a completed checkpoint (rows committed). */
export async function startV1(pipeline: RunPipeline): Promise<string> {
  await cancelOurJobs();
  await createSinkTables(pipeline.tables);
  const { value } = await runActivity(activities.deployJob, {
    deployment: pipeline.v1,
    deployToken: `bench/${pipeline.jobName}/v1/${Date.now()}`,
  });
  await until(`job ${value.jobId} to complete a checkpoint`, 120_000, async () => {
    const job = await flinkGet<{ state: string; vertices: { status: string }[] }>(`/jobs/${value.jobId}`);
    if (TERMINAL.includes(job.state)) throw new Error(`v1 job ${value.jobId} ended ${job.state} before its first checkpoint`);
    // The direct routes' savepoint calls get no retries: wait until the (cached) job details show every task running too.
    const tasksRunning = job.vertices.every((v) => v.status === 'RUNNING' || v.status === 'FINISHED');
    const stats = await flinkGet<{ counts: { completed: number } }>(`/jobs/${value.jobId}/checkpoints`);
    return job.state === 'RUNNING' && tasksRunning && stats.counts.completed > 0 ? true : undefined;
  });
  return value.jobId;
}

/** Cancels our live jobs (names starting with bench-upgrade-<tag>-) and waits until each has stopped. */
export async function cancelOurJobs(): Promise<string[]> {
  const { jobs } = await flinkGet<{ jobs: { jid: string; name: string; state: string }[] }>('/jobs/overview');
  const ours = jobs.filter((j) => j.name.startsWith(JOB_PREFIX) && !TERMINAL.includes(j.state));
  for (const job of ours) {
    await runActivity(activities.cancelJob, { jobId: job.jid });
    await until(`job ${job.jid} to stop`, 60_000, async () =>
      TERMINAL.includes((await flinkGet<{ state: string }>(`/jobs/${job.jid}`)).state) ? true : undefined,
    );
  }
  return ours.map((j) => j.jid);
}

export interface JobTimes {
  state: string;
  endTime?: number;
  runningAt?: number;
}

export async function jobTimes(jobId: string): Promise<JobTimes> {
  const job = await flinkGet<{ state: string; 'end-time'?: number; timestamps?: Record<string, number> }>(`/jobs/${jobId}`);
  const end = job['end-time'];
  return { state: job.state, endTime: end && end > 0 ? end : undefined, runningAt: job.timestamps?.RUNNING || undefined };
}

/** Downtime by Flink's own clock: the old job's end-time to the new job's RUNNING timestamp. */
export async function downtime(oldJobId: string, newJobId: string): Promise<number> {
  const [old, fresh] = await Promise.all([jobTimes(oldJobId), jobTimes(newJobId)]);
  if (old.endTime === undefined || fresh.runningAt === undefined) return Number.NaN;
  return fresh.runningAt - old.endTime;
}

interface CheckpointStats {
  counts: { completed: number };
  latest: { restored?: { is_savepoint: boolean; external_path?: string } | null };
  history: { id: number; status: string; latest_ack_timestamp: number; is_savepoint: boolean; checkpoint_type: string; trigger_timestamp: number }[];
}

/**
 * How long a stop-with-savepoint waited in Flink before its savepoint was triggered: Flink queues a
 * savepoint behind a checkpoint in flight, so a stop that meets one waits for it (mostly under a
 * second here, once 29.5 s). Which route's stop meets one is the luck of the checkpoint cycle, not
 * anything the route does. The savepoint's trigger time by Flink's clock minus the stop's start
 * (same machine).
 */
export async function savepointQueuedMs(jobId: string, steps: { name: string; ms: number; endedAt?: number }[]): Promise<number | undefined> {
  const stop = steps.find((s) => s.name === 'stopWithSavepoint');
  if (stop?.endedAt === undefined) return undefined;
  const stats = await flinkGet<CheckpointStats>(`/jobs/${jobId}/checkpoints`);
  // Newest first; a stop-with-savepoint is Flink's SYNC_SAVEPOINT.
  const savepoint = stats.history.find((c) => c.checkpoint_type === 'SYNC_SAVEPOINT');
  return savepoint ? Math.max(0, savepoint.trigger_timestamp - (stop.endedAt - stop.ms)) : undefined;
}

/** When the job's first checkpoint completed (what the health gate waits for), by Flink's clock. */
export async function firstCheckpointAck(jobId: string): Promise<number> {
  const stats = await flinkGet<CheckpointStats>(`/jobs/${jobId}/checkpoints`);
  const done = stats.history.filter((c) => c.status === 'COMPLETED' && !c.is_savepoint).sort((a, b) => a.id - b.id);
  return done[0]?.latest_ack_timestamp ?? Number.NaN;
}

/** The savepoint the job was restored from, as Flink records it (to check a manual deploy did restore). */
export async function restoredFrom(jobId: string): Promise<string | undefined> {
  const stats = await flinkGet<CheckpointStats>(`/jobs/${jobId}/checkpoints`);
  return stats.latest.restored?.is_savepoint ? (stats.latest.restored.external_path ?? undefined) : undefined;
}

/** Deletes savepoint directories this benchmark took (and only those: we know their paths). */
export async function removeSavepoints(paths: string[]): Promise<void> {
  const root = localPath(config.flink.savepointDir);
  for (const p of paths) {
    const local = localPath(p);
    if (local && root && local.startsWith(`${root}/savepoint-`)) await rm(local, { recursive: true, force: true });
  }
}

export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
