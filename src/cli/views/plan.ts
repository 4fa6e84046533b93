// A restore's plan and its per-table outcome, as people read them. Every part once: the plan's
// summary (for the Temporal UI's memo) is not repeated here, the undo is said once. Plans recorded
// by earlier releases lack some fields: those parts say "unknown" rather than "?".
import { RECORDS_MEANING, recordsText } from '../../domain/records';
import type { RestorePlan, TableBlastRadius, TableRollback } from '../../../workflows/restore-messages';

/** Whether the plan's figures can still move before the stop: the writer runs and commits until then. */
const writerStillRuns = (plan: RestorePlan) => plan.writer.action === 'stop-with-savepoint' && !plan.writer.stoppedWithSavepoint;

function writerLine(plan: RestorePlan): string {
  const w = plan.writer;
  if (w.stoppedWithSavepoint) {
    return `writer: job ${w.jobId ?? '-'} stopped by this restore with savepoint ${w.stoppedWithSavepoint.savepointId} (${w.stoppedWithSavepoint.tag})`;
  }
  if (w.stoppedByRestore) return `writer: job ${w.jobId ?? '-'} cancelled by this restore`;
  if (w.action === 'stop-with-savepoint') return `writer: stop job ${w.jobId} (${w.state}) with a savepoint: today's savepoint, kept as a restore point`;
  if (w.action === 'cancel') return `writer: cancel job ${w.jobId} (${w.state}: no savepoint possible)`;
  return 'writer: none running, nothing to stop';
}

/** One table's blast radius; figures that the running writer can still move are marked as estimates. */
export function planTableLine(t: TableBlastRadius, plan: RestorePlan): string {
  const estimate = writerStillRuns(plan);
  const tags = t.tagsDeleted ?? [];
  const lost = t.restorePointsLost ?? [];
  const snapshots = typeof t.snapshotsDeleted === 'number' ? `${estimate ? 'about ' : ''}${t.snapshotsDeleted} snapshot(s)` : 'snapshots: unknown';
  const todays = estimate ? ", plus today's savepoint tag" : '';
  const tagNames = tags.length > 0 ? ` (${tags.map((d) => d.tag).join(', ')})` : '';
  const records =
    t.recordsNow === undefined && t.recordsAtTag === undefined
      ? ''
      : `; ${t.recordsNow ?? 'unknown'} now, ${t.recordsAtTag ?? 'unknown'} at the tag (records in data files)`;
  return (
    `${t.table}: snapshot ${t.latestSnapshotId ?? 'none'} -> ${t.tagSnapshotId}; deletes ${snapshots} and ${tags.length} tag(s)${tagNames}${todays}` +
    `${lost.length > 0 ? `; restore points lost: ${lost.join(', ')}` : ''}${records}${estimate ? ' [estimate until the writer stops]' : ''}`
  );
}

/** The plan as the approver reads it: who stops, where to, what each table loses, readers, what cannot be undone, the undo. */
export function describePlan(plan: RestorePlan, options: { undo?: boolean } = {}): string {
  const rp = plan.restorePoint;
  return [
    `plan v${plan.version} for job '${plan.job}'${plan.plannedAt ? ` (made ${plan.plannedAt})` : ''}`,
    `  ${writerLine(plan)}`,
    `  restore point: savepoint ${rp.savepointId} (${rp.tag}) at ${rp.path}${rp.label ? ` '${rp.label}'` : ''}`,
    `  then start: ${plan.deploymentVersion ?? 'the deployment'} from that savepoint`,
    ...plan.tables.map((t) => `  ${planTableLine(t, plan)}`),
    ...(plan.otherWriters ?? []).flatMap((w) => [
      `  other writer: job '${w.name}' (${w.jobId}, ${w.state}) ${w.note}`,
      ...(w.rolledBack ?? []).map(
        (l) =>
          `    rollback takes from it on ${l.table}: ${l.snapshots} snapshot(s) (${l.compactions} compaction(s)), ${recordsText(l.records)} ` +
          `(snapshots ${l.tagSnapshotId + 1}..${l.upToSnapshotId}; ${l.basis})`,
      ),
    ]),
    ...(plan.readers ?? []).flatMap((r) => [
      `  reader of ${r.table}: ${r.job ? `job '${r.job.name}' (${r.job.jobId}, ${r.job.state})` : 'no running job'}` +
        `${r.consumerId ? `, consumer ${r.consumerId}` : ''}${r.nextSnapshotId !== undefined ? ` (next snapshot ${r.nextSnapshotId})` : ''}`,
      `    sees: ${r.sees}`,
      `    remedy: ${r.remedy}`,
    ]),
    ...(plan.irreversible ? [`  cannot be undone: ${plan.irreversible}`] : []),
    ...(options.undo !== false && plan.undo ? [`  undo: ${plan.undo}`] : []),
    ...(plan.requester ? [`  requested by: ${plan.requester.note}`] : []),
    ...(plan.digest ? [`  plan digest: ${plan.digest} (what an approval of plan v${plan.version} signs)`] : []),
    `  (${RECORDS_MEANING})`,
  ].join('\n');
}

/** What the rollback did to one table, as counted when it ran (older runs did not count: said so). */
export function rolledBackLine(t: TableRollback): string {
  if (!t.rolledBack) return `${t.table}: not rolled back`;
  const to = t.snapshotId !== undefined ? ` to snapshot ${t.snapshotId}` : '';
  const from = t.previousSnapshotId !== undefined ? ` from snapshot ${t.previousSnapshotId}` : '';
  const what =
    t.records !== undefined ? ` (${recordsText(t.records)})` : t.rowCount !== undefined ? ` (COUNT(*) ${t.rowCount}, checked by a release before metadata checks)` : '';
  const deleted =
    t.snapshotsDeleted !== undefined
      ? `; deleted ${t.snapshotsDeleted} snapshot(s) and ${(t.tagsDeleted ?? []).length} tag(s)${(t.tagsDeleted ?? []).length > 0 ? ` (${t.tagsDeleted!.join(', ')})` : ''}`
      : '';
  return `${t.table}: rolled back${from}${to}${what}${deleted}`;
}
