// Whether an approval still holds: what changed between the plan that was approved and one made
// again, and whether the tag of today's savepoint is the stop's own.
import { patched } from '@temporalio/workflow';
import type { RestorePlan } from './restore-plan-types';

/** Histories recorded before this patch re-asked forever once a plan made after the stop was approved. */
const TODAYS_TAG_EXPECTED_IN_BOTH_PLANS = 'todays-tag-expected-in-both-plans';

/**
 * What changed between the plan that was approved and the one made now, in words; empty when
 * the approval still holds. While a writer runs, its own commits move the latest snapshot and row
 * count: those count only when nothing should be writing. The writer this restore stopped, and
 * the tag of its savepoint, are expected changes.
 */
export function planChanges(approved: RestorePlan, now: RestorePlan): string[] {
  // Before this patch a plan made after the stop, approved, saw today's tag as gone at its re-check.
  const todaysTagInBoth = patched(TODAYS_TAG_EXPECTED_IN_BOTH_PLANS);
  const changes: string[] = [];
  const a = approved.restorePoint;
  const b = now.restorePoint;
  if (a.savepointId !== b.savepointId || a.path !== b.path) {
    changes.push(`the restore point is now ${b.tag} at ${b.path} (was ${a.tag} at ${a.path})`);
  }
  const stoppedByUs = now.writer.stoppedByRestore === true;
  if (!stoppedByUs && (approved.writer.jobId !== now.writer.jobId || approved.writer.action !== now.writer.action)) {
    changes.push(
      `the writer is now ${now.writer.jobId ?? 'none'} (${now.writer.state ?? 'not running'}, ${now.writer.action}); ` +
        `was ${approved.writer.jobId ?? 'none'} (${approved.writer.state ?? 'not running'}, ${approved.writer.action})`,
    );
  }
  const expectedTag = now.writer.stoppedWithSavepoint?.tag;
  // Nothing writes: no writer when the plan was approved, or the one this restore stopped before.
  const wasQuiet = approved.writer.action === 'none';
  for (const before of approved.tables) {
    const after = now.tables.find((t) => t.table === before.table);
    if (!after) continue;
    if (before.tagSnapshotId !== after.tagSnapshotId || before.tagSchemaId !== after.tagSchemaId || before.recordsAtTag !== after.recordsAtTag) {
      changes.push(`${before.table}: tag ${b.tag} moved from snapshot ${before.tagSnapshotId} to ${after.tagSnapshotId}`);
    }
    const key = (t: { tag: string; snapshotId: number }) => `${t.tag}@${t.snapshotId}`;
    // Today's tag is in every plan made after the stop, and in none before it.
    const was = new Set(before.tagsDeleted.filter((t) => !todaysTagInBoth || t.tag !== expectedTag).map(key));
    const is = new Set(after.tagsDeleted.filter((t) => t.tag !== expectedTag).map(key));
    const appeared = [...is].filter((k) => !was.has(k));
    const vanished = [...was].filter((k) => !is.has(k));
    if (appeared.length > 0) changes.push(`${before.table}: new tag(s) the rollback would delete: ${appeared.join(', ')}`);
    if (vanished.length > 0) changes.push(`${before.table}: tag(s) gone since the plan: ${vanished.join(', ')}`);
    if (wasQuiet && before.latestSnapshotId !== after.latestSnapshotId) {
      changes.push(`${before.table}: latest snapshot moved from ${before.latestSnapshotId} to ${after.latestSnapshotId} with no writer running`);
    }
  }
  return changes;
}

/**
 * The tables whose tag of today's savepoint is not on a snapshot at least as new as the latest
 * one seen before the stop. Checkpoint ids restart at 1 for a freshly started job, and Paimon does
 * not tag a savepoint whose `savepoint-<id>` name is taken (docs/paimon-rollback.md): an old tag of
 * that name says nothing about the stop's final commit.
 */
export function staleSavepointTag(before: RestorePlan, after: RestorePlan, tag: string): string[] {
  return before.tables.flatMap((b) => {
    const found = after.tables.find((t) => t.table === b.table)?.tagsDeleted.find((t) => t.tag === tag);
    if (found && found.snapshotId >= (b.latestSnapshotId ?? 0)) return [];
    const where = found ? `snapshot ${found.snapshotId}` : `a snapshot not newer than the restore point's tag`;
    return [`${b.table} (${where}; the table was at snapshot ${b.latestSnapshotId} before the stop)`];
  });
}
