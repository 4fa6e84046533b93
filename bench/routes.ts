// Two of the three ways P1/P2 upgrade v1 to v2 on the real stack: the upgrade workflow, and the
// floor — the same activity functions called one after another in-process, no Temporal at all.
// (The third, Flink's own CLI as a person would use it, is in manual-route.ts.)
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { startUpgrade } from '../src/client/start-upgrade';
import type { DeploymentTarget } from '../src/domain/deployment-target';
import { tagFor } from '../src/domain/model';
import { repoRoot } from '../src/config/repo-root';
import { upgradeSavepointRecord } from '../workflows/upgrade-restore-point';
import { activityRun } from './activity-timer';
import { timedCall, type CallCost } from './request-timer';
import { breakdown, type WorkflowBreakdown } from './history';
import { onInterrupt } from './interrupt';
import { activities, downtime, firstCheckpointAck, jobTimes, savepointQueuedMs, runActivity, type RunPipeline } from './stack';

export type Route = 'workflow' | 'direct' | 'manual' | 'manual-cli';

export interface Step {
  name: string;
  /** the work itself: for an activity, from its first line to its return, in the worker */
  ms: number;
  /** workflow only: ActivityTaskScheduled -> Started (0 with eager dispatch: both are recorded at once) */
  scheduleToStartMs?: number;
  /** workflow only: ActivityTaskScheduled -> the activity function starts in the worker */
  dispatchMs?: number;
  /** workflow only: the activity function returns -> ActivityTaskCompleted recorded */
  completionMs?: number;
  /** direct only: heartbeats, one per poll round of a polling activity */
  heartbeats?: number;
  /** its HTTP requests and the event loop meanwhile (request-timer.ts) */
  cost?: CallCost;
  /** when it returned (epoch ms): where it lies on the downtime path */
  endedAt?: number;
}

export interface RouteResult {
  route: Route;
  run: number;
  ok: boolean;
  error?: string;
  wallMs: number;
  downtimeMs: number;
  oldJobId: string;
  newJobId?: string;
  savepointPath?: string;
  steps: Step[];
  /** how long after its old job's latest checkpoint the route started (stack.ts atRandomMomentOfCycle) */
  startedInCycleMs?: number;
  /** stop-with-savepoint returned minus the old job's end-time: what polling the savepoint cost */
  savepointPollLagMs?: number;
  /** the stop's savepoint waited in Flink behind a checkpoint in flight (stack.ts savepointQueuedMs) */
  savepointQueuedMs?: number;
  /** the health gate returned minus the new job's first checkpoint: what polling health cost */
  healthPollLagMs?: number;
  workflow?: {
    workflowId: string;
    runId: string;
    clientToStartedMs: number;
    scheduleToStartMs: number;
    /** ActivityTaskStarted -> Completed, as the history has it (includes dispatch and completion) */
    historyActivityRunMs: number;
    activityDispatchMs: number;
    activityExecMs: number;
    activityCompletionMs: number;
    workflowTaskGapsMs: number;
    workflowTasks: { count: number; queuedMs: number; runMs: number; firstRunMs: number };
    completedToResultMs: number;
  };
  manual?: { restoredFrom?: string; restoredFromSavepoint: boolean };
  /** CPU ms per process of the stack while the route ran (cpu.ts) */
  cpuMs?: Record<string, number>;
}

/**
 * Whether the upgrade workflow in this tree reads each sink table's tags before the savepoint
 * (workflows/tag-guard.ts, called from its checks before the stop, workflows/upgrade-preflight.ts). The floor makes the same calls, or it would not be the same work; the
 * summary checks run by run that both made the same activity calls.
 */
export const WORKFLOW_TAG_GUARD = /savepointTags(Before|Ahead)\(/.test(readFileSync(path.join(repoRoot(), 'workflows', 'upgrade-preflight.ts'), 'utf8'));

/** Runs activities one after another in-process, timing each as a step (the direct routes). */
export function stepper() {
  const steps: Step[] = [];
  const ended: Record<string, number> = {};
  const step = async <I, O>(name: string, fn: (input: I) => Promise<O>, input: I): Promise<O> => {
    const started = Date.now();
    const { value, error, cost } = await timedCall(() => runActivity(fn, input));
    ended[name] = Date.now();
    steps.push({ name, ms: ended[name]! - started, heartbeats: value?.heartbeats, cost, endedAt: ended[name] });
    if (error !== undefined) throw error;
    return value!.value;
  };
  return { steps, ended, step };
}

/** A workflow run's activities as steps: their time in the worker where it was timed, else from the history. */
export function workflowSteps(handle: WorkflowHandleWithFirstExecutionRunId, b: WorkflowBreakdown): Step[] {
  return b.activities.map((a) => {
    const ran = activityRun(handle.workflowId, handle.firstExecutionRunId, a.activityId);
    if (!ran) return { name: a.name, ms: a.runMs, scheduleToStartMs: a.scheduleToStartMs, endedAt: a.closedAt };
    return {
      name: a.name,
      ms: ran.endedAt - ran.startedAt,
      scheduleToStartMs: a.scheduleToStartMs,
      dispatchMs: ran.startedAt - a.scheduledAt,
      completionMs: a.closedAt - ran.endedAt,
      cost: ran.cost,
      endedAt: ran.endedAt,
    };
  });
}

export const TIMEOUTS = { healthTimeoutMs: 120_000, tagTimeoutMs: 60_000 };

/** The facts every route is judged by, read from Flink after the route finished. */
async function judged(result: RouteResult, stopReturnedAt?: number, healthReturnedAt?: number): Promise<RouteResult> {
  if (!result.newJobId) return result;
  result.downtimeMs = await downtime(result.oldJobId, result.newJobId);
  const old = await jobTimes(result.oldJobId);
  if (stopReturnedAt !== undefined && old.endTime !== undefined) result.savepointPollLagMs = stopReturnedAt - old.endTime;
  result.savepointQueuedMs = await savepointQueuedMs(result.oldJobId, result.steps);
  if (healthReturnedAt !== undefined) result.healthPollLagMs = healthReturnedAt - (await firstCheckpointAck(result.newJobId));
  return result;
}

/** How a finished route is judged: from the session cluster (P1, P2), or from the clusters each job ran in (P5). */
export type UpgradeJudge = (result: RouteResult, stopReturnedAt?: number, healthReturnedAt?: number) => Promise<RouteResult>;

/** The upgrade workflow; P5 gives it an application target, its own health timeout and its own judge. */
export async function viaWorkflow(
  client: Client,
  taskQueue: string,
  p: RunPipeline,
  oldJobId: string,
  app?: { target: DeploymentTarget; healthTimeoutMs: number; judge: UpgradeJudge },
): Promise<RouteResult> {
  const t0 = Date.now();
  const handle = await startUpgrade(
    client,
    {
      job: { jobName: p.jobName },
      newVersion: p.v2,
      oldVersion: p.v1,
      sinkTables: p.tables,
      ...(app ? { target: app.target } : {}),
      options: { healthTimeout: app?.healthTimeoutMs ?? TIMEOUTS.healthTimeoutMs, tagTimeout: TIMEOUTS.tagTimeoutMs },
    },
    { taskQueue },
  );
  const forget = onInterrupt(() => handle.terminate('benchmark interrupted'));
  const outcome = await handle
    .result()
    .then(
      (value) => ({ value, error: undefined }),
      (error: unknown) => ({ value: undefined, error: String(error) }),
    )
    .finally(forget);
  const wallMs = Date.now() - t0;
  const b = breakdown(await handle.fetchHistory());
  const steps = workflowSteps(handle, b);
  const total = (f: (s: Step) => number | undefined) => steps.reduce((acc, s) => acc + (f(s) ?? 0), 0);
  const ok = outcome.value?.status === 'upgraded';
  const result: RouteResult = {
    route: 'workflow',
    run: p.run,
    ok,
    error: ok ? undefined : (outcome.error ?? `ended ${outcome.value?.status}: ${outcome.value?.reason}`),
    wallMs,
    downtimeMs: Number.NaN,
    oldJobId,
    newJobId: outcome.value?.newJobId,
    savepointPath: outcome.value?.savepoint?.path,
    steps,
    workflow: {
      workflowId: handle.workflowId,
      runId: handle.firstExecutionRunId,
      clientToStartedMs: b.startedAt - t0,
      scheduleToStartMs: b.scheduleToStartMs,
      historyActivityRunMs: b.activityRunMs,
      activityDispatchMs: total((s) => s.dispatchMs),
      activityExecMs: total((s) => s.ms),
      activityCompletionMs: total((s) => s.completionMs),
      workflowTaskGapsMs: b.workflowTaskGapsMs,
      workflowTasks: b.workflowTasks,
      completedToResultMs: t0 + wallMs - b.completedAt,
    },
  };
  const closed = (name: string) => b.activities.find((a) => a.name === name)?.closedAt;
  return (app?.judge ?? judged)(result, closed('stopWithSavepoint'), closed('awaitHealthy'));
}

/** The floor: the workflow's activity calls, in its order, with its inputs, and nothing else. */
export async function direct(p: RunPipeline, oldJobId: string): Promise<RouteResult> {
  const { steps, ended, step } = stepper();
  const result: RouteResult = { route: 'direct', run: p.run, ok: false, wallMs: Number.NaN, downtimeMs: Number.NaN, oldJobId, steps };
  const t0 = Date.now();
  try {
    // As workflows/upgrade-preflight.ts: every check at once, those about the job once it is found,
    // the first failing in their order reported.
    const jobFound = (async () => {
      const job = await step('resolveJob', activities.resolveJob, { job: { jobName: p.jobName } });
      // As workflows/deployment-check.ts refuses a job that has not checkpointed lately.
      await step('requireRecentCheckpoint', activities.requireRecentCheckpoint, { jobId: job.jobId });
      if (job.state !== 'RUNNING') throw new Error(`job ${job.jobId} is ${job.state}`);
      return job;
    })();
    // As workflows/tag-guard.ts reads the tag names: every table at once, beside the checks.
    const tagsRead = WORKFLOW_TAG_GUARD
      ? Promise.allSettled(p.tables.map((table) => step('listTags', activities.listTags, { table })))
      : Promise.resolve([]);
    const checks = await Promise.allSettled<unknown>([
      jobFound,
      (async () => {
        const described = await step('describeSinkTables', activities.describeSinkTables, { tables: p.tables });
        if (!described.every((d) => d.exists && d.autoTagOnSavepoint)) throw new Error(`sink tables not ready: ${JSON.stringify(described)}`);
      })(),
      step('checkFlinkCluster', activities.checkFlinkCluster, undefined as never),
      // As workflows/table-users.ts: no other live job may write the sink tables.
      jobFound.then(async (job) => {
        const others = (await step('findTableJobs', activities.findTableJobs, { tables: p.tables })).filter((j) => j.jobId !== job.jobId && j.writes.length > 0);
        if (others.length > 0) throw new Error(`other jobs write the sink tables: ${others.map((j) => j.name).join(', ')}`);
      }),
      // The new version and the old one the compensation would start: checked before the stop.
      step('checkDeployments', activities.checkDeployments, { deployments: [p.v2, p.v1], sinkTables: p.tables }),
      // The new version's parallelism per vertex and its claim on the job's state (workflows/upgrade-shape.ts).
      jobFound.then((job) => step('planUpgradeShape', activities.planUpgradeShape, { jobId: job.jobId, newVersion: p.v2, allowNonRestoredState: false })),
    ]);
    const failedCheck = checks.find((c): c is PromiseRejectedResult => c.status === 'rejected');
    if (failedCheck) throw failedCheck.reason;
    const job = await jobFound;
    const tagsBefore = new Map<string, string[]>();
    for (const [i, read] of (await tagsRead).entries()) {
      if (read.status === 'rejected') throw read.reason;
      tagsBefore.set(p.tables[i]!, read.value.map((t) => t.tagName));
    }
    // As workflows/prepare-cluster.ts: the new version's SQL session set up beside the stop.
    const deployToken = `bench/${p.jobName}/direct/${Date.now()}`;
    const preparing = step('prepareVersion', activities.prepareVersion, { deployment: p.v2, deployToken, allowNonRestoredState: false }).catch(() => undefined);
    const savepoint = await step('stopWithSavepoint', activities.stopWithSavepoint, {
      jobId: job.jobId,
      triggerId: randomBytes(16).toString('hex'),
      drain: false,
    });
    result.savepointPath = savepoint.path;
    const tag = tagFor(savepoint.savepointId);
    const collided = [...tagsBefore].filter(([, names]) => names.includes(tag)).map(([table]) => table);
    if (collided.length > 0) throw new Error(`tag ${tag} existed before the savepoint on ${collided.join(', ')}`);
    const { missing } = await step('awaitTag', activities.awaitTag, { tables: p.tables, tag, timeoutMs: TIMEOUTS.tagTimeoutMs });
    if (missing.length > 0) throw new Error(`tag ${tag} missing on ${missing.join(', ')}`);
    await preparing;
    const since = Date.now();
    const { jobId } = await step('deployJob', activities.deployJob, {
      deployment: p.v2,
      deployToken,
      savepointPath: savepoint.path,
    });
    // As workflows/upgrade-deploy.ts records the savepoint: once the deploy returned, beside the health gate.
    const recording = Promise.allSettled([
      step(
        'recordRestorePoint',
        activities.recordRestorePoint,
        upgradeSavepointRecord({ oldJob: job, savepoint, tables: p.tables, oldVersion: p.v1.version, newVersion: p.v2.version }),
      ),
    ]);
    result.newJobId = jobId;
    const health = await step('awaitHealthy', activities.awaitHealthy, { jobId, since, timeoutMs: TIMEOUTS.healthTimeoutMs });
    const [recorded] = await recording;
    if (!health.healthy) throw new Error(`v2 not healthy: ${health.reason}`);
    // As workflows/upgrade-restore-point.ts ends: how the upgrade ended, kept with its recorded point.
    if (recorded.status === 'fulfilled') {
      await step('recordUpgradeOutcome', activities.recordUpgradeOutcome, {
        jobName: job.name,
        savepointId: savepoint.savepointId,
        path: savepoint.path,
        outcome: 'succeeded',
        at: new Date().toISOString(),
      });
    }
    result.ok = true;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  }
  result.wallMs = Date.now() - t0;
  return judged(result, ended.stopWithSavepoint, ended.awaitHealthy);
}
