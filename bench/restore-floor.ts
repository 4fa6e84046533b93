// P3's floor: the restore workflow's activity calls made one after another in-process, with the
// same inputs and checks, and nothing of Temporal in between.
import { tagFor, type TableRef, type TagInfo } from '../src/domain/model';
import { APPROVER_KEYS_MAX_WAIT_MS } from '../workflows/activity-options';
import { rollbackMismatch } from '../workflows/rollback-check';
import { testApproverActivities } from '../test/support/approvals';
import { deployAndCheck, hex, judged, RESTORE_TIMEOUTS, type PointA, type RestoreRunResult } from './restore-run';
import { stepper } from './routes';
import { activities, type RunPipeline } from './stack';

/** The floor reads the keys the bench's worker checks against (the test keyring). */
const approverKeys = testApproverActivities();

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
   * makePlan before the stop (workflows/restore-plan.ts, restore-plan-reads.ts): the deployment
   * check started first; once the writer is known, beside the check still running, the tables'
   * options, their users, the restore points and every table's tags at once; then every table's
   * snapshots and the savepoint's files at once.
   */
  const plan = async () => {
    const checked = step('checkDeployments', activities.checkDeployments, { deployments: [p.v1], sinkTables: tables });
    checked.catch(() => undefined);
    const job = await step('resolveJob', activities.resolveJob, { job: { jobName } });
    if (job.state !== 'RUNNING' || job.jobId !== oldJobId) throw new Error(`the writer is ${job.jobId} ${job.state}, expected ${oldJobId} RUNNING`);
    // The writer's latest checkpoint beside the first reads (workflows/restore-plan-reads.ts).
    const reads = Promise.all([
      step('describeSinkTables', activities.describeSinkTables, { tables }),
      step('requireRecentCheckpoint', activities.requireRecentCheckpoint, { jobId: oldJobId }),
      Promise.all([step('findTableJobs', activities.findTableJobs, { tables }), step('listConsumers', activities.listConsumers, { tables })]),
      step('listRestorePoints', activities.listRestorePoints, { jobName, tables }),
      Promise.all(tables.map((table) => step('listTags', activities.listTags, { table }))),
    ]);
    reads.catch(() => undefined);
    await checked;
    const [described, , [jobs], points, tagsOf] = await reads;
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
  /**
   * After the stop (workflows/restore-after-stop.ts): the writers and the savepoint's files, read
   * beside the wait for today's tag (started by the caller); the tags that wait read.
   */
  const readsAfterStop = (pointPath: string) =>
    Promise.all([step('findTableJobs', activities.findTableJobs, { tables }), step('inspectSavepoint', activities.inspectSavepoint, { path: pointPath })]);
  const afterStop = async (before: TablePlan[], reads: ReturnType<typeof readsAfterStop>, tagsOf: Record<string, TagInfo[]>): Promise<TablePlan[]> => {
    const [jobs, files] = await reads;
    const others = jobs.filter((j) => j.jobId !== oldJobId && j.writes.length > 0);
    if (others.length > 0) throw new Error(`other jobs write the sink tables: ${others.map((j) => j.name).join(', ')}`);
    if (!files.exists || files.savepointId !== a.savepointId) throw new Error(`savepoint files at ${a.path}: ${JSON.stringify(files)}`);
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
    // As workflows/restore.ts: the approvers' keys read beside the first plan.
    const [, approved] = await Promise.all([step('awaitApproverKeys', approverKeys.awaitApproverKeys, { maxWaitMs: APPROVER_KEYS_MAX_WAIT_MS }), plan()]);
    // (the approval, given at once)
    // As workflows/restore-replan.ts: the parallelism the restored job keeps, read beside the plan made again.
    const [replanned] = await Promise.all([plan(), step('jobParallelism', activities.jobParallelism, { jobId: oldJobId })]);
    if (!sameTags(approved, replanned)) throw new Error('the plan changed between approval and re-planning');
    // As workflows/prepare-cluster.ts: the restored version's SQL session set up beside the stop.
    const deployToken = `bench/${jobName}/direct/${Date.now()}`;
    const prepare = { deployment: p.v1, deployToken, savepointPath: a.path, allowNonRestoredState: false };
    const preparing = step('prepareVersion', activities.prepareVersion, prepare).catch(() => undefined);
    const savepoint = await step('stopWithSavepoint', activities.stopWithSavepoint, { jobId: oldJobId, triggerId: hex(16), drain: false });
    result.todaysSavepointPath = savepoint.path;
    const todaysTag = tagFor(savepoint.savepointId);
    const reads = readsAfterStop(a.path);
    reads.catch(() => undefined);
    // With what each rollback will delete, as workflows/restore-stop.ts reads it.
    const { missing, tags, newer } = await step('awaitTag', activities.awaitTag, {
      tables,
      tag: todaysTag,
      timeoutMs: RESTORE_TIMEOUTS.tagMs,
      withTags: true,
      newerThanTag: a.tag,
    });
    if (missing.length > 0) throw new Error(`tag ${todaysTag} missing on ${missing.join(', ')}`);
    await preparing;
    const held = await afterStop(approved, reads, tags!);
    if (!sameTags(approved, held)) throw new Error('the plan changed after the writer stopped');
    // Today's tag must be on a snapshot at least as new as the latest one before the stop.
    const stale = held.filter((t, i) => (t.newerTags.find((n) => n.tag === todaysTag)?.snapshotId ?? -1) < (approved[i]!.latestSnapshotId ?? 0));
    if (stale.length > 0) throw new Error(`tag ${todaysTag} is stale on ${stale.map((t) => t.table).join(', ')}`);

    const undo = `before_restore_${hex(4)}`;
    // As workflows/restore-undo.ts makes them: every table's undo branch at once, from today's tag.
    await Promise.all(held.map((t) => step('createBranch', activities.createBranch, { table: t.table, branch: undo, tag: todaysTag })));
    // Every table rolled back at once, each checked after its own rollback from the state the
    // rollback's activity read (workflows/restore-rollback.ts; tableState only when that read failed).
    await Promise.all(
      approved.map(async (t) => {
        // With the count of what it deleted, as workflows/restore.ts asks for it.
        // Given the count read with today's tag when that read saw today's tag on the latest snapshot (workflows/restore-after-stop.ts' rollbackCounts).
        const h = held.find((x) => x.table === t.table)!;
        const n = newer?.[t.table];
        const todays = h.newerTags.find((x) => x.tag === todaysTag);
        const before =
          n && n.latestSnapshotId !== null && n.latestSnapshotId === todays?.snapshotId
            ? { latestSnapshotId: n.latestSnapshotId, snapshotsNewer: n.newerSnapshots, tagsNewer: h.newerTags.map((x) => x.tag) }
            : undefined;
        const done = await step('rollbackToTag', activities.rollbackToTag, { table: t.table, tag: a.tag, count: true, readAfter: true, ...(before ? { before } : {}) });
        const state = (done ? done.after : undefined) ?? (await step('tableState', activities.tableState, { table: t.table }));
        const mismatch = rollbackMismatch(t, state);
        if (mismatch.length > 0) throw new Error(`after rollback_to ${t.table} is not at tag ${a.tag}: ${mismatch.join('; ')}`);
      }),
    );
    // As workflows/restore-lost-points.ts does after the rollback, beside the deploy: the deleted savepoint tags' records go lost.
    const tagsDeleted = held.flatMap((t) =>
      t.newerTags.filter((n) => /^savepoint-\d+$/.test(n.tag)).map((n) => ({ table: t.table, tag: n.tag, snapshotId: n.snapshotId })),
    );
    const marking =
      tagsDeleted.length > 0
        ? step('markRestorePointsLost', activities.markRestorePointsLost, { jobName, tagsDeleted, deletedBy: `rollback_to ${a.tag} by the bench`, at: new Date().toISOString() }).catch(
            () => undefined,
          )
        : undefined;
    try {
      await deployAndCheck(p, a, result, step, deployToken);
    } finally {
      await marking;
    }
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  }
  result.wallMs = Date.now() - t0;
  return judged(result, a, ended.stopWithSavepoint, ended.awaitHealthy);
}
