import { type NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { Config } from '../config/config';
import { connectWorker } from '../client/temporal-connection';
import { RunAdmission } from './run-admission';
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
 * V8's semi-space limit for a worker process, in MiB (--max-semi-space-size, passed beside the
 * old-space limit; a V8 flag, so for every isolate). Node 20's default young generation is sized
 * for throughput and is committed in each isolate (the activities' thread and the workflow thread)
 * on top of the old space: with 1,000 upgrades at once one worker peaked at 546 MiB RSS, with 4 MiB
 * semi-spaces at 490 MiB, for 4 % more time (bench/README.md, P4, the same load one after the other).
 */
export const WORKER_MAX_SEMI_SPACE_MB = 4;

/**
 * Workflow runs let into the worker's cache (RunAdmission; the SDK core's cache has CACHE_HEADROOM
 * more), sized from the heap limit above (a V8 flag: it caps the
 * workflow thread too). Each cached run evaluates our workflow modules and their zod schemas in a
 * module cache of its own (workflows/preload.ts shares only zod and the signature checks' curves
 * and hashes). Measured with every run
 * held open (bench/README.md, P4): a cached savepoint holds ~175 KB of the workflow thread's heap,
 * a cached upgrade ~260 KB (the thread's live heap ~30 MB idle, ~133 MB with 400 upgrades cached,
 * and the worker's RSS 544 MiB); with the cache at the former 2,000 the thread reached the 192 MiB
 * limit at about 900 open savepoints and the worker died (ERR_WORKER_OUT_OF_MEMORY, issue 29).
 * 200 upgrades cached at once peaked at 522-531 MiB RSS (the thread's live heap ~104 MB, 169 MB
 * committed), so the cache is 150. More runs in progress than this do not enter the cache while
 * the worker is busy: RunAdmission keeps them in the task queue until a cached run ends.
 */
export const MAX_CACHED_WORKFLOWS = 150;

/**
 * Room the SDK core's cache keeps beyond the runs RunAdmission lets in. RunAdmission counts cached
 * runs as the worker's TypeScript side holds them, which trails the core's own count (its
 * sticky_cache_size): a run is in the core's cache from its first task until its eviction is done,
 * in the TypeScript side only in between. On Temporal's server on PostgreSQL the core held up to 15
 * runs more than RunAdmission counted; with both limits at 150 the core evicted a run each time,
 * whose next task missed the cache and replayed, evicting another: under 1,000 upgrades at once,
 * 2,599 of 3,341 workflow tasks missed in the first 163 s (bench/README.md, P4).
 */
export const CACHE_HEADROOM = 25;

/**
 * Workflow tasks in progress at once: the SDK's default, kept. All workflow code runs on one
 * thread, so more slots queue activations there rather than add throughput; it must not exceed the
 * cache. Activity tasks: the SDK's default 100, kept; a savepoint holds its slot while Flink takes it
 * (polling), so a fan-out of 1,000 savepoints keeps 100 in flight and the rest wait in the task
 * queue; the activities' thread measured ~50-90 MB live with 100 in flight (bench/README.md, P4).
 * Local activities (the savepoint's short steps): the SDK's default 100.
 */
export const MAX_CONCURRENT_WORKFLOW_TASKS = 40;
export const MAX_CONCURRENT_ACTIVITIES = 100;
export const MAX_CONCURRENT_LOCAL_ACTIVITIES = 100;

/**
 * How long a task of a run this worker holds waits on its sticky queue before the server moves it
 * to the shared queue (the SDK's default is 10 s). A busy worker's task that moved waits there
 * behind every run not yet started (RunAdmission holds those back), and the run replays: at 400
 * upgrades at once on a loaded machine, one run in two lost its place so and took ~300 s instead of
 * ~100 (bench/README.md, P4). The price: when a worker dies, a task already on its sticky queue
 * waits this long before another worker gets it (later tasks go to the shared queue once the server
 * has seen no poll of the sticky queue for 10 s), so it stays well under the minutes a run takes
 * under such load.
 */
export const STICKY_QUEUE_TIMEOUT = '30s';

/**
 * A worker on the configured task queue, its workflows bundled afresh in a child process
 * (src/worker/workflow-bundle.ts). The connection stays the caller's to close. `overrides` go on top of
 * these options (the scale benchmark's experiments).
 */
export async function createWorker(config: Config, connection: NativeConnection, overrides: Partial<WorkerOptions> = {}): Promise<Worker> {
  const { maxCachedWorkflows, ...options } = overrides;
  const cache = maxCachedWorkflows ?? MAX_CACHED_WORKFLOWS;
  const admission = new RunAdmission({ slots: MAX_CONCURRENT_WORKFLOW_TASKS, runs: cache });
  const fixed = (numSlots: number) => ({ type: 'fixed-size', numSlots }) as const;
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: await bundleWorkflowsApart(),
    activities: createActivities(config),
    maxCachedWorkflows: cache + CACHE_HEADROOM,
    stickyQueueScheduleToStartTimeout: STICKY_QUEUE_TIMEOUT,
    tuner: {
      workflowTaskSlotSupplier: admission,
      activityTaskSlotSupplier: fixed(MAX_CONCURRENT_ACTIVITIES),
      localActivityTaskSlotSupplier: fixed(MAX_CONCURRENT_LOCAL_ACTIVITIES),
      nexusTaskSlotSupplier: fixed(MAX_CONCURRENT_ACTIVITIES),
    },
    ...options,
  });
  admission.countCachedRunsWith(() => worker.getStatus().numCachedWorkflows);
  admission.countActivitiesWith(() => worker.getStatus().numInFlightActivities);
  admissions.set(worker, admission);
  return worker;
}

const admissions = new WeakMap<Worker, RunAdmission>();

/** The workflow task slots of a worker createWorker built (the scale benchmark reads them). */
export const admissionOf = (worker: Worker): RunAdmission | undefined => admissions.get(worker);

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
