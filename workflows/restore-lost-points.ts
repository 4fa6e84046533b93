// The restore points a rollback deletes leave the table's timeline: `rollback_to` deletes every
// newer tag, and the restored run counts checkpoint ids on from the restore point, so the next
// savepoints take those ids again. Their records are moved aside as lost (kept, with why), so the
// catalog neither offers them nor refuses the new savepoints of the same ids. Marked beside the
// restored job's deploy (startMarkingLostPoints says why nothing can take the ids meanwhile).
import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import { restCall } from './activity-options';
import type { Progress } from './progress';
import type { RestorePlan, RestoreStatus } from './restore-messages';
import { messageOf } from './saga';

const { markRestorePointsLost } = proxyActivities<Activities>(restCall);

/** Histories recorded before this patch left the deleted points' records as they were. */
const RESTORE_MARKS_LOST_POINTS = 'restore-marks-lost-points';
/** Histories recorded before this patch marked the lost points before the deploy, not beside it. */
const LOST_POINTS_BESIDE_DEPLOY = 'restore-marks-lost-points-beside-deploy';

type LostPoints = Pick<RestoreStatus, 'restorePointsMarkedLost' | 'restorePointsNotMarkedLost'>;

/**
 * Starts marking the points the rollback lost (markLostRestorePoints) and notes the outcome in the
 * status once it is there; `marked` never fails, and the restore must await it before it ends.
 *
 * It runs beside the deploy of the restored job: nothing can take a deleted point's id meanwhile.
 * The restored job counts checkpoint ids on from the restore point's (Flink's CheckpointCoordinator
 * restores a savepoint of id n and counts on from n + 1), so its checkpoints do reuse the deleted
 * ids, but a checkpoint is no restore point: only our workflows record one (recordRestorePoint, by
 * a savepoint or an upgrade), each under the job's operation id (operation-id.ts), which this
 * restore holds until it ends, and it ends only after `marked`. Even so, a record created after the
 * rollback (`at`) is left alone (markRestorePointsLost), and a savepoint recorded later under a
 * lost point's id moves that older record aside itself (recordRestorePoint).
 */
export async function startMarkingLostPoints(plan: RestorePlan, progress: Progress<RestoreStatus>): Promise<{ marked: Promise<void> }> {
  const marked = markLostRestorePoints(plan).then((lost) => progress.note(lost));
  if (!patched(LOST_POINTS_BESIDE_DEPLOY)) await marked;
  return { marked };
}

/**
 * Marks the records of the `savepoint-<id>` tags the rollback deleted (per table, from the plan the
 * rollback acted on) as lost. Never fails: what could not be marked is reported, and the restore goes on.
 */
export function markLostRestorePoints(plan: RestorePlan): Promise<LostPoints> {
  if (!patched(RESTORE_MARKS_LOST_POINTS)) return Promise.resolve({});
  const tagsDeleted = plan.tables.flatMap((t) =>
    t.tagsDeleted.filter((d) => t.restorePointsLost.includes(d.tag)).map((d) => ({ table: t.table, ...d })),
  );
  if (tagsDeleted.length === 0) return Promise.resolve({});
  return markRestorePointsLost({
    jobName: plan.job,
    tagsDeleted,
    deletedBy: `rollback_to ${plan.restorePoint.tag} by restore ${workflowInfo().workflowId}`,
    at: new Date().toISOString(),
  }).then(
    ({ lost }): LostPoints => ({ restorePointsMarkedLost: lost }),
    (err: unknown): LostPoints => ({ restorePointsNotMarkedLost: messageOf(err) }),
  );
}
