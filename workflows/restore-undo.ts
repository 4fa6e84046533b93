// The restore's undo, made before anything is deleted: a branch on every sink table, which
// survives rollback_to (docs/restore.md), from a tag on the table's latest snapshot.
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import { restCall } from './activity-options';
import { allAtMost, TABLES_AT_ONCE } from './fan-out';
import type { Progress } from './progress';
import type { RestorePlan, RestoreStatus } from './restore-messages';
import type { StoppedWriter } from './restore-stop';

const rest = proxyActivities<Activities>(restCall);

/** Histories recorded before this patch made the undo branches one table after another. */
const UNDO_BRANCHES_AT_ONCE = 'undo-branches-at-once';
/** Histories recorded before this patch made each undo branch from a tag of its own. */
const UNDO_FROM_TODAYS_TAG = 'undo-branch-from-todays-tag';

export interface UndoBranches {
  branch: string;
  /** the tag the branches were made from */
  tag: string;
  /** how to undo the restore by hand */
  instructions: string;
}

/**
 * Branches `undoName` on every table of `held` (the tables as they are once the approved plan held,
 * after the writer stopped); noted in the status with how to undo the restore (the plan's `undo`).
 */
export async function makeUndoBranches(
  held: RestorePlan,
  { undoName, undo, stopped }: { undoName: string; undo: string; stopped?: StoppedWriter },
  progress: Progress<RestoreStatus>,
): Promise<UndoBranches> {
  progress.enter('creating-undo-branches');
  // Today's tag is on every table's latest snapshot once the writer stopped (planAfterStop): the
  // branch is made from it, with no tag of its own. Behind patched: running restores replay.
  const fromTodaysTag = stopped?.savepoint && patched(UNDO_FROM_TODAYS_TAG) ? stopped.savepoint.tag : undefined;
  const tag = fromTodaysTag ?? undoName;
  const undoOf = async (t: RestorePlan['tables'][number]) => {
    if (!fromTodaysTag) await rest.createTag({ table: t.table, tag: undoName, snapshotId: t.latestSnapshotId ?? undefined });
    await rest.createBranch({ table: t.table, branch: undoName, tag });
  };
  // The job is down meanwhile, and each table's undo is its own: all tables at once.
  if (fromTodaysTag) await allAtMost(held.tables, TABLES_AT_ONCE, undoOf);
  else if (patched(UNDO_BRANCHES_AT_ONCE)) await Promise.all(held.tables.map(undoOf));
  else for (const t of held.tables) await undoOf(t);

  const todays = stopped?.savepoint;
  const branches = { branch: undoName, tag, instructions: undo + (todays ? ` Today's savepoint: ${todays.path}.` : '') };
  progress.note({ undo: branches });
  return branches;
}
