// Which restore points retention deletes: a pure function of the catalog listing, the policy and
// the time, so the whole decision table is unit-tested without Temporal, Flink or Paimon.
import type { RestorePoint, RetentionDecision, RetentionPolicy } from './restore-points';

type Policy = Pick<RetentionPolicy, 'keepLast' | 'maxAge'> & { pendingGrace?: number };

const createdMs = (p: RestorePoint): number => (p.createdAt === null ? Number.NaN : Date.parse(p.createdAt));

/** Newest first; savepoint ids break ties (they grow within a job). */
const newestFirst = (a: RestorePoint, b: RestorePoint): number =>
  createdMs(b) - createdMs(a) || b.savepointId - a.savepointId;

/**
 * One decision per point, newest first. A point is kept if any rule keeps it, in this order:
 * - `unrecorded`: a `savepoint-<id>` tag with no record of ours (an upgrade's or someone's manual
 *   savepoint): retention manages only what the savepoint workflow recorded.
 * - `lost`: a point of an older timeline (a restore's rollback deleted its tag, or a later savepoint
 *   with the same id made it again). Kept: its savepoint may still be wanted by hand, and deleting it
 *   by savepoint id (`savepoint-<id>` tag, record) would hit the current timeline's point of that id.
 * - `pinned`: never deleted; pinned points do not count towards keepLast.
 * - `newest-restorable`: whatever the policy says, the newest restorable point stays.
 * - `keep-last`: among the newest `keepLast` restorable, unpinned points.
 * - `max-age`: restorable and younger than `maxAge`.
 * - `pending`: not restorable yet but younger than `pendingGrace`, since an intermediate
 *   savepoint's tag appears only after the job's next checkpoint.
 * Everything else is deleted: `expired` (restorable, outside the rules), `not-restorable` (tag or
 * files missing past the grace period: a tag that did not come with the next checkpoint will not
 * come, and files once gone do not return) or `expiring` (a deletion that an earlier run started;
 * such a point is never restorable again, so it is always finished).
 */
export function decideRetention(points: readonly RestorePoint[], policy: Policy, now: number): RetentionDecision[] {
  const sorted = [...points].sort(newestFirst);
  const managed = sorted.filter((p) => p.recorded && !p.lost);
  const newestRestorable = managed.find((p) => p.restorable);
  const keptByCount = new Set(
    managed
      .filter((p) => p.restorable && !p.pinned)
      .slice(0, policy.keepLast ?? 0)
      .map((p) => p.savepointId),
  );
  const grace = policy.pendingGrace ?? 0;

  return sorted.map((p): RetentionDecision => {
    const keep = (reason: RetentionDecision['reason']): RetentionDecision => ({
      savepointId: p.savepointId,
      action: 'keep',
      reason,
    });
    const drop = (reason: RetentionDecision['reason']): RetentionDecision => ({
      savepointId: p.savepointId,
      action: 'delete',
      reason,
    });
    const age = now - createdMs(p);

    if (!p.recorded) return keep('unrecorded');
    if (p.lost) return keep('lost');
    if (p.pinned) return keep('pinned');
    if (p.expiring) return drop('expiring');
    if (p === newestRestorable) return keep('newest-restorable');
    if (keptByCount.has(p.savepointId)) return keep('keep-last');
    if (p.restorable && policy.maxAge !== undefined && age <= policy.maxAge) return keep('max-age');
    if (!p.restorable && p.neverTagged) return drop('never-tagged');
    if (!p.restorable && age < grace) return keep('pending');
    return drop(p.restorable ? 'expired' : 'not-restorable');
  });
}
