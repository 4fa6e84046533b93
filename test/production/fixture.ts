// What the production-topology suite shares: it runs only against Temporal's server on PostgreSQL
// (STACK_TEMPORAL=server, `npm run test:production`), with three worker processes on one task
// queue; the demo pipeline on tables of its own (database `prod`); a way to SIGKILL exactly the
// worker that runs a given activity (from the identity Temporal records for the attempt); a
// restart of the Temporal server through `stack.sh up`; and the row checks every case ends with.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, expect } from 'vitest';
import { run } from '../support/activity-calls';
import { activities } from '../support/flink-activities';
import { awaitCheckpointedRun, cancelJobsNamed, createSinkTables, demoScripts } from '../support/demo-pipeline';
import { expectIdsOnceIn, maxIdsOf } from '../support/demo-rows';
import { resultThroughRestarts, terminateIfRunning as terminateWorkflowIfRunning } from '../support/operation-handles';
import { config, paimonQuery, requireStack, until } from '../support/stack';
import { stackUp } from '../support/stack-process';
import { unique } from '../support/temporal-env';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

export const DATABASE = 'prod';
/** Every job this suite starts is named prod-…; cleanup cancels only those. */
export const JOB_PREFIX = 'prod-';
export const WORKERS = 3;

/** A pipeline of the suite: its job name and its two sink tables (`prod.<name>_a`, `_b`). */
export interface Pipeline {
  jobName: string;
  tables: [string, string];
  sinks: string[];
  script: (file: string) => string;
}

export function pipeline(name: string): Pipeline {
  const tables: [string, string] = [`${name.replaceAll('-', '_')}_a`, `${name.replaceAll('-', '_')}_b`];
  const jobName = `${JOB_PREFIX}${name}`;
  const scripts = demoScripts(DATABASE, { seq_a: tables[0], seq_b: tables[1] });
  return { jobName, tables, sinks: tables.map((t) => `${DATABASE}.${t}`), script: (file) => scripts(file, jobName) };
}

/** Fails unless the suite talks to the PostgreSQL-backed server: the point of the suite. */
export function requireServerMode(): void {
  if (process.env.STACK_TEMPORAL !== 'server') {
    throw new Error("test/production runs against Temporal's server on PostgreSQL: run 'npm run test:production' (it starts the stack with STACK_TEMPORAL=server)");
  }
}

/** Fresh tables and demo pipeline v1, running with rows in both tables; returns the job id. */
export async function startV1(p: Pipeline): Promise<string> {
  await createSinkTables(DATABASE, p.tables);
  const { jobId } = await run(activities().deployJob, {
    deployment: { kind: 'sql', version: 'v1', scriptFile: p.script('pipeline-v1.sql') },
    deployToken: unique(p.jobName),
  });
  await awaitCheckpointedRun(jobId);
  await until(`rows in ${p.jobName}'s tables`, 90_000, async () => ((await maxIds(p)).every((hi) => hi > 10) ? true : undefined));
  return jobId;
}

export const maxIds = (p: Pipeline, tag?: string): Promise<number[]> => maxIdsOf(DATABASE, p.tables, tag);

export const expectIdsOnce = (p: Pipeline, v1UpTo: number[], later: 'v1' | 'v2'): Promise<void> => expectIdsOnceIn(DATABASE, p.tables, v1UpTo, later);

/** The `savepoint-*` tags of each of the pipeline's tables, sorted. */
export async function savepointTags(p: Pipeline): Promise<string[][]> {
  const rows = await paimonQuery(
    p.tables.map((t) => `SELECT '${t}' AS t, tag_name FROM \`${DATABASE}\`.\`${t}$tags\` WHERE tag_name LIKE 'savepoint-%'`).join(' UNION ALL '),
  );
  return p.tables.map((t) => rows.filter((r) => r.t === t).map((r) => String(r.tag_name)).sort());
}

/** The suite's workers: `WORKERS` processes of src/worker/main.ts on one task queue. */
export class WorkerPool {
  workers: WorkerProcess[] = [];
  constructor(readonly taskQueue: string) {}

  async fill(): Promise<void> {
    const missing = WORKERS - this.workers.length;
    this.workers.push(...(await Promise.all(Array.from({ length: missing }, () => startWorkerProcess(this.taskQueue, 180_000)))));
  }

  /**
   * SIGKILLs the worker that runs the attempt of `type` now pending in `handle` (Temporal records
   * the identity of the worker that took it: `<pid>@<host>` by default). Returns its pid.
   */
  async killRunning(handle: WorkflowHandle, type: string): Promise<number> {
    const { raw } = await handle.describe();
    const pending = (raw.pendingActivities ?? []).find((a) => a.activityType?.name === type && a.state === STARTED);
    const pid = Number(String(pending?.lastWorkerIdentity ?? '').split('@')[0]);
    const worker = this.workers.find((w) => w.pid === pid);
    if (!worker) throw new Error(`no worker of ours runs ${type} of ${handle.workflowId} (identity '${pending?.lastWorkerIdentity}')`);
    await worker.kill();
    this.workers = this.workers.filter((w) => w !== worker);
    return pid;
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
    this.workers = [];
  }
}

const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

/** The first of `handles` with an attempt of `type` started by a worker, and that handle. */
export async function anyActivityRunning(handles: WorkflowHandle[], type: string, timeoutMs = 180_000): Promise<WorkflowHandle> {
  return until(`one of ${handles.length} workflows to run ${type}`, timeoutMs, async () => {
    for (const handle of handles) {
      const { raw } = await handle.describe();
      if ((raw.pendingActivities ?? []).some((a) => a.activityType?.name === type && a.state === STARTED)) return handle;
    }
    return undefined;
  });
}

/** The pid recorded for the Temporal server by scripts/stack-temporal-server.sh, checked to be ours. */
export function temporalServerPid(): number {
  const file = path.join(config.stackHome, 'run', 'temporal-server.pid');
  const pid = Number(readFileSync(file, 'utf8').trim());
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  if (!cmdline.includes(config.stackHome) || !cmdline.includes('temporal-server')) throw new Error(`pid ${pid} in ${file} is not this stack's Temporal server`);
  return pid;
}

/** Stops the Temporal server with `signal`, waits until it is gone, starts it again (`stack.sh up`). */
export async function restartTemporalServer(signal: 'SIGTERM' | 'SIGKILL'): Promise<{ downMs: number }> {
  const pid = temporalServerPid();
  const t0 = Date.now();
  process.kill(pid, signal);
  await until(`Temporal server pid ${pid} to exit`, 60_000, async () => {
    try {
      process.kill(pid, 0);
      return undefined;
    } catch {
      return true;
    }
  });
  await stackUp();
  expect(temporalServerPid()).not.toBe(pid);
  return { downMs: Date.now() - t0 };
}

export { resultThroughRestarts };

/** After a failed case: end its operation if it still runs, so a rerun can start one. */
export const terminateIfRunning = (client: Client, workflowId: string): Promise<void> =>
  terminateWorkflowIfRunning(client, workflowId, 'production test cleanup');

/** One operation case on a pipeline: its worker pool and a client to the PostgreSQL-backed server. */
export interface OperationScene {
  pool: WorkerPool;
  client: Client;
}

/**
 * The case's pool (task queue `<queue>-…`) and client, made in beforeAll; afterAll stops the
 * pool, ends the pipeline's operation if it still runs and cancels the pipeline's jobs.
 */
export function operationScene(p: Pipeline, queue: string): OperationScene {
  const scene = { pool: new WorkerPool(unique(queue)) } as OperationScene;
  beforeAll(async () => {
    requireServerMode();
    await requireStack();
    scene.client = new Client({ connection: await Connection.connect({ address: config.temporal.address }), namespace: config.temporal.namespace });
    await cancelJobsNamed(p.jobName);
  });
  afterAll(async () => {
    await scene.pool.stop();
    if (scene.client) await terminateIfRunning(scene.client, `flink-job/${p.jobName}`).catch(() => undefined);
    await cancelJobsNamed(p.jobName);
    await scene.client?.connection.close();
  });
  return scene;
}
