// P3: restore to a tag through the restore workflow (approval given as soon as the plan is there)
// vs the floor (its activity calls made in-process) and the bare minimum, on the real stack. Each
// round runs every route once, in an order that rotates, each on a fresh pipeline with its own
// restore point A (an intermediate savepoint, tagged on both tables and recorded), after which
// more rows come in for the restore to take away. Medians over the rounds.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { RestorePointStore } from '../activities/catalog/store';
import { tagFor } from '../src/domain/model';
import { withCpu } from './cpu';
import { runRounds } from './rounds';
import { restoreDirect, restoreMinimal, restoreViaWorkflow, type PointA, type RestoreRoute, type RestoreRunResult } from './restore-routes';
import {
  activities,
  config,
  atRandomMomentOfCycle,
  checkpointTiming,
  flinkGet,
  pipelineFor,
  removeSavepoints,
  runActivity,
  startV1,
  until,
  type RunPipeline,
} from './stack';
import { activityCallsOf, median, sameCalls } from './stats';
import { afterStop, costMedians, cpuMedians, queuedBehindCheckpoint, whyCostlier } from './why';

export const RESTORE_ROUTES: RestoreRoute[] = ['workflow', 'direct', 'minimal'];

/** v1 running and checkpointing, restore point A taken, tagged and recorded, then two more checkpoints of rows. */
/**
 * Calls made here outside a workflow get no activity retries; a retryable failure (a task of a
 * just-started job not RUNNING yet) is retried here for up to a minute, as Temporal would.
 */
async function retriedLikeTemporal<T>(call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if ((err as { nonRetryable?: boolean }).nonRetryable || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

async function withPointA(p: RunPipeline): Promise<{ oldJobId: string; a: PointA }> {
  const oldJobId = await startV1(p);
  const savepoint = await retriedLikeTemporal(async () =>
    (await runActivity(activities.triggerSavepoint, { jobId: oldJobId, triggerId: randomBytes(16).toString('hex') })).value,
  );
  const tag = tagFor(savepoint.savepointId);
  // An intermediate savepoint is tagged when the next checkpoint commits.
  const { value: tagged } = await runActivity(activities.awaitTag, { tables: p.tables, tag, timeoutMs: 60_000 });
  if (tagged.missing.length > 0) throw new Error(`restore point ${tag} never tagged ${tagged.missing.join(', ')}`);
  await runActivity(activities.recordRestorePoint, {
    jobName: p.jobName,
    jobId: oldJobId,
    savepoint,
    tables: p.tables,
    pinned: false,
    label: 'bench P3 restore point A',
    deploymentVersion: p.v1.version,
    taggedAtRecord: true,
  });
  await until('two checkpoints after A', 60_000, async () => {
    const stats = await flinkGet<{ latest: { completed?: { id: number } | null } }>(`/jobs/${oldJobId}/checkpoints`);
    return (stats.latest.completed?.id ?? 0) >= savepoint.savepointId + 2 ? true : undefined;
  });
  return { oldJobId, a: { savepointId: savepoint.savepointId, path: savepoint.path, tag } };
}

export async function runRestoreBench({ runs, warmup, log }: { runs: number; warmup: number; log: (line: string) => void }): Promise<RestoreRunResult[]> {
  const savepoints: string[] = [];
  const timing = await checkpointTiming();
  return runRounds<RestoreRoute, RestoreRunResult>({
    name: 'restore',
    runs,
    warmup,
    routes: RESTORE_ROUTES,
    log,
    pipelineFor: (n) => pipelineFor(n, 'restore', timing.settings),
    async runRoute(route, p, { client, taskQueue }) {
      const { oldJobId, a } = await withPointA(p);
      savepoints.push(a.path);
      const startedInCycleMs = await atRandomMomentOfCycle(timing);
      const { value: result, cpuMs } = await withCpu(() =>
        route === 'workflow'
          ? restoreViaWorkflow(client, taskQueue, p, a, oldJobId)
          : route === 'direct'
            ? restoreDirect(p, a, oldJobId)
            : restoreMinimal(p, a, oldJobId),
      );
      result.cpuMs = cpuMs;
      result.startedInCycleMs = startedInCycleMs;
      if (result.todaysSavepointPath) savepoints.push(result.todaysSavepointPath);
      return result;
    },
    async cleanUp(pipelines) {
      await removeSavepoints(savepoints);
      const store = new RestorePointStore(config.flink.savepointDir);
      for (const p of pipelines) await rm(store.jobDir(p.jobName), { recursive: true, force: true });
    },
  });
}

const ok = (results: RestoreRunResult[], route: RestoreRoute) => results.filter((r) => r.route === route && r.ok);
const med = (rs: RestoreRunResult[], f: (r: RestoreRunResult) => number | undefined) => median(rs.map((r) => f(r) ?? Number.NaN));
const stepSum = (r: RestoreRunResult) => r.steps.reduce((a, s) => a + s.ms, 0);

/** Median time per activity name (summed over its calls in a run). */
function stepMedians(rs: RestoreRunResult[]): Record<string, number> {
  const names = [...new Set(rs.flatMap((r) => r.steps.map((s) => s.name)))];
  return Object.fromEntries(names.map((n) => [n, median(rs.map((r) => r.steps.filter((s) => s.name === n).reduce((a, s) => a + s.ms, 0)))]));
}

export function summariseP3(results: RestoreRunResult[]) {
  const wf = ok(results, 'workflow');
  const dr = ok(results, 'direct');
  const mn = ok(results, 'minimal');
  const wall = { workflow: med(wf, (r) => r.wallMs), direct: med(dr, (r) => r.wallMs), minimal: med(mn, (r) => r.wallMs) };
  const orchestration = { workflow: med(wf, (r) => r.wallMs - (r.workflow?.activityExecMs ?? Number.NaN)), direct: med(dr, (r) => r.wallMs - stepSum(r)) };
  const activityCalls = { workflow: activityCallsOf(wf), direct: activityCallsOf(dr) };
  const ratio = wall.workflow / wall.direct;
  // The floor has no approver: what a person or service does to approve (read the plan, sign it) is
  // neither route's work. The workflow's side of the approval (the update, the signature's check) stays.
  const ratioLessApprover = med(wf, (r) => r.wallMs - (r.workflow?.approverMs ?? Number.NaN)) / wall.direct;
  const downtimeRatio = med(wf, (r) => r.downtimeMs) / med(mn, (r) => r.downtimeMs);
  return {
    runs: { workflow: wf.length, direct: dr.length, minimal: mn.length, failed: results.filter((r) => !r.ok).length },
    sameActivityCalls: sameCalls(activityCalls),
    activityCalls,
    medianWallMs: wall,
    ratio,
    ratioLessApprover,
    savepointQueued: queuedBehindCheckpoint(wf, dr),
    ratioToMinimal: wall.workflow / wall.minimal,
    // Issue 28: wall within 5 % of the floor; downtime at most 1.5x the bare stop / rollback_to / restart.
    targets: { ratioAtMost: 1.05, ratioMet: ratio <= 1.05, ratioLessApproverMet: ratioLessApprover <= 1.05, downtimeToMinimalAtMost: 1.5, downtimeToMinimalMet: downtimeRatio <= 1.5 },
    downtimeToMinimal: downtimeRatio,
    medianDowntimeMs: { workflow: med(wf, (r) => r.downtimeMs), direct: med(dr, (r) => r.downtimeMs), minimal: med(mn, (r) => r.downtimeMs) },
    orchestrationMedianMs: orchestration,
    ratioFromOrchestration: (wall.direct + orchestration.workflow - orchestration.direct) / wall.direct,
    costMedians: { workflow: costMedians(wf), direct: costMedians(dr), minimal: costMedians(mn) },
    whyCostlierInWorker: whyCostlier(costMedians(wf), costMedians(dr)),
    /** what ran between the stop and the deploy, each call's end after the stop returned */
    afterStopMs: { workflow: afterStop(wf), direct: afterStop(dr), minimal: afterStop(mn) },
    cpuMedianMs: { workflow: cpuMedians(wf), direct: cpuMedians(dr), minimal: cpuMedians(mn) },
    approvalMedianMs: {
      planSeen: med(wf, (r) => r.workflow?.planSeenMs),
      approveAnswered: med(wf, (r) => r.workflow?.approveAnsweredMs),
      approvalGap: med(wf, (r) => r.workflow?.approvalGapMs),
      approver: med(wf, (r) => r.workflow?.approverMs),
    },
    workflowMedianMs: {
      activityExec: med(wf, (r) => r.workflow?.activityExecMs),
      activityDispatch: med(wf, (r) => r.workflow?.activityDispatchMs),
      activityCompletion: med(wf, (r) => r.workflow?.activityCompletionMs),
      workflowTaskGaps: med(wf, (r) => r.workflow?.workflowTaskGapsMs),
      workflowTaskCount: med(wf, (r) => r.workflow?.workflowTasks.count),
      workflowTaskQueued: med(wf, (r) => r.workflow?.workflowTasks.queuedMs),
      workflowTaskRun: med(wf, (r) => r.workflow?.workflowTasks.runMs),
    },
    directActivityRunMedianMs: med(dr, stepSum),
    pollLagMedianMs: {
      savepoint: { workflow: med(wf, (r) => r.savepointPollLagMs), direct: med(dr, (r) => r.savepointPollLagMs), minimal: med(mn, (r) => r.savepointPollLagMs) },
      health: { workflow: med(wf, (r) => r.healthPollLagMs), direct: med(dr, (r) => r.healthPollLagMs), minimal: med(mn, (r) => r.healthPollLagMs) },
    },
    stepMedianMs: { workflow: stepMedians(wf), direct: stepMedians(dr), minimal: stepMedians(mn) },
    restoredFromA: results.map((r) => ({ route: r.route, run: r.run, restoredFromA: r.restoredFromA })),
  };
}
