// P3's three ways to restore a pipeline and its sink tables to restore point A (an intermediate
// savepoint and its `savepoint-<id>` tag): the restore workflow with the approval given as soon as
// the plan is there; the floor, its activity calls made one after another in-process with the
// same inputs and checks; and the bare minimum (stop with a savepoint, rollback_to every table,
// restart from A), which shows what the plan, the re-checks and the undo branch cost.
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { sameLocation } from '../activities/flink/savepoint-metadata';
import { approveRestore } from '../src/client/approval';
import { signedBy, testApproverActivities } from '../test/support/approvals';
import { startRestore } from '../src/client/start-restore';
import { tagFor, type TableRef, type TagInfo } from '../src/domain/model';
import { APPROVER_KEYS_MAX_WAIT_MS } from '../workflows/activity-options';
import { planQuery } from '../workflows/restore-messages';
import { rollbackMismatch } from '../workflows/rollback-check';
import { breakdown } from './history';
import { onInterrupt } from './interrupt';
import { stepper, workflowSteps, type Step } from './routes';
import { activities, downtime, firstCheckpointAck, jobTimes, restoredFrom, type RunPipeline } from './stack';

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
  healthPollLagMs?: number;
  workflow?: {
    workflowId: string;
    runId: string;
    /** client start -> the plan answers the query (planning runs in here) */
    planSeenMs: number;
    /** approval sent -> the update answered 'proceeding' (re-planning and the stop run in here) */
    approveAnsweredMs: number;
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
const APPROVER = 'bench-approver'; // one of test/support/approvals' TEST_APPROVERS
/** How often the benchmark asks whether the plan is there (what an approving service would do). */
const PLAN_POLL_MS = 50;

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
/** The floor reads the keys the bench's worker checks against (the test keyring). */
const approverKeys = testApproverActivities();

/** What each route is judged by, read from Flink once it finished. */
async function judged(result: RestoreRunResult, a: PointA, stopReturnedAt?: number, healthReturnedAt?: number): Promise<RestoreRunResult> {
  if (!result.newJobId) return result;
  result.downtimeMs = await downtime(result.oldJobId, result.newJobId);
  const old = await jobTimes(result.oldJobId);
  if (stopReturnedAt !== undefined && old.endTime !== undefined) result.savepointPollLagMs = stopReturnedAt - old.endTime;
  if (healthReturnedAt !== undefined) result.healthPollLagMs = healthReturnedAt - (await firstCheckpointAck(result.newJobId));
  const from = await restoredFrom(result.newJobId);
  result.restoredFromA = !!from && sameLocation(from, a.path);
  if (result.ok && !result.restoredFromA) {
    result.ok = false;
    result.error = `the new job was not restored from A (${a.path}); Flink says ${from ?? 'no savepoint'}`;
  }
  return result;
}

export async function restoreViaWorkflow(client: Client, taskQueue: string, p: RunPipeline, a: PointA, oldJobId: string): Promise<RestoreRunResult> {
  const t0 = Date.now();
  const handle = await startRestore(
    client,
    {
      job: { jobName: p.jobName },
      deployment: p.v1,
      sinkTables: p.tables,
      restorePoint: { savepointId: a.savepointId },
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
  const outcome = await (async () => {
    // The plan is set in the same workflow task that starts waiting for the approval.
    let plan;
    while (!(plan = await handle.query(planQuery))) await new Promise((r) => setTimeout(r, PLAN_POLL_MS));
    // Signed by the approver's test key (the restore counts only signed answers); the signing is not
    // the workflow's time, so the answer is timed from here.
    const signed = await signedBy(handle, { approver: APPROVER, comment: 'bench P3', planVersion: plan.version });
    planSeenAt = Date.now();
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
      approvalGapMs: gaps.length > 0 ? Math.max(...gaps) : Number.NaN,
      activityExecMs: total((s) => s.ms),
      activityDispatchMs: total((s) => s.dispatchMs),
      activityCompletionMs: total((s) => s.completionMs),
      workflowTaskGapsMs: b.workflowTaskGapsMs,
      workflowTasks: b.workflowTasks,
    },
  };
  const closed = (name: string) => b.activities.find((s) => s.name === name)?.closedAt;
  return judged(result, a, closed('stopWithSavepoint'), b.activities.filter((s) => s.name === 'awaitHealthy').at(-1)?.closedAt);
}

interface TablePlan {
  table: TableRef;
  tagSnapshotId: number;
  tagSchemaId: number;
  recordsAtTag: number | null;
  latestSnapshotId: number | null;
  /** tags the rollback would delete (on snapshots newer than A's) */
  newerTags: { tag: string; snapshotId: number }[];
}

/** The floor: the restore workflow's activity calls (workflows/restore.ts and its steps, restore-plan.ts), in its order, with its checks. */
export async function restoreDirect(p: RunPipeline, a: PointA, oldJobId: string): Promise<RestoreRunResult> {
  const { steps, ended, step } = stepper();
  const result: RestoreRunResult = { route: 'direct', run: p.run, ok: false, wallMs: Number.NaN, downtimeMs: Number.NaN, oldJobId, steps };
  const { jobName, tables } = p;
  const t0 = Date.now();
  /**
   * makePlan before the stop (workflows/restore-plan-reads.ts): the deployment check beside the
   * writer, then the tables' options, their users, the restore points and every table's tags at
   * once, then every table's snapshots and the savepoint's files at once.
   */
  const plan = async () => {
    const [, job] = await Promise.all([
      step('checkDeployments', activities.checkDeployments, { deployments: [p.v1], sinkTables: tables }),
      step('resolveJob', activities.resolveJob, { job: { jobName } }),
    ]);
    if (job.state !== 'RUNNING' || job.jobId !== oldJobId) throw new Error(`the writer is ${job.jobId} ${job.state}, expected ${oldJobId} RUNNING`);
    // The writer's latest checkpoint beside the first reads (workflows/restore-plan-reads.ts).
    const [described, , [jobs], points, tagsOf] = await Promise.all([
      step('describeSinkTables', activities.describeSinkTables, { tables }),
      step('requireRecentCheckpoint', activities.requireRecentCheckpoint, { jobId: oldJobId }),
      Promise.all([step('findTableJobs', activities.findTableJobs, { tables }), step('listConsumers', activities.listConsumers, { tables })]),
      step('listRestorePoints', activities.listRestorePoints, { jobName, tables }),
      Promise.all(tables.map((table) => step('listTags', activities.listTags, { table }))),
    ]);
    if (!described.every((d) => d.exists && d.autoTagOnSavepoint)) throw new Error(`sink tables not ready: ${JSON.stringify(described)}`);
    const others = jobs.filter((j) => j.jobId !== oldJobId && j.writes.length > 0);
    if (others.length > 0) throw new Error(`other jobs write the sink tables: ${others.map((j) => j.name).join(', ')}`);
    const point = points.find((pt) => pt.savepointId === a.savepointId);
    if (!point?.path) throw new Error(`restore point ${a.tag} not found with a path: ${JSON.stringify(point ?? points.map((x) => x.tag))}`);
    const targets = tables.map((table, i) => {
      const target = tagsOf[i]!.find((t) => t.tagName === point.tag);
      if (!target) throw new Error(`tag ${point.tag} missing on ${table}`);
      return target;
    });
    const [states, files] = await Promise.all([
      Promise.all(tables.map((table, i) => step('tableState', activities.tableState, { table, newerThan: targets[i]!.snapshotId }))),
      step('inspectSavepoint', activities.inspectSavepoint, { path: point.path }),
    ]);
    if (!files.exists || files.savepointId !== point.savepointId) throw new Error(`savepoint files at ${point.path}: ${JSON.stringify(files)}`);
    return tables.map(
      (table, i): TablePlan => ({
        table,
        tagSnapshotId: targets[i]!.snapshotId,
        tagSchemaId: targets[i]!.schemaId,
        recordsAtTag: targets[i]!.recordCount,
        latestSnapshotId: states[i]!.latestSnapshotId,
        newerTags: tagsOf[i]!.filter((t) => t.snapshotId > targets[i]!.snapshotId).map((t) => ({ tag: t.tagName, snapshotId: t.snapshotId })),
      }),
    );
  };
  /** After the stop (workflows/restore-after-stop.ts): the tags the wait for today's tag read; the writers and the savepoint's files, at once. */
  const afterStop = async (before: TablePlan[], pointPath: string, tagsOf: Record<string, TagInfo[]>): Promise<TablePlan[]> => {
    const [jobs, files] = await Promise.all([
      step('findTableJobs', activities.findTableJobs, { tables }),
      step('inspectSavepoint', activities.inspectSavepoint, { path: pointPath }),
    ]);
    const others = jobs.filter((j) => j.jobId !== oldJobId && j.writes.length > 0);
    if (others.length > 0) throw new Error(`other jobs write the sink tables: ${others.map((j) => j.name).join(', ')}`);
    if (!files.exists || files.savepointId !== a.savepointId) throw new Error(`savepoint files at ${pointPath}: ${JSON.stringify(files)}`);
    return before.map((t) => {
      const tags = tagsOf[t.table] ?? [];
      const target = tags.find((x) => x.tagName === a.tag);
      const at = target?.snapshotId ?? -1;
      return { ...t, tagSnapshotId: at, recordsAtTag: target?.recordCount ?? null, newerTags: tags.filter((x) => x.snapshotId > at).map((x) => ({ tag: x.tagName, snapshotId: x.snapshotId })) };
    });
  };
  const sameTags = (x: TablePlan[], y: TablePlan[]) =>
    x.every((t, i) => t.tagSnapshotId === y[i]!.tagSnapshotId && t.recordsAtTag === y[i]!.recordsAtTag);
  try {
    // As workflows/approval-gate.ts: the approvers' keys before the first plan.
    await step('awaitApproverKeys', approverKeys.awaitApproverKeys, { maxWaitMs: APPROVER_KEYS_MAX_WAIT_MS });
    const approved = await plan();
    // (the approval, given at once)
    const replanned = await plan();
    if (!sameTags(approved, replanned)) throw new Error('the plan changed between approval and re-planning');
    // As workflows/restore.ts' stopWriter: the parallelism the restored job keeps, read before the stop.
    await step('jobParallelism', activities.jobParallelism, { jobId: oldJobId });
    const savepoint = await step('stopWithSavepoint', activities.stopWithSavepoint, { jobId: oldJobId, triggerId: hex(16), drain: false });
    result.todaysSavepointPath = savepoint.path;
    const todaysTag = tagFor(savepoint.savepointId);
    const { missing, tags } = await step('awaitTag', activities.awaitTag, { tables, tag: todaysTag, timeoutMs: RESTORE_TIMEOUTS.tagMs, withTags: true });
    if (missing.length > 0) throw new Error(`tag ${todaysTag} missing on ${missing.join(', ')}`);
    const held = await afterStop(approved, a.path, tags!);
    if (!sameTags(approved, held)) throw new Error('the plan changed after the writer stopped');
    // Today's tag must be on a snapshot at least as new as the latest one before the stop.
    const stale = held.filter((t, i) => (t.newerTags.find((n) => n.tag === todaysTag)?.snapshotId ?? -1) < (approved[i]!.latestSnapshotId ?? 0));
    if (stale.length > 0) throw new Error(`tag ${todaysTag} is stale on ${stale.map((t) => t.table).join(', ')}`);

    const undo = `before_restore_${hex(4)}`;
    // As workflows/restore-undo.ts makes them: every table's undo branch at once, from today's tag.
    await Promise.all(held.map((t) => step('createBranch', activities.createBranch, { table: t.table, branch: undo, tag: todaysTag })));
    // Every table rolled back at once, each checked after its own rollback.
    await Promise.all(
      approved.map(async (t) => {
        // With the count of what it deleted, as workflows/restore.ts asks for it.
        await step('rollbackToTag', activities.rollbackToTag, { table: t.table, tag: a.tag, count: true });
        const state = await step('tableState', activities.tableState, { table: t.table });
        const mismatch = rollbackMismatch(t, state);
        if (mismatch.length > 0) throw new Error(`after rollback_to ${t.table} is not at tag ${a.tag}: ${mismatch.join('; ')}`);
      }),
    );
    // As workflows/restore-lost-points.ts does right after the rollback: the deleted savepoint tags' records go lost.
    const tagsDeleted = held.flatMap((t) =>
      t.newerTags.filter((n) => /^savepoint-\d+$/.test(n.tag)).map((n) => ({ table: t.table, tag: n.tag, snapshotId: n.snapshotId })),
    );
    if (tagsDeleted.length > 0) {
      await step('markRestorePointsLost', activities.markRestorePointsLost, { jobName, tagsDeleted, deletedBy: `rollback_to ${a.tag} by the bench`, at: new Date().toISOString() });
    }
    await deployAndCheck(p, a, result, step);
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  }
  result.wallMs = Date.now() - t0;
  return judged(result, a, ended.stopWithSavepoint, ended.awaitHealthy);
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

async function deployAndCheck(p: RunPipeline, a: PointA, result: RestoreRunResult, step: ReturnType<typeof stepper>['step']): Promise<void> {
  const since = Date.now();
  const { jobId } = await step('deployJob', activities.deployJob, {
    deployment: p.v1,
    deployToken: `bench/${p.jobName}/${result.route}/${Date.now()}`,
    savepointPath: a.path,
  });
  result.newJobId = jobId;
  const health = await step('awaitHealthy', activities.awaitHealthy, { jobId, since, timeoutMs: RESTORE_TIMEOUTS.healthMs });
  if (!health.healthy) throw new Error(`the restored job is not healthy: ${health.reason}`);
  result.ok = true;
}
