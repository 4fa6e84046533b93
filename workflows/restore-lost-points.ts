// The restore points a rollback deletes leave the table's timeline: `rollback_to` deletes every
// newer tag, and the restored run counts checkpoint ids on from the restore point, so the next
// savepoints take those ids again. Their records are moved aside as lost (kept, with why), so the
// catalog neither offers them nor refuses the new savepoints of the same ids.
import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import { restCall } from './activity-options';
import type { RestorePlan, RestoreStatus } from './restore-messages';
import { messageOf } from './saga';

const { markRestorePointsLost } = proxyActivities<Activities>(restCall);

/** Histories recorded before this patch left the deleted points' records as they were. */
const RESTORE_MARKS_LOST_POINTS = 'restore-marks-lost-points';

type LostPoints = Pick<RestoreStatus, 'restorePointsMarkedLost' | 'restorePointsNotMarkedLost'>;

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
