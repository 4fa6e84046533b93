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
 * Set, not left to the SDK: it sizes the cache from the heap limit, ~(limit - 200 MiB) x 0.6 runs,
 * which is 2,310 under 4 GiB but 23 under the cap above; most runs would then be evicted
 * and replayed (P4: worker CPU 70 -> 113 s and fewer runs finished). A cached run of ours keeps
 * ~25 KB live (the workflow thread: ~25 MB after start, ~50 MB with 1,000 runs cached), so 2,000
 * should fit well under the cap; measured only up to 1,000.
 */
export const MAX_CACHED_WORKFLOWS = 2000;

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
