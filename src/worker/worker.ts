import { type NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { Config } from '../config/config';
import { connectWorker } from '../client/temporal-connection';
import { bundleWorkflowsApart } from './workflow-bundle';

/**
 * V8's old-space limit for a worker process, in MiB: scripts/start.sh and the Dockerfile start the
 * worker with --max-old-space-size at this value (test/worker-heap.test.ts keeps them in step),
 * and a V8 flag holds for every isolate, the workflow thread's too. Under the default limit
 * (4 GiB here) V8 let the heap grow to ~4x its live size before a full GC: at 1,000 concurrent
 * workflows the activities' thread held ~300 MB for ~65 MB live, the workflow thread ~110 MB
 * for ~50 MB live. Capped, the same load ran at the same throughput and worker CPU with a peak
 * RSS of ~350-400 MiB instead of 650-760 (bench/README.md, P4).
 */
export const WORKER_MAX_OLD_SPACE_MB = 192;

/**
 * Workflow runs kept in the worker's cache, sized from the heap limit above (a V8 flag: it caps the
 * workflow thread too). A cached run of ours holds ~175 KB of that thread's heap (each run evaluates
 * our workflow modules and their zod schemas in its own module cache; workflows/preload.ts shares
 * only zod itself): measured with every savepoint held open (bench P4, BENCH_FAKE_SAVEPOINT_MS), the
 * thread's live heap went from ~30 MB to ~99 MB with 400 runs cached, and with the cache at the
 * former 2,000 it reached the 192 MiB limit at about 900 open runs and the worker died
 * (ERR_WORKER_OUT_OF_MEMORY, issue 29). 400 leaves the thread ~90 MB of headroom. Runs beyond it
 * are evicted (least recently used) and replayed from their history at their next workflow task:
 * more CPU, never more memory; work beyond the task slots waits in the task queue.
 */
export const MAX_CACHED_WORKFLOWS = 400;

/**
 * Workflow tasks in progress at once: the SDK's default, kept. All workflow code runs on one
 * thread, so more slots queue activations there rather than add throughput; it must not exceed the
 * cache. Activity tasks: the SDK's default 100, kept; a savepoint holds its slot while Flink takes it
 * (polling), so a fan-out of 1,000 savepoints keeps 100 in flight and the rest wait in the task
 * queue; the activities' thread measured ~50-90 MB live with 100 in flight (bench/README.md, P4).
 */
export const MAX_CONCURRENT_WORKFLOW_TASKS = 40;
export const MAX_CONCURRENT_ACTIVITIES = 100;

/**
 * A worker on the configured task queue, its workflows bundled afresh in a child process
 * (src/worker/workflow-bundle.ts). The connection stays the caller's to close. `overrides` go on top of
 * these options (the scale benchmark's experiments).
 */
export async function createWorker(config: Config, connection: NativeConnection, overrides: Partial<WorkerOptions> = {}): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: await bundleWorkflowsApart(),
    activities: createActivities(config),
    maxCachedWorkflows: MAX_CACHED_WORKFLOWS,
    maxConcurrentWorkflowTaskExecutions: MAX_CONCURRENT_WORKFLOW_TASKS,
    maxConcurrentActivityTaskExecutions: MAX_CONCURRENT_ACTIVITIES,
    ...overrides,
  });
}

/**
 * With METRICS_PROMETHEUS_ADDRESS, the Temporal runtime serves /metrics there: the SDK's own
 * (workflow and activity counts, latencies, task slots) and ours (docs/metrics.md). The runtime is
 * installed once per process, before the first connection.
 */
export function installMetrics(config: Pick<Config, 'metrics'>): void {
  const bindAddress = config.metrics.prometheusAddress;
  if (!bindAddress) return;
  Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress, countersTotalSuffix: true, useSecondsForDurations: true } } } });
}

/**
 * Connects, runs a worker until SIGINT or SIGTERM, then closes the connection. The signals are
 * the Temporal Runtime's default shutdownSignals: the worker stops polling, in-flight activities
 * are cancelled (they heartbeat, so a later attempt resumes), and run() resolves.
 */
export async function runWorker(config: Config, onRunning?: () => void): Promise<void> {
  installMetrics(config);
  const connection = await connectWorker(config);
  try {
    const worker = await createWorker(config, connection);
    const running = worker.run();
    onRunning?.();
    await running;
  } finally {
    await connection.close();
  }
  console.log('worker stopped');
}
