// After the writer stopped with a savepoint the job is down until the restored one runs. The
// whole plan was made again just before the stop, so what is read now is what the stop's few
// seconds could change: the tags on every table (today's tag came; the restore point's tag did not
// move; no other tag came or went), the jobs writing the tables, and the restore point's savepoint
// files. The tags are the ones the wait for today's tag read; the jobs and the files are read
// beside that wait. When anything differs, the whole plan is made again for a new approval.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import type { NewerSnapshots, RollbackCount, TableRef, TagInfo } from '../src/domain/model';
import { restCall } from './activity-options';
import { fatal } from './job-steps';
import { WorkflowFailureType } from './messages';
import type { RestoreParams } from './restore-input';
import type { RestorePlan, TableBlastRadius } from './restore-messages';
import { namedIn, observeTableUsers, otherWritersFailure, RESTORE_UNDER_OTHER_WRITERS, type TableUsers } from './table-users';

const rest = proxyActivities<Activities>(restCall);

/** Histories recorded before this patch made the whole plan again after the stop. */
export const CHECK_AFTER_STOP_ONLY_WHAT_IT_CHANGES = 'restore-checks-after-stop-what-the-stop-changes';

export interface StoppedWithSavepoint {
  jobId: string;
  savepoint: { savepointId: number; path: string; tag: string };
  /** every table's tags as the wait for today's tag read them (awaitTag withTags) */
  tagsAfterStop?: Record<TableRef, TagInfo[]>;
  /** in the same read: each table's latest snapshot and the count newer than the restore point's tag */
  newerAfterStop?: Record<TableRef, NewerSnapshots>;
}

/**
 * The plan that held just before the stop (`before`), as the tables are after it: each table's
 * latest snapshot is the one today's tag is on (the stop's final commit; a table without today's
 * tag keeps its latest from before, and `staleSavepointTag` refuses it).
 */
export async function planAfterStop(
  before: RestorePlan,
  stopped: StoppedWithSavepoint,
  params: RestoreParams,
  /** the reads of readAfterStop, when they started beside the wait for today's tag */
  startedReads?: Promise<AfterStopReads>,
): Promise<RestorePlan> {
  const tables = params.sinkTables;
  const { restorePoint } = before;
  const [tagsOf, { users, files }] = await Promise.all([
    stopped.tagsAfterStop ? Promise.resolve(stopped.tagsAfterStop) : rest.listTagsOfTables({ tables }),
    startedReads ?? readAfterStop(tables, stopped.jobId, restorePoint.path),
  ]);

  const otherWriters = users.otherWriters.filter((j) => !namedIn(params.options.notWriters)(j));
  if (otherWriters.length > 0) {
    throw otherWritersFailure(
      otherWriters,
      `this restore stopped job '${before.job}' (${stopped.jobId})`,
      RESTORE_UNDER_OTHER_WRITERS,
      "Nothing was rolled back; the writer this restore stopped is started again from today's savepoint.",
    );
  }
  if (!files.exists || files.savepointId !== restorePoint.savepointId) {
    const found = files.exists ? `it holds savepoint ${files.savepointId}, not ${restorePoint.savepointId}` : 'its files are gone';
    throw fatal(
      WorkflowFailureType.SavepointMissing,
      `restore point ${restorePoint.tag} cannot be restored: while the writer stopped, ${restorePoint.path} changed (${found}). ` +
        "Nothing was rolled back; the writer this restore stopped is started again from today's savepoint.",
    );
  }

  return {
    ...before,
    writer: { jobId: stopped.jobId, action: 'none', stoppedByRestore: true, stoppedWithSavepoint: { ...stopped.savepoint } },
    tables: before.tables.map((t) => radiusAfterStop(t, tagsOf[t.table] ?? [], restorePoint.tag, stopped.savepoint.tag)),
  };
}

/** What planAfterStop reads besides the tags: the jobs using the tables, and the restore point's savepoint files. */
export interface AfterStopReads {
  users: TableUsers;
  files: { savepointId: number; exists: boolean };
}

/**
 * The jobs using the tables and the restore point's files, read once the writer stopped. Neither
 * depends on today's tag, so they can be read while the restore waits for it (the job is down).
 */
export async function readAfterStop(tables: TableRef[], stoppedJobId: string, restorePointPath: string): Promise<AfterStopReads> {
  const [users, files] = await Promise.all([observeTableUsers(tables, stoppedJobId, false), rest.inspectSavepoint({ path: restorePointPath })]);
  return { users, files };
}

function radiusAfterStop(before: TableBlastRadius, tags: TagInfo[], tag: string, todaysTag: string): TableBlastRadius {
  const target = tags.find((t) => t.tagName === tag);
  // A restore point's tag that is gone shows as moved: the plan is made again and says so.
  const at = target?.snapshotId ?? -1;
  const newer = tags.filter((t) => t.snapshotId > at).sort((a, b) => a.snapshotId - b.snapshotId);
  const todays = tags.find((t) => t.tagName === todaysTag);
  return {
    ...before,
    tagSnapshotId: at,
    tagSchemaId: target?.schemaId ?? before.tagSchemaId,
    recordsAtTag: target?.recordCount ?? before.recordsAtTag,
    latestSnapshotId: todays && todays.snapshotId >= (before.latestSnapshotId ?? 0) ? todays.snapshotId : before.latestSnapshotId,
    tagsDeleted: newer.map((t) => ({ tag: t.tagName, snapshotId: t.snapshotId })),
    restorePointsLost: newer.map((t) => t.tagName).filter((name) => /^savepoint-\d+$/.test(name)),
  };
}

/**
 * What each table's rollback_to will delete, as the wait for today's tag read it, for the tables
 * where that read is whole: its latest snapshot is the one today's tag is on (the stop's final
 * commit was in it), and nothing is left writing the tables. Any other table is counted by its
 * rollback itself.
 */
export function rollbackCounts(after: RestorePlan, stopped: StoppedWithSavepoint): Record<TableRef, RollbackCount> {
  const counts: Record<TableRef, RollbackCount> = {};
  if ((after.otherWriters ?? []).length > 0) return counts;
  for (const t of after.tables) {
    const newer = stopped.newerAfterStop?.[t.table];
    const todays = stopped.tagsAfterStop?.[t.table]?.find((info) => info.tagName === stopped.savepoint.tag);
    if (!newer || newer.latestSnapshotId === null || newer.latestSnapshotId !== todays?.snapshotId) continue;
    counts[t.table] = { latestSnapshotId: newer.latestSnapshotId, snapshotsNewer: newer.newerSnapshots, tagsNewer: t.tagsDeleted.map((d) => d.tag) };
  }
  return counts;
}
