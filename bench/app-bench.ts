// P5: application mode's cost, measured. The upgrade (v1 -> v2) and the restore (to restore point
// A) with each version in a cluster of its own (the local launcher), through their workflows and
// by hand (app-routes.ts), side by side: each round runs both routes once on a fresh pipeline, in
// an order that rotates, the upgrades' rounds first, then the restores'. Medians over the rounds.
// After each run every cluster of its job is stopped and its folder and launch record removed.
import { rm } from 'node:fs/promises';
import { RestorePointStore } from '../activities/catalog/store';
import { APP_ROUTES, restoreByHand, restoreViaWorkflowApp, upgradeByHand, upgradeViaWorkflow, type AppRoute, type AppRunResult } from './app-routes';
import { clustersNamed, removeClusters } from './app-stack';
import { cpuBetween, sampleCpu, withCpu } from './cpu';
import { runRounds } from './rounds';
import { config, pipelineFor, removeSavepoints } from './stack';
import { median } from './stats';
import { afterStop, cpuMedians } from './why';

export type AppOperation = AppRunResult['operation'];

export async function runAppBench({
  runs,
  warmup,
  operations,
  log,
}: {
  runs: number;
  warmup: number;
  operations: AppOperation[];
  log: (line: string) => void;
}): Promise<AppRunResult[]> {
  const results: AppRunResult[] = [];
  for (const operation of operations) {
    const savepoints: string[] = [];
    log(`P5 ${operation}: ${runs} round(s) of ${APP_ROUTES.join(', ')}, each version in an application cluster of its own (local launcher)`);
    const done = await runRounds<AppRoute, AppRunResult>({
      name: `app-${operation}`,
      runs,
      warmup,
      routes: APP_ROUTES,
      log,
      pipelineFor: (n) => pipelineFor(n, operation === 'upgrade' ? 'app-upgrade' : 'app-restore'),
      async runRoute(route, p, { client, taskQueue }) {
        // Sampled every 100 ms on both routes alike: what each process spent while the job was down.
        const sampler = sampleCpu();
        try {
          const { value, cpuMs } = await withCpu(() =>
            operation === 'upgrade'
              ? route === 'workflow'
                ? upgradeViaWorkflow(client, taskQueue, p)
                : upgradeByHand(p, route === 'by-hand-prepared')
              : route === 'workflow'
                ? restoreViaWorkflowApp(client, taskQueue, p)
                : restoreByHand(p, route === 'by-hand-prepared'),
          );
          savepoints.push(...value.savepoints);
          const window = value.downtimeWindow;
          const downtimeCpuMs = window ? cpuBetween(sampler.stop(), window.from, window.to) : undefined;
          return { ...value, cpuMs, ...(downtimeCpuMs ? { downtimeCpuMs } : {}) };
        } catch (err) {
          // A run that broke before it could be judged (v1's cluster never started, say) is a failed run; the rounds go on.
          const error = err instanceof Error ? err.message : String(err);
          return { operation, route, run: p.run, ok: false, error, wallMs: Number.NaN, downtimeMs: Number.NaN, savepoints: [], steps: [] };
        } finally {
          sampler.stop();
          await removeClusters(await clustersNamed(p.jobName));
        }
      },
      async cleanUp(pipelines) {
        for (const p of pipelines) await removeClusters(await clustersNamed(p.jobName));
        await removeSavepoints(savepoints);
        const store = new RestorePointStore(config.flink.savepointDir);
        for (const p of pipelines) await rm(store.jobDir(p.jobName), { recursive: true, force: true });
      },
    });
    results.push(...done);
  }
  return results;
}

const med = (rs: AppRunResult[], f: (r: AppRunResult) => number | undefined) => median(rs.map((r) => f(r) ?? Number.NaN));

function summariseOperation(results: AppRunResult[], operation: AppOperation) {
  const of = (route: AppRoute) => results.filter((r) => r.operation === operation && r.route === route && r.ok);
  const wf = of('workflow');
  const bh = of('by-hand');
  const bhp = of('by-hand-prepared');
  const both = <T>(f: (rs: AppRunResult[]) => T) => ({ workflow: f(wf), byHand: f(bh) });
  const downtime = both((rs) => med(rs, (r) => r.downtimeMs));
  const preparedDowntimeMs = med(bhp, (r) => r.downtimeMs);
  const wall = both((rs) => med(rs, (r) => r.wallMs));
  const deltaMs = downtime.workflow - downtime.byHand;
  return {
    runs: { workflow: wf.length, byHand: bh.length, byHandPrepared: bhp.length, failed: results.filter((r) => r.operation === operation && !r.ok).length },
    medianDowntimeMs: downtime,
    downtimeDeltaMs: deltaMs,
    /** by hand with the workflow's head start (prepare before the stop): what the workflow itself adds, like with like */
    byHandPrepared: {
      medianDowntimeMs: preparedDowntimeMs,
      workflowMinusMs: downtime.workflow - preparedDowntimeMs,
      afterStopMs: afterStop(bhp),
      downtimeCpuMedianMs: cpuMedians(bhp.map((r) => ({ cpuMs: r.downtimeCpuMs }))),
    },
    // Issue 25: the workflow's downtime within 1 s of the same launcher driven by hand.
    targets: { downtimeWithinMs: 1000, downtimeMet: Number.isFinite(deltaMs) ? deltaMs <= 1000 : undefined },
    medianWallMs: wall,
    wallDeltaMs: wall.workflow - wall.byHand,
    /** the launcher's own time (its start began, run/launched-at -> its answer) */
    launchMedianMs: both((rs) => med(rs, (r) => r.launchMs)),
    /** workflow only: its deploy's time before the launcher's start began */
    beforeLaunchMedianMs: med(wf, (r) => r.beforeLaunchMs),
    savepointPollLagMedianMs: both((rs) => med(rs, (r) => r.savepointPollLagMs)),
    healthPollLagMedianMs: both((rs) => med(rs, (r) => r.healthPollLagMs)),
    afterStopMs: both((rs) => afterStop(rs)),
    cpuMedianMs: both((rs) => cpuMedians(rs)),
    /** the CPU each process spent while the job was down (old job's end -> new job's RUNNING) */
    downtimeCpuMedianMs: both((rs) => cpuMedians(rs.map((r) => ({ cpuMs: r.downtimeCpuMs })))),
    /** where each run's old-job end came from (the old cluster's /jobs/overview end-time, or not seen) */
    endFrom: results.filter((r) => r.operation === operation).map((r) => ({ route: r.route, run: r.run, endFrom: r.endFrom })),
  };
}

export function summariseP5(results: AppRunResult[]) {
  return { upgrade: summariseOperation(results, 'upgrade'), restore: summariseOperation(results, 'restore') };
}

/** Every run that failed, as a line for stderr: P5's runs must all succeed to be a measurement. */
export function appBenchProblems(results: AppRunResult[]): string[] {
  return results.filter((r) => !r.ok).map((r) => `P5 ${r.operation} ${r.route} run ${r.run}: ${r.error ?? 'failed'}`);
}
