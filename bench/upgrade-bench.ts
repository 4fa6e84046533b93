// P1 (workflow vs the direct floor) and P2 (workflow vs the manual CLI route) on the real stack,
// measured side by side: each round runs every selected route once, in an order that rotates
// from round to round, each on a fresh v1 pipeline (own tables, own job), and medians are taken.
import { rm } from 'node:fs/promises';
import { RestorePointStore } from '../activities/catalog/store';
import { RESULT_POLL_MS } from '../activities/sql-gateway/client';
import { manual, MANUAL_COMMANDS, removeManualScripts } from './manual-route';
import { runRounds } from './rounds';
import { direct, viaWorkflow, type Route, type RouteResult } from './routes';
import { withCpu } from './cpu';
import { atRandomMomentOfCycle, checkpointTiming, config, pipelineFor, removeSavepoints, startV1 } from './stack';
import { activityCallsOf, median, sameCalls } from './stats';
import { afterStop, costMedians, cpuMedians, queuedBehindCheckpoint, whyCostlier } from './why';

export interface UpgradeBenchOptions {
  runs: number;
  warmup: number;
  routes: Route[];
  log: (line: string) => void;
}

export async function runUpgradeBench({ runs, warmup, routes, log }: UpgradeBenchOptions): Promise<RouteResult[]> {
  const timing = await checkpointTiming();
  return runRounds<Route, RouteResult>({
    name: 'upgrade',
    runs,
    warmup,
    routes,
    log,
    pipelineFor: (n) => pipelineFor(n, 'upgrade', timing.settings),
    async runRoute(route, p, { client, taskQueue }) {
      const oldJobId = await startV1(p);
      const startedInCycleMs = await atRandomMomentOfCycle(timing);
      const { value, cpuMs } = await withCpu(() =>
        route === 'workflow'
          ? viaWorkflow(client, taskQueue, p, oldJobId)
          : route === 'direct'
            ? direct(p, oldJobId)
            : manual(p, oldJobId, route === 'manual-cli' ? 'cli' : 'rest'),
      );
      return { ...value, cpuMs, startedInCycleMs };
    },
    async cleanUp(pipelines, results) {
      await removeSavepoints(results.flatMap((r) => (r.savepointPath ? [r.savepointPath] : [])));
      removeManualScripts();
      // The restore points the upgrades recorded (workflows/upgrade-restore-point.ts).
      const store = new RestorePointStore(config.flink.savepointDir);
      for (const p of pipelines) await rm(store.jobDir(p.jobName), { recursive: true, force: true });
    },
  });
}

const ok = (results: RouteResult[], route: Route) => results.filter((r) => r.route === route && r.ok);
const med = (rs: RouteResult[], f: (r: RouteResult) => number | undefined) => median(rs.map((r) => f(r) ?? Number.NaN));

/** Median run time of each step (activity or command) of a route. */
function stepMedians(rs: RouteResult[], field: 'ms' | 'scheduleToStartMs' | 'dispatchMs' | 'completionMs' | 'heartbeats' = 'ms'): Record<string, number> {
  const names = [...new Set(rs.flatMap((r) => r.steps.map((s) => s.name)))];
  return Object.fromEntries(
    names.map((n) => [n, median(rs.map((r) => r.steps.filter((s) => s.name === n).reduce((a, s) => a + (s[field] ?? 0), 0)))]),
  );
}

/** The poll intervals the worker's activities use (src/config/config.ts; sql-gateway/client.ts for the gateway). */
export const POLL_INTERVALS_MS = {
  'stopWithSavepoint / triggerSavepoint (savepoint status, then the stopped job)': config.flink.savepointPollIntervalMs,
  'awaitHealthy (job state + checkpoints)': config.flink.healthPollIntervalMs,
  'awaitTag (one batch query of $tags per round)': config.paimon.tagPollIntervalMs,
  'SQL gateway result fetch while NOT_READY': RESULT_POLL_MS,
};

export function summariseP1(results: RouteResult[]) {
  const wf = ok(results, 'workflow');
  const dr = ok(results, 'direct');
  const wfWall = med(wf, (r) => r.wallMs);
  const drWall = med(dr, (r) => r.wallMs);
  const wfDown = med(wf, (r) => r.downtimeMs);
  const drDown = med(dr, (r) => r.downtimeMs);
  const ratio = wfWall / drWall;
  const wfOverhead = med(wf, (r) => r.wallMs - (r.workflow?.activityExecMs ?? Number.NaN));
  const drOverhead = med(dr, (r) => r.wallMs - r.steps.reduce((a, s) => a + s.ms, 0));
  // Both sides must make the same activity calls, or the ratio compares different work.
  const activityCalls = { workflow: activityCallsOf(wf), direct: activityCallsOf(dr) };
  return {
    runs: { workflow: wf.length, direct: dr.length, failed: results.filter((r) => !r.ok && r.route !== 'manual').length },
    sameActivityCalls: sameCalls(activityCalls),
    activityCalls,
    medianWallMs: { workflow: wfWall, direct: drWall },
    ratio,
    savepointQueued: queuedBehindCheckpoint(wf, dr),
    medianDowntimeMs: { workflow: wfDown, direct: drDown },
    downtimeDeltaMs: wfDown - drDown,
    // Issue 28: wall within 5 % of the floor, downtime within 0.2 s of it.
    targets: { ratioAtMost: 1.05, ratioMet: ratio <= 1.05, downtimeWithinMs: 200, downtimeMet: wfDown - drDown <= 200 },
    workflowOverheadMedianMs: {
      clientToStarted: med(wf, (r) => r.workflow?.clientToStartedMs),
      activityScheduleToStart: med(wf, (r) => r.workflow?.scheduleToStartMs),
      workflowTaskGaps: med(wf, (r) => r.workflow?.workflowTaskGapsMs),
      workflowTaskCount: med(wf, (r) => r.workflow?.workflowTasks.count),
      workflowTaskQueued: med(wf, (r) => r.workflow?.workflowTasks.queuedMs),
      workflowTaskRun: med(wf, (r) => r.workflow?.workflowTasks.runMs),
      firstWorkflowTaskRun: med(wf, (r) => r.workflow?.workflowTasks.firstRunMs),
      completedToResult: med(wf, (r) => r.workflow?.completedToResultMs),
      activityDispatch: med(wf, (r) => r.workflow?.activityDispatchMs),
      activityCompletion: med(wf, (r) => r.workflow?.activityCompletionMs),
      activityExec: med(wf, (r) => r.workflow?.activityExecMs),
    },
    directActivityRunMedianMs: med(dr, (r) => r.steps.reduce((a, s) => a + s.ms, 0)),
    // Wall time minus the activities' own run time: what orchestrating them costs, free of the
    // noise in the activities themselves (a health gate waits 1-2 checkpoint intervals of 3 s).
    orchestrationMedianMs: { workflow: wfOverhead, direct: drOverhead },
    ratioFromOrchestration: (drWall + wfOverhead - drOverhead) / drWall,
    /** per activity: its time and what its requests and the event loop did (request-timer.ts) */
    costMedians: { workflow: costMedians(wf), direct: costMedians(dr) },
    whyCostlierInWorker: whyCostlier(costMedians(wf), costMedians(dr)),
    afterStopMs: { workflow: afterStop(wf), direct: afterStop(dr) },
    cpuMedianMs: { workflow: cpuMedians(wf), direct: cpuMedians(dr) },
    stepMedianMs: { workflow: stepMedians(wf), direct: stepMedians(dr) },
    scheduleToStartMedianMs: stepMedians(wf, 'scheduleToStartMs'),
    dispatchMedianMs: stepMedians(wf, 'dispatchMs'),
    completionMedianMs: stepMedians(wf, 'completionMs'),
    pollRoundsMedian: stepMedians(dr, 'heartbeats'),
    pollLagMedianMs: {
      savepoint: { workflow: med(wf, (r) => r.savepointPollLagMs), direct: med(dr, (r) => r.savepointPollLagMs) },
      health: { workflow: med(wf, (r) => r.healthPollLagMs), direct: med(dr, (r) => r.healthPollLagMs) },
    },
    pollIntervalsMs: POLL_INTERVALS_MS,
  };
}

export function summariseP2(results: RouteResult[]) {
  const wf = ok(results, 'workflow');
  const rest = ok(results, 'manual');
  const cli = ok(results, 'manual-cli');
  const wall = { workflow: med(wf, (r) => r.wallMs), manual: med(rest, (r) => r.wallMs), manualCli: med(cli, (r) => r.wallMs) };
  const ratio = wall.workflow / wall.manual;
  const ratioCli = wall.workflow / wall.manualCli;
  return {
    runs: {
      workflow: wf.length,
      manual: rest.length,
      manualCli: cli.length,
      failed: results.filter((r) => !r.ok && (r.route === 'manual' || r.route === 'manual-cli')).length,
    },
    medianWallMs: wall,
    /** against the manual route that stops through REST (no CLI JVM start for the stop) */
    ratio,
    /** against the manual route: `flink stop --savepointPath` */
    ratioCli,
    medianDowntimeMs: {
      workflow: med(wf, (r) => r.downtimeMs),
      manual: med(rest, (r) => r.downtimeMs),
      manualCli: med(cli, (r) => r.downtimeMs),
    },
    targets: { ratioAtMost: 0.5, ratioMet: ratio <= 0.5, ratioCliMet: ratioCli <= 0.5 },
    manualStepMedianMs: { manual: stepMedians(rest), manualCli: stepMedians(cli) },
    manualCommands: MANUAL_COMMANDS,
    note: "the manual routes are timed command by command: a person's think time between commands is not included",
  };
}
