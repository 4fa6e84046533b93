// P4's worker, in a process of its own so that its RSS is only the worker's: the production
// worker (src/worker/worker.ts createWorker, its heap limit) against whatever the environment names
// (P4 points it at the fake Flink and a private Temporal dev server). It samples its RSS every
// 100 ms and answers the parent's 'report' messages with the peak since the last report.
import { getHeapStatistics } from 'node:v8';
import { appendFileSync } from 'node:fs';
import { DefaultLogger, Runtime, type Worker, type WorkerOptions } from '@temporalio/worker';
import { loadConfig } from '../src/config/config';
import { connectWorker } from '../src/client/temporal-connection';
import { admissionOf, createWorker } from '../src/worker/worker';

const SAMPLE_MS = 100;

/** RSS, or NaN when it cannot be read: reading it opens /proc/self/stat, which fails with every file descriptor in use (EMFILE). */
function rss(): number {
  try {
    return process.memoryUsage.rss();
  } catch {
    return Number.NaN;
  }
}

export interface WorkerReport {
  type: 'report';
  label: string;
  peakRss: number;
  rss: number;
  heapUsed: number;
  /** V8 external memory and ArrayBuffers (undici's WASM parser memory and socket buffers are here) */
  external: number;
  arrayBuffers: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** RSS samples that could not be read (EMFILE) since the last report */
  missedSamples: number;
  /** the SDK's workflow cache counters since the worker started (BENCH_P4_METRICS_PORT), else undefined */
  cache?: CacheCounters;
}

/**
 * What the worker's workflow cache did, from the SDK's own metrics. A sticky miss is a task of a
 * run the cache no longer held: the worker fetches and replays its whole history.
 */
export interface CacheCounters {
  workflowTasks: number;
  stickyHits: number;
  stickyMisses: number;
  forcedEvictions: number;
}

/** The SDK's counters, summed over their labels, from the Prometheus endpoint the runtime serves. */
async function cacheCounters(port: string): Promise<CacheCounters | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const sum = (name: RegExp) =>
      text
        .split('\n')
        .filter((line) => name.test(line))
        .reduce((total, line) => total + Number(line.trim().split(/\s+/).pop()), 0);
    return {
      workflowTasks: sum(/^temporal_workflow_task_execution_latency(_seconds)?_count\b/),
      stickyHits: sum(/^temporal_sticky_cache_hit(_total)?\b/),
      stickyMisses: sum(/^temporal_sticky_cache_miss(_total)?\b/),
      forcedEvictions: sum(/^temporal_sticky_cache_total_forced_eviction(_total)?\b/),
    };
  } catch {
    return undefined;
  }
}

/**
 * BENCH_P4_TRACE_FILE: a JSON line every second with the worker's count of cached runs (what
 * RunAdmission reads), the SDK core's own (its sticky_cache_size gauge), the cache counters and the
 * workflow task slots: where the two counts part, admission lets runs in that the cache has no room for.
 */
function traceCache(worker: Worker, metricsPort: string | undefined): NodeJS.Timeout | undefined {
  const file = process.env.BENCH_P4_TRACE_FILE;
  if (!file || !metricsPort) return undefined;
  const admission = admissionOf(worker);
  const started = Date.now();
  return setInterval(async () => {
    try {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const gauge = text.split('\n').find((line) => /^temporal_sticky_cache_size\b/.test(line));
      const counters = await cacheCounters(metricsPort);
      const line = {
        t: Math.round((Date.now() - started) / 1000),
        sdkCached: worker.getStatus().numCachedWorkflows,
        coreCached: gauge ? Number(gauge.trim().split(/\s+/).pop()) : null,
        ...counters,
        ...admission?.snapshot(),
        granted: admission ? { ...admission.granted } : undefined,
      };
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {
      // a second without a line
    }
  }, 1000);
}

async function main(): Promise<void> {
  // One INFO line per workflow would cost the worker more than the workflows do.
  // BENCH_P4_METRICS_PORT (set by P4): the SDK's metrics, for the cache counters in each report.
  const metricsPort = process.env.BENCH_P4_METRICS_PORT;
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    ...(metricsPort ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}` } } } } : {}),
  });
  const config = loadConfig();
  const connection = await connectWorker(config);
  // An experiment, not the default: BENCH_P4_WORKER_OPTIONS='{"maxCachedWorkflows":200}' builds the
  // worker createWorker builds, with these WorkerOptions on top.
  const overrides = process.env.BENCH_P4_WORKER_OPTIONS ? (JSON.parse(process.env.BENCH_P4_WORKER_OPTIONS) as Partial<WorkerOptions>) : undefined;
  const worker = await createWorker(config, connection, overrides);
  const tracing = traceCache(worker, metricsPort);
  let peak = rss();
  let cpu = process.cpuUsage();
  let missed = 0;
  const sampler = setInterval(() => {
    const now = rss();
    if (Number.isFinite(now)) peak = Math.max(peak, now);
    else missed++;
  }, SAMPLE_MS);
  process.on('message', async (m: { type?: string; label?: string }) => {
    if (m?.type === 'report') {
      const cache = metricsPort ? await cacheCounters(metricsPort) : undefined;
      const current = rss();
      const used = process.cpuUsage(cpu);
      let mem = { external: Number.NaN, arrayBuffers: Number.NaN };
      try {
        mem = process.memoryUsage();
      } catch {
        // EMFILE, as for rss()
      }
      const report: WorkerReport = {
        type: 'report',
        label: m.label ?? '',
        peakRss: Number.isFinite(current) ? Math.max(peak, current) : peak,
        rss: current,
        heapUsed: getHeapStatistics().used_heap_size,
        external: mem.external,
        arrayBuffers: mem.arrayBuffers,
        cpuUserMs: used.user / 1000,
        cpuSystemMs: used.system / 1000,
        missedSamples: missed,
        cache,
      };
      process.send?.(report);
      peak = Number.isFinite(current) ? current : peak;
      cpu = process.cpuUsage();
      missed = 0;
    } else if (m?.type === 'stop') {
      worker.shutdown();
    }
  });
  // The parent went away: stop, and do not outlive it even if in-flight activities hang.
  process.on('disconnect', () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    setTimeout(() => process.exit(1), 10_000).unref();
  });
  const running = worker.run();
  process.send?.({ type: 'ready' });
  try {
    await running;
  } finally {
    clearInterval(sampler);
    if (tracing) clearInterval(tracing);
    await connection.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('bench scale worker failed:', err);
    process.exit(1);
  },
);
