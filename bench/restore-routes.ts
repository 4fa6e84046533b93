// P3's three ways to restore a pipeline and its sink tables to restore point A (an intermediate
// savepoint and its `savepoint-<id>` tag): the restore workflow with the approval given as soon as
// the plan is there; the floor (restore-floor.ts), its activity calls made one after another
// in-process with the same inputs and checks; and the bare minimum (stop with a savepoint,
// rollback_to every table, restart from A), which shows what the plan, the re-checks and the undo
// branch cost.
import type { Client } from '@temporalio/client';
import { approveRestore, awaitPlanOf } from '../src/client/approval';
import { signedBy } from '../test/support/approvals';
import { startRestore } from '../src/client/start-restore';
import type { DeploymentTarget } from '../src/domain/deployment-target';
import { breakdown } from './history';
import { onInterrupt } from './interrupt';
import { deployAndCheck, hex, judged, type PointA, RESTORE_TIMEOUTS, type RestoreRunResult } from './restore-run';
import { stepper, workflowSteps, type Step } from './routes';
import { activities, type RunPipeline } from './stack';

export { restoreDirect } from './restore-floor';
export type { PointA, RestoreRoute, RestoreRunResult } from './restore-run';

const APPROVER = 'bench-approver'; // one of test/support/approvals' TEST_APPROVERS

/** How a finished restore is judged: from the session cluster (P3), or from the clusters each job ran in (P5). */
export type RestoreJudge = (result: RestoreRunResult, a: PointA, stopReturnedAt?: number, healthReturnedAt?: number) => Promise<RestoreRunResult>;

/** The restore workflow; P5 gives it an application target and its own judge. */
export async function restoreViaWorkflow(
  client: Client,
  taskQueue: string,
  p: RunPipeline,
  a: PointA,
  oldJobId: string,
  app?: { target: DeploymentTarget; judge: RestoreJudge },
): Promise<RestoreRunResult> {
  const t0 = Date.now();
  const handle = await startRestore(
    client,
    {
      job: { jobName: p.jobName },
      deployment: p.v1,
      sinkTables: p.tables,
      restorePoint: { savepointId: a.savepointId },
      ...(app ? { target: app.target } : {}),
      options: {
        approvers: [APPROVER],
        requestedBy: 'bench-requester',
        approvalTimeout: '10m',
        savepointTimeout: RESTORE_TIMEOUTS.savepoint,
        tagTimeout: RESTORE_TIMEOUTS.tag,
        healthTimeout: RESTORE_TIMEOUTS.health,
      },
    },
    { taskQueue },
  );
  const forget = onInterrupt(() => handle.terminate('benchmark interrupted'));
  let planSeenAt = Number.NaN;
  let answeredAt = Number.NaN;
  let approverMs = Number.NaN;
  const outcome = await (async () => {
    // As a service that approves would: one wait for the plan (src/client/approval.ts), no polling.
    const plan = await awaitPlanOf(handle);
    if (!plan) throw new Error('the restore ended before it had a plan');
    // Signed by the approver's test key (the restore counts only signed answers); the signing is not
    // the workflow's time, so the answer is timed from here.
    const readAt = Date.now();
    const signed = await signedBy(handle, { approver: APPROVER, comment: 'bench P3', planVersion: plan.version });
    planSeenAt = Date.now();
    approverMs = planSeenAt - readAt;
    const answer = await approveRestore(client, { jobName: p.jobName }, signed);
    answeredAt = Date.now();
    if (answer.outcome !== 'proceeding') throw new Error(`approval answered ${answer.outcome}: ${answer.changes?.join('; ')}`);
    return { value: await handle.result(), error: undefined };
  })()
    .catch((error: unknown) => ({ value: undefined, error: String(error) }))
    .finally(forget);
  const wallMs = Date.now() - t0;

  const b = breakdown(await handle.fetchHistory());
  const steps = workflowSteps(handle, b);
  const total = (f: (s: Step) => number | undefined) => steps.reduce((acc, s) => acc + (f(s) ?? 0), 0);
  // The only wait between two activities that is not a workflow task is the approval.
  const gaps = b.activities.slice(1).map((s, i) => s.scheduledAt - b.activities[i]!.closedAt);
  const ok = outcome.value?.status === 'restored';
  const result: RestoreRunResult = {
    route: 'workflow',
    run: p.run,
    ok,
    error: ok ? undefined : (outcome.error ?? `ended ${outcome.value?.status}: ${outcome.value?.reason}`),
    wallMs,
    downtimeMs: Number.NaN,
    oldJobId,
    newJobId: outcome.value?.newJobId,
    todaysSavepointPath: outcome.value?.todaysSavepoint?.path,
    steps,
    workflow: {
      workflowId: handle.workflowId,
      runId: handle.firstExecutionRunId,
      planSeenMs: planSeenAt - t0,
      approveAnsweredMs: answeredAt - planSeenAt,
      approverMs,
      approvalGapMs: gaps.length > 0 ? Math.max(...gaps) : Number.NaN,
      activityExecMs: total((s) => s.ms),
      activityDispatchMs: total((s) => s.dispatchMs),
      activityCompletionMs: total((s) => s.completionMs),
      workflowTaskGapsMs: b.workflowTaskGapsMs,
      workflowTasks: b.workflowTasks,
    },
  };
  const closed = (name: string) => b.activities.find((s) => s.name === name)?.closedAt;
  return (app?.judge ?? judged)(result, a, closed('stopWithSavepoint'), b.activities.filter((s) => s.name === 'awaitHealthy').at(-1)?.closedAt);
}


/** The bare minimum a person could script: stop with a savepoint, rollback_to every table, restart from A, health. */
export async function restoreMinimal(p: RunPipeline, a: PointA, oldJobId: string): Promise<RestoreRunResult> {
  const { steps, ended, step } = stepper();
  const result: RestoreRunResult = { route: 'minimal', run: p.run, ok: false, wallMs: Number.NaN, downtimeMs: Number.NaN, oldJobId, steps };
  const t0 = Date.now();
  try {
    // stopWithSavepoint returns once the job is terminal: its final commit has landed before the rollback.
    const savepoint = await step('stopWithSavepoint', activities.stopWithSavepoint, { jobId: oldJobId, triggerId: hex(16), drain: false });
    result.todaysSavepointPath = savepoint.path;
    for (const table of p.tables) await step('rollbackToTag', activities.rollbackToTag, { table, tag: a.tag });
    await deployAndCheck(p, a, result, step);
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  }
  result.wallMs = Date.now() - t0;
  return judged(result, a, ended.stopWithSavepoint, ended.awaitHealthy);
}
