// What every P3 route shares: restore point A, the run's result, the timeouts, the restored job's
// start from A, and how a route is judged from Flink once it finished.
import { randomBytes } from 'node:crypto';
import { sameLocation } from '../activities/flink/savepoint-metadata';
import type { stepper, Step } from './routes';
import { activities, downtime, firstCheckpointAck, jobTimes, savepointQueuedMs, restoredFrom, type RunPipeline } from './stack';

export type RestoreRoute = 'workflow' | 'direct' | 'minimal';

/** Restore point A of one run's pipeline, taken and recorded before the route starts. */
export interface PointA {
  savepointId: number;
  path: string;
  tag: string;
}

export interface RestoreRunResult {
  route: RestoreRoute;
  run: number;
  ok: boolean;
  /** CPU ms per process of the stack while the route ran (cpu.ts) */
  cpuMs?: Record<string, number>;
  /** how long after its writer's latest checkpoint the route started (stack.ts atRandomMomentOfCycle) */
  startedInCycleMs?: number;
  error?: string;
  wallMs: number;
  /** the writer's end-time -> the restored job's RUNNING, by Flink's clock */
  downtimeMs: number;
  oldJobId: string;
  newJobId?: string;
  /** the new job restored from A's savepoint, as Flink records it */
  restoredFromA?: boolean;
  /** the savepoint the writer stopped with (deleted at the end with A's) */
  todaysSavepointPath?: string;
  steps: Step[];
  savepointPollLagMs?: number;
  /** the stop's savepoint waited in Flink behind a checkpoint in flight (stack.ts savepointQueuedMs) */
  savepointQueuedMs?: number;
  healthPollLagMs?: number;
  workflow?: {
    workflowId: string;
    runId: string;
    /** client start -> the plan answers the query (planning runs in here) */
    planSeenMs: number;
    /** approval sent -> the update answered 'proceeding' (re-planning and the stop run in here) */
    approveAnsweredMs: number;
    /** the approver's own part: reading the run and the plan again and signing it (test/support/approvals.ts signedBy) */
    approverMs: number;
    /** the plan's last activity closed -> the re-plan's first scheduled: the approval round trip */
    approvalGapMs: number;
    activityExecMs: number;
    activityDispatchMs: number;
    activityCompletionMs: number;
    workflowTaskGapsMs: number;
    workflowTasks: { count: number; queuedMs: number; runMs: number; firstRunMs: number };
  };
}

export const RESTORE_TIMEOUTS = { savepoint: '3m', tag: '2m', health: '3m', tagMs: 120_000, healthMs: 180_000 } as const;

export const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** What each route is judged by, read from Flink once it finished. */
export async function judged(result: RestoreRunResult, a: PointA, stopReturnedAt?: number, healthReturnedAt?: number): Promise<RestoreRunResult> {
  if (!result.newJobId) return result;
  result.downtimeMs = await downtime(result.oldJobId, result.newJobId);
  const old = await jobTimes(result.oldJobId);
  if (stopReturnedAt !== undefined && old.endTime !== undefined) result.savepointPollLagMs = stopReturnedAt - old.endTime;
  result.savepointQueuedMs = await savepointQueuedMs(result.oldJobId, result.steps);
  if (healthReturnedAt !== undefined) result.healthPollLagMs = healthReturnedAt - (await firstCheckpointAck(result.newJobId));
  const from = await restoredFrom(result.newJobId);
  result.restoredFromA = !!from && sameLocation(from, a.path);
  if (result.ok && !result.restoredFromA) {
    result.ok = false;
    result.error = `the new job was not restored from A (${a.path}); Flink says ${from ?? 'no savepoint'}`;
  }
  return result;
}

export async function deployAndCheck(
  p: RunPipeline,
  a: PointA,
  result: RestoreRunResult,
  step: ReturnType<typeof stepper>['step'],
  /** the token a session was prepared under before the stop (prepareVersion) */
  deployToken = `bench/${p.jobName}/${result.route}/${Date.now()}`,
): Promise<void> {
  const since = Date.now();
  const { jobId } = await step('deployJob', activities.deployJob, {
    deployment: p.v1,
    deployToken,
    savepointPath: a.path,
  });
  result.newJobId = jobId;
  const health = await step('awaitHealthy', activities.awaitHealthy, { jobId, since, timeoutMs: RESTORE_TIMEOUTS.healthMs });
  if (!health.healthy) throw new Error(`the restored job is not healthy: ${health.reason}`);
  result.ok = true;
}
