// Which restore points retention deletes: a pure function of the catalog listing, the policy and
// the time, so the whole decision table is unit-tested without Temporal, Flink or Paimon.
import { humanDuration } from './durations';
import type { RestorePoint } from './restore-points';
import type { PointInUse, RetentionDecision, RetentionPolicy } from './retention-input';

type Policy = Pick<RetentionPolicy, 'keepLast' | 'maxAge'> & {
  pendingGrace?: number;
  /** Absent: an upgrade's pin is held for good, like a person's (runs recorded before the lifecycle). */
  upgradePins?: { keepAfter: number; minAge: number };
  /** Keep the newest point when none is restorable (absent in runs recorded before this rule). */
  keepOneWhenNoneRestorable?: boolean;
};

const createdMs = (p: RestorePoint): number => (p.createdAt === null ? Number.NaN : Date.parse(p.createdAt));

/** Newest first; savepoint ids break ties (they grow within a job). */
const newestFirst = (a: RestorePoint, b: RestorePoint): number =>
  createdMs(b) - createdMs(a) || b.savepointId - a.savepointId;

/** Whether an upgrade's pin still holds its point, and the figures that say why. */
function upgradePinHold(p: RestorePoint, all: readonly RestorePoint[], rule: NonNullable<Policy['upgradePins']>, now: number) {
  const since = createdMs(p);
  // Lost points count too: a restore that rolled the tables back does not undo that upgrades ran.
  const later = all.filter((o) => o.recorded && o.upgrade?.outcome === 'succeeded' && createdMs(o) > since).length;
  const age = now - since;
  const detail =
    `${later} later successful upgrade(s) of ${rule.keepAfter} needed, ` +
    `${Number.isNaN(age) ? 'age unknown' : humanDuration(Math.max(0, Math.round(age / 60_000) * 60_000))} old of ${humanDuration(rule.minAge)}`;
  return { held: later < rule.keepAfter || !(age >= rule.minAge), detail };
}

/**
 * One decision per point, newest first. A point is kept if any rule keeps it, in this order:
 * - `unrecorded`: a `savepoint-<id>` tag with no record of ours (someone's savepoint taken with
 *   Flink's own CLI): retention manages only what our workflows recorded.
 * - `lost`: a point of an older timeline (a restore's rollback deleted its tag, or a later savepoint
 *   with the same id made it again). Kept: its savepoint may still be wanted by hand, and deleting it
 *   by savepoint id (`savepoint-<id>` tag, record) would hit the current timeline's point of that id.
 * - `in-use`: an operation in flight uses it (a restore's planned point, an upgrade's savepoint).
 * - `pinned`: a person's pin, never deleted; pinned points do not count towards keepLast.
 * - `upgrade-in-flight`: pinned by an upgrade that has not ended.
 * - `upgrade-pin`: pinned by an upgrade, and the job has had fewer than `upgradePins.keepAfter`
 *   later successful upgrades or the point is younger than `upgradePins.minAge`. Past both, the
 *   pin lets go and the rules below decide (`upgrade-pin-expired` when none keeps it).
 * - `newest-restorable`: whatever the policy says, the newest restorable point stays.
 * - `none-restorable`: when no point is restorable, the newest one that may still be (not being
 *   deleted, not known never to be tagged) stays: a job whose every point looks broken is more
 *   likely misread (wrong tables, a catalog that answers for other tables) than worthless.
 * - `keep-last`: among the newest `keepLast` restorable points no pin holds.
 * - `max-age`: restorable and younger than `maxAge`.
 * - `pending`: not restorable yet but younger than `pendingGrace`, since an intermediate
 *   savepoint's tag appears only after the job's next checkpoint.
 * Everything else is deleted: `expired` (restorable, outside the rules), `not-restorable` (tag or
 * files missing past the grace period: a tag that did not come with the next checkpoint will not
 * come, and files once gone do not return), `never-tagged` or `expiring` (a deletion that an
 * earlier run started; such a point is never restorable again, so it is always finished).
 */
export function decideRetention(
  points: readonly RestorePoint[],
  policy: Policy,
  now: number,
  inUse: readonly PointInUse[] = [],
): RetentionDecision[] {
  const sorted = [...points].sort(newestFirst);
  const managed = sorted.filter((p) => p.recorded && !p.lost);
  const newestRestorable = managed.find((p) => p.restorable);
  const lastHope =
    newestRestorable === undefined && policy.keepOneWhenNoneRestorable ? managed.find((p) => !p.expiring && !p.neverTagged) : undefined;
  const used = (p: RestorePoint) => inUse.find((u) => u.savepointId === p.savepointId && (u.path === undefined || p.path === null || u.path === p.path));

  const holds = new Map<RestorePoint, { reason: 'pinned' | 'upgrade-in-flight' | 'upgrade-pin'; detail?: string } | { released: string }>();
  for (const p of managed) {
    if (!p.pinned) continue;
    if (p.pinnedBy !== 'upgrade' || !policy.upgradePins) holds.set(p, { reason: 'pinned' });
    else if (p.upgrade?.outcome !== 'succeeded' && p.upgrade?.outcome !== 'failed') holds.set(p, { reason: 'upgrade-in-flight' });
    else {
      const { held, detail } = upgradePinHold(p, points, policy.upgradePins, now);
      holds.set(p, held ? { reason: 'upgrade-pin', detail } : { released: detail });
    }
  }
  const held = (p: RestorePoint) => {
    const h = holds.get(p);
    return h !== undefined && 'reason' in h;
  };
  const keptByCount = new Set(
    managed
      .filter((p) => p.restorable && !held(p))
      .slice(0, policy.keepLast ?? 0)
      .map((p) => p.savepointId),
  );
  const grace = policy.pendingGrace ?? 0;

  return sorted.map((p): RetentionDecision => {
    const decide = (action: RetentionDecision['action'], reason: RetentionDecision['reason'], detail?: string): RetentionDecision => ({
      savepointId: p.savepointId,
      action,
      reason,
      ...(detail ? { detail } : {}),
    });
    const age = now - createdMs(p);

    if (!p.recorded) return decide('keep', 'unrecorded');
    if (p.lost) return decide('keep', 'lost');
    const use = used(p);
    if (use) return decide('keep', 'in-use', use.by);
    const hold = holds.get(p);
    if (hold && 'reason' in hold) return decide('keep', hold.reason, hold.detail);
    if (p.expiring) return decide('delete', 'expiring');
    if (p === newestRestorable) return decide('keep', 'newest-restorable');
    if (p === lastHope) return decide('keep', 'none-restorable');
    if (keptByCount.has(p.savepointId)) return decide('keep', 'keep-last');
    if (p.restorable && policy.maxAge !== undefined && age <= policy.maxAge) return decide('keep', 'max-age');
    if (hold) return decide('delete', 'upgrade-pin-expired', hold.released);
    if (!p.restorable && p.neverTagged) return decide('delete', 'never-tagged');
    if (!p.restorable && age < grace) return decide('keep', 'pending');
    return decide('delete', p.restorable ? 'expired' : 'not-restorable');
  });
}
