// P4: the production worker (createWorker, in a process of its own; BENCH_P4_WORKERS of them on one
// task queue, default 1) against the FAKE Flink of fake-flink-server.ts and a private Temporal dev
// server, or the server BENCH_P4_TEMPORAL_ADDRESS names (e.g. STACK_TEMPORAL=server's, on
// PostgreSQL). Two phases, each with fresh workers and a fresh fake cluster holding only its own
// N jobs (one database with two sink tables per job): a fan-out of N savepoint workflows started
// through their schedules' triggers, then N concurrent upgrades. A phase that runs past its time
// is cut short and says so.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { repoRoot } from '../src/config/repo-root';
import { CACHE_HEADROOM, MAX_CACHED_WORKFLOWS, MAX_CONCURRENT_ACTIVITIES, MAX_CONCURRENT_WORKFLOW_TASKS, WORKER_MAX_OLD_SPACE_MB, WORKER_MAX_SEMI_SPACE_MB } from '../src/worker/worker';
import { flinkJobKey, operationStepKey } from '../workflows/messages';
import { FAKE_LATENCY } from './fake-cluster';
import { onInterrupt } from './interrupt';
import { fanOutPhase, upgradePhase, type FanOutMode, type Phase } from './p4-phases';
import { devServerPid, forkChild, freePort, processCpuMs, stopChild, type Child } from './p4-support';
import type { CacheCounters, WorkerReport } from './scale-worker';

export interface ScaleOptions {
  workflows: number;
  phases: ('fanout' | 'upgrades')[];
  fanOut: FanOutMode;
  /** give up on a phase after this long: report what finished, terminate the rest */
  fanOutTimeoutMs: number;
  upgradeTimeoutMs: number;
  log: (line: string) => void;
}

const RSS_TARGET = 512 * 2 ** 20;
const FAN_OUT_TARGET_MS = 60_000;

/**
 * Why a P4 result does not measure what it says: runs that did not end as they would on a real
 * stack (restorable, upgraded), or calls the fake could not answer. Empty when every run completed.
 */
export function scaleBenchProblems(p4: { fanOut?: PhaseOutcome & { restorable: number }; upgrades?: PhaseOutcome & { upgraded: number } }): string[] {
  const problems: string[] = [];
  const describe = (x: PhaseOutcome) => {
    const reasons = Object.entries(x.failureReasons).map(([why, n]) => `${n}x ${why}`);
    const unanswered = Object.entries(x.fakeUnanswered).map(([call, n]) => `${n}x the fake could not answer ${call}`);
    return [...reasons, ...unanswered].join('; ');
  };
  const { fanOut: f, upgrades: u } = p4;
  for (const [phase, x] of [['fan-out', f], ['upgrades', u]] as const) {
    if (x?.workers && x.workers.deaths.length > 0) problems.push(`${phase}: ${x.workers.deaths.join('; ')}`);
  }
  if (f && (f.restorable < f.requested || Object.keys(f.fakeUnanswered).length > 0)) {
    problems.push(`fan-out: ${f.restorable}/${f.requested} restorable (${JSON.stringify(f.statuses)}${f.terminated ? `, ${f.terminated} cut short` : ''}) ${describe(f)}`);
  }
  if (u && (u.upgraded < u.requested || Object.keys(u.fakeUnanswered).length > 0)) {
    problems.push(`upgrades: ${u.upgraded}/${u.requested} upgraded (${JSON.stringify(u.statuses)}${u.terminated ? `, ${u.terminated} cut short` : ''}) ${describe(u)}`);
  }
  return problems;
}

interface PhaseOutcome {
  requested: number;
  /** the phase's workers (absent when a test runs the phase on a worker of its own) */
  workers?: { deaths: string[] };
  statuses: Record<string, number>;
  terminated: number;
  failureReasons: Record<string, number>;
  fakeUnanswered: Record<string, number>;
}

/** What withWorker adds to a phase's result. */
interface PhaseWorkers {
  worker: { peakRss: number };
  workers: { count: number; peakRssEach: number[]; deaths: string[]; killed?: { afterMs: number; replacementReadyMs?: number } };
}


export async function runScaleBench({ workflows: n, phases, fanOut, fanOutTimeoutMs, upgradeTimeoutMs, log }: ScaleOptions) {
  const cli = process.env.TEMPORAL_CLI ?? path.join(repoRoot(), '.stack', 'bin', 'temporal');
  if (!existsSync(cli)) throw new Error(`P4 needs the Temporal CLI at ${cli} (bash scripts/stack.sh up installs it) or TEMPORAL_CLI`);
  const tmp = mkdtempSync(path.join(tmpdir(), 'bench-p4-'));
  const env = await temporalServer(cli);
  const fake = forkChild('fake-flink-server.js', process.env);
  let workers: Child[] = [];
  const forget = onInterrupt(async () => {
    for (const w of workers) w.process.kill();
    fake.process.kill();
    await env.teardown();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** A phase on a fresh worker: its RSS and CPU are the phase's alone. */
  const withWorker = async <T>(label: string, body: (phase: Phase) => Promise<T>) => {
    const { restPort, gatewayPort } = ports;
    const taskQueue = `bench-p4-${label}-${Date.now()}`;
    // Each worker (and a replacement after a kill) serves the SDK's metrics on a port of its own.
    const metricsPorts = await Promise.all(Array.from({ length: WORKERS + 1 }, freePort));
    const startWorker = () =>
      forkChild('scale-worker.js', {
        ...process.env,
        BENCH_P4_METRICS_PORT: String(metricsPorts.shift() ?? ''),
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_TASK_QUEUE: taskQueue,
        FLINK_REST_URL: `http://127.0.0.1:${restPort}`,
        SQL_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`,
        FLINK_SAVEPOINT_DIR: `file://${tmp}/${label}/savepoints`,
        PAIMON_WAREHOUSE: 's3://bench-fake/warehouse',
        // The production worker's heap limits (scripts/start.sh, the Dockerfile), then Node flags for
        // the worker only, e.g. BENCH_P4_WORKER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' (a
        // later --max-old-space-size wins).
      }, [`--max-old-space-size=${WORKER_MAX_OLD_SPACE_MB}`, `--max-semi-space-size=${WORKER_MAX_SEMI_SPACE_MB}`, ...(process.env.BENCH_P4_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean)]);
    /** Workers that exited during the phase without being asked to (out of memory, a crash): none is the goal. */
    const deaths: string[] = [];
    const killedByUs = new Set<Child>();
    let stopping = false;
    const watch = (w: Child, which: string) =>
      w.process.once('exit', (code, signal) => {
        if (!stopping && !killedByUs.has(w)) deaths.push(`${which} (pid ${w.process.pid}) exited during the phase (${signal ?? `code ${code}`})`);
      });
    workers = Array.from({ length: WORKERS }, startWorker);
    workers.forEach((w, i) => watch(w, `worker ${i + 1}`));
    // BENCH_P4_KILL_AFTER_S: SIGKILL the first worker this long into the phase (its peak) and start
    // another in its place, as a platform restarts a dead worker; the runs it held resume from history.
    let killed: { afterMs: number; replacementReadyMs?: number } | undefined;
    const killAfterMs = process.env.BENCH_P4_KILL_AFTER_S ? Number(process.env.BENCH_P4_KILL_AFTER_S) * 1000 : undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const armKill = (t0: number) => {
      if (killAfterMs === undefined) return;
      killTimer = setTimeout(() => {
        const victim = workers[0]!;
        killedByUs.add(victim);
        victim.process.kill('SIGKILL');
        killed = { afterMs: Date.now() - t0 };
        log(`  P4: SIGKILLed worker 1 (pid ${victim.process.pid}) ${(killed.afterMs / 1000).toFixed(1)} s into the phase; starting another`);
        const replacement = startWorker();
        watch(replacement, 'the replacement worker');
        workers[0] = replacement;
        const started = Date.now();
        replacement.next('ready').then(
          () => (killed!.replacementReadyMs = Date.now() - started),
          () => undefined,
        );
      }, killAfterMs);
    };
    const report = (w: Child) => {
      const answer = w.next<WorkerReport>('report');
      w.process.send({ type: 'report' });
      return answer;
    };
    await Promise.all(workers.map((w) => w.next('ready')));
    const idle = await Promise.all(workers.map(report));
    const serverPid = devServerPid(env.address);
    const cpuBefore = { devServer: processCpuMs(serverPid), fake: processCpuMs(fake.process.pid) };
    try {
      armKill(Date.now());
      const result = await body({ client: env.client, taskQueue, fakePort: restPort, n });
      clearTimeout(killTimer);
      const busy = await Promise.all(workers.map(report));
      // Where the phase's CPU went, per workflow: on 2 cores this, not waiting, bounds throughput.
      const perWorkflow = (ms: number) => Math.round((ms / n) * 10) / 10;
      const cpuPerWorkflowMs = {
        devServer: perWorkflow(processCpuMs(serverPid) - cpuBefore.devServer),
        worker: perWorkflow(busy.reduce((sum, b) => sum + b.cpuUserMs + b.cpuSystemMs, 0)),
        fake: perWorkflow(processCpuMs(fake.process.pid) - cpuBefore.fake),
      };
      log(`  P4: CPU per workflow: Temporal server ${cpuPerWorkflowMs.devServer} ms, worker${WORKERS > 1 ? 's (summed)' : ''} ${cpuPerWorkflowMs.worker} ms, fake ${cpuPerWorkflowMs.fake} ms`);
      const cache = cacheDuring(busy);
      if (cache) {
        log(
          `  P4: workflow tasks ${cache.workflowTasks} (${(cache.workflowTasks / n).toFixed(1)} per workflow), ` +
            `sticky hits ${cache.stickyHits} / misses ${cache.stickyMisses} (each miss replays the run's history), runs evicted from the cache ${cache.forcedEvictions}`,
        );
      }
      const peakRssEach = idle.map((i, k) => Math.max(i.peakRss, busy[k]!.peakRss));
      if (deaths.length > 0) log(`  P4: WORKER DEATHS: ${deaths.join('; ')}`);
      return {
        ...result,
        cpuPerWorkflowMs,
        cache,
        worker: { idleAfterStart: idle[0]!, duringPhase: busy[0]!, peakRss: Math.max(...peakRssEach) },
        workers: { count: WORKERS, peakRssEach, deaths, killed },
      };
    } finally {
      stopping = true;
      clearTimeout(killTimer);
      await Promise.all(workers.map((w) => stopChild(w)));
      workers = [];
    }
  };

  let ports: { restPort: number; gatewayPort: number };
  try {
    ports = await fake.next<{ restPort: number; gatewayPort: number }>('ready');
    let fanOutResult: (Awaited<ReturnType<typeof fanOutPhase>> & PhaseWorkers) | undefined;
    let upgrades: (Awaited<ReturnType<typeof upgradePhase>> & PhaseWorkers) | undefined;
    if (phases.includes('fanout')) {
      log(`  P4: fan-out of ${n} savepoint workflows (${fanOut === 'schedule' ? 'through schedule triggers' : 'started directly'})`);
      fanOutResult = await withWorker('fanout', (phase) => fanOutPhase(phase, fanOut, fanOutTimeoutMs));
      log(`  P4: fan-out ${fanOutResult.restorable}/${n} restorable, ${fanOutResult.closed} closed in ${(fanOutResult.wallMs / 1000).toFixed(1)} s, ${fanOutResult.terminated} cut short`);
    }
    if (phases.includes('upgrades')) {
      log(`  P4: ${n} concurrent upgrades`);
      upgrades = await withWorker('upgrades', (phase) => upgradePhase(phase, upgradeTimeoutMs));
      log(`  P4: upgrades ${upgrades.upgraded}/${n} upgraded, ${upgrades.closed} closed in ${(upgrades.wallMs / 1000).toFixed(1)} s, ${upgrades.terminated} cut short`);
    }
    const peakRss = Math.max(fanOutResult?.worker.peakRss ?? 0, upgrades?.worker.peakRss ?? 0);
    return {
      fake: { note: 'FAKE Flink REST + SQL gateway (bench/fake-flink-server.ts): numbers are about the worker and Temporal, not a cluster', latency: FAKE_LATENCY },
      workerOptions: process.env.BENCH_P4_WORKER_OPTIONS
        ? `EXPERIMENT: createWorker's options plus ${process.env.BENCH_P4_WORKER_OPTIONS}`
        : `src/worker/worker.ts createWorker (${MAX_CACHED_WORKFLOWS} cached workflows let in, the core's cache ${MAX_CACHED_WORKFLOWS + CACHE_HEADROOM}, ${MAX_CONCURRENT_ACTIVITIES} activity slots, ${MAX_CONCURRENT_WORKFLOW_TASKS} workflow-task slots), --max-old-space-size=${WORKER_MAX_OLD_SPACE_MB} --max-semi-space-size=${WORKER_MAX_SEMI_SPACE_MB}`,
      fanOut: fanOutResult,
      upgrades,
      peakRss,
      targets: {
        rssBelowBytes: RSS_TARGET,
        rssMet: peakRss < RSS_TARGET,
        fanOutWithinMs: FAN_OUT_TARGET_MS,
        fanOutMet: fanOutResult ? fanOutResult.allClosed && fanOutResult.restorable === n && fanOutResult.wallMs < FAN_OUT_TARGET_MS : undefined,
      },
    };
  } finally {
    forget();
    await Promise.all(workers.map((w) => stopChild(w)));
    await stopChild(fake, 2_000);
    await env.teardown();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** BENCH_P4_WORKERS (default 1): worker processes on the phase's task queue. */
const WORKERS = Number(process.env.BENCH_P4_WORKERS ?? '1');

/**
 * The Temporal server P4 runs on: a private dev server (default), or with BENCH_P4_TEMPORAL_ADDRESS
 * an existing one, e.g. the PostgreSQL-backed server of STACK_TEMPORAL=server (docs/production.md).
 */
async function temporalServer(cli: string): Promise<{ address: string; client: Client; teardown(): Promise<void> }> {
  const address = process.env.BENCH_P4_TEMPORAL_ADDRESS;
  if (!address) {
    return TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: cli }, searchAttributes: [flinkJobKey, operationStepKey], log: { format: 'pretty', level: 'error' } },
    });
  }
  const connection = await Connection.connect({ address });
  return { address, client: new Client({ connection, namespace: 'default' }), teardown: () => connection.close() };
}

/**
 * The workers' cache counters summed (each worker's since it started, and a phase has fresh ones;
 * a worker killed in the phase took its counts with it), or undefined when none reported them.
 */
function cacheDuring(reports: WorkerReport[]): CacheCounters | undefined {
  const counted = reports.flatMap((r) => (r.cache ? [r.cache] : []));
  if (counted.length === 0) return undefined;
  const sum = (key: keyof CacheCounters) => counted.reduce((total, c) => total + c[key], 0);
  return { workflowTasks: sum('workflowTasks'), stickyHits: sum('stickyHits'), stickyMisses: sum('stickyMisses'), forcedEvictions: sum('forcedEvictions') };
}
