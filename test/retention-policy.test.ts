import { describe, expect, it } from 'vitest';
import type { RestorePoint, UpgradeOfPoint } from '../src/domain/restore-points';
import { RetentionPolicySchema } from '../src/domain/retention-input';
import { decideRetention } from '../src/domain/retention-policy';
import { point as fakePoint } from './support/restore-point-fakes';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const MIN = 60_000;
const DAY = 24 * 60 * MIN;

/** A recorded, restorable point of the demo job `ageMs` old at NOW; override what a row needs. */
const point = (savepointId: number, ageMs: number, over: Partial<RestorePoint> = {}): RestorePoint =>
  fakePoint(savepointId, ageMs, { jobName: 'paimon-demo', deploymentVersion: 'v1', ...over }, NOW);

const broken = { restorable: false, tables: { 'demo.seq_a': 'present', 'demo.seq_b': 'missing' } } as const;
const filesGone = { restorable: false, savepointPresent: false } as const;

type Row = {
  name: string;
  points: RestorePoint[];
  policy: {
    keepLast?: number;
    maxAge?: number;
    pendingGrace?: number;
    upgradePins?: { keepAfter: number; minAge: number };
    keepOneWhenNoneRestorable?: boolean;
  };
  inUse?: { savepointId: number; path?: string; by: string }[];
  /** savepoint id -> expected action:reason */
  expect: Record<number, string>;
};

/** A point of an older timeline: a restore's rollback deleted its tag (or a new savepoint made it again). */
const lost = {
  restorable: false,
  tables: { 'demo.seq_a': 'missing', 'demo.seq_b': 'missing' },
  lost: { since: '2026-02-01T00:00:00.000Z', reason: 'tag deleted by rollback_to' },
} as const;

const rows: Row[] = [
  {
    name: 'no point restorable: the newest that may still be is kept (not one being deleted or never tagged)',
    points: [
      point(1, 30 * DAY, broken),
      point(2, 20 * DAY, filesGone),
      point(3, 10 * DAY, broken),
      point(4, 2 * DAY, { ...broken, neverTagged: 'its job ended before the next checkpoint' }),
      point(5, DAY, { restorable: false, expiring: true }),
    ],
    policy: { keepLast: 2, pendingGrace: 0, keepOneWhenNoneRestorable: true },
    expect: { 5: 'delete:expiring', 4: 'delete:never-tagged', 3: 'keep:none-restorable', 2: 'delete:not-restorable', 1: 'delete:not-restorable' },
  },
  {
    name: 'no point restorable, in runs before that rule: every one is deleted',
    points: [point(1, 30 * DAY, broken), point(2, 20 * DAY, filesGone), point(3, 10 * DAY, broken)],
    policy: { keepLast: 2, pendingGrace: 0 },
    expect: { 3: 'delete:not-restorable', 2: 'delete:not-restorable', 1: 'delete:not-restorable' },
  },
  {
    name: 'one point restorable: the rule keeps nothing more',
    points: [point(1, 30 * DAY), point(2, 20 * DAY, broken), point(3, 10 * DAY, broken)],
    policy: { keepLast: 1, pendingGrace: 0, keepOneWhenNoneRestorable: true },
    expect: { 3: 'delete:not-restorable', 2: 'delete:not-restorable', 1: 'keep:newest-restorable' },
  },
  {
    name: 'lost points are kept at any age, even with their files gone, and never count as restorable',
    points: [point(1, 30 * DAY, lost), point(2, 20 * DAY, { ...lost, savepointPresent: false }), point(3, 10 * DAY), point(4, DAY), point(5, MIN, lost)],
    policy: { keepLast: 1, pendingGrace: 0 },
    expect: { 5: 'keep:lost', 4: 'keep:newest-restorable', 3: 'delete:expired', 2: 'keep:lost', 1: 'keep:lost' },
  },
  {
    name: 'keepLast keeps the newest N restorable points',
    points: [point(1, 3 * DAY), point(2, 2 * DAY), point(3, DAY), point(4, MIN)],
    policy: { keepLast: 2 },
    expect: { 4: 'keep:newest-restorable', 3: 'keep:keep-last', 2: 'delete:expired', 1: 'delete:expired' },
  },
  {
    name: 'maxAge keeps what is younger, deletes the rest',
    points: [point(1, 10 * DAY), point(2, 5 * DAY), point(3, DAY)],
    policy: { maxAge: 7 * DAY },
    expect: { 3: 'keep:newest-restorable', 2: 'keep:max-age', 1: 'delete:expired' },
  },
  {
    name: 'keepLast and maxAge: a point is kept if either rule keeps it',
    points: [point(1, 10 * DAY), point(2, 9 * DAY), point(3, 2 * DAY), point(4, DAY)],
    policy: { keepLast: 1, maxAge: 3 * DAY },
    expect: { 4: 'keep:newest-restorable', 3: 'keep:max-age', 2: 'delete:expired', 1: 'delete:expired' },
  },
  {
    name: 'the newest restorable point stays even when every rule would drop it',
    points: [point(1, 30 * DAY), point(2, 20 * DAY)],
    policy: { maxAge: DAY },
    expect: { 2: 'keep:newest-restorable', 1: 'delete:expired' },
  },
  {
    name: 'the newest restorable point stays when newer points are broken',
    points: [point(1, 30 * DAY), point(2, 20 * DAY), point(3, 10 * DAY, broken), point(4, 5 * DAY, filesGone)],
    policy: { keepLast: 1 },
    expect: { 4: 'delete:not-restorable', 3: 'delete:not-restorable', 2: 'keep:newest-restorable', 1: 'delete:expired' },
  },
  {
    name: 'pinned points are never deleted and do not count towards keepLast',
    points: [point(1, 40 * DAY, { pinned: true }), point(2, 3 * DAY), point(3, 2 * DAY, { pinned: true }), point(4, DAY)],
    policy: { keepLast: 2 },
    expect: { 4: 'keep:newest-restorable', 3: 'keep:pinned', 2: 'keep:keep-last', 1: 'keep:pinned' },
  },
  {
    name: 'a pinned point that is not restorable is kept too',
    points: [point(1, 40 * DAY, { ...broken, pinned: true }), point(2, DAY)],
    policy: { keepLast: 1 },
    expect: { 2: 'keep:newest-restorable', 1: 'keep:pinned' },
  },
  {
    name: 'broken points do not count towards keepLast',
    points: [point(1, 4 * DAY), point(2, 3 * DAY, broken), point(3, 2 * DAY)],
    policy: { keepLast: 2 },
    expect: { 3: 'keep:newest-restorable', 2: 'delete:not-restorable', 1: 'keep:keep-last' },
  },
  {
    name: 'a fresh point whose tag has not appeared yet is pending, within the grace period',
    points: [point(1, DAY), point(2, 2 * MIN, broken), point(3, 20 * MIN, broken)],
    policy: { keepLast: 1, pendingGrace: 15 * MIN },
    expect: { 2: 'keep:pending', 3: 'delete:not-restorable', 1: 'keep:newest-restorable' },
  },
  {
    name: "a fresh point whose tag will never come (its job ended before its next checkpoint) is not pending: it goes",
    points: [point(1, DAY), point(2, 2 * MIN, { ...broken, neverTagged: 'never tagged: job x is CANCELED' }), point(3, 3 * MIN, broken)],
    policy: { keepLast: 1, pendingGrace: 15 * MIN },
    expect: { 2: 'delete:never-tagged', 3: 'keep:pending', 1: 'keep:newest-restorable' },
  },
  {
    name: 'maxAge keeps restorable points only: a young broken point past the grace period goes',
    points: [point(1, 2 * DAY), point(2, DAY, broken), point(3, DAY, filesGone), point(4, 3 * MIN)],
    policy: { maxAge: 7 * DAY, pendingGrace: 15 * MIN },
    expect: { 4: 'keep:newest-restorable', 3: 'delete:not-restorable', 2: 'delete:not-restorable', 1: 'keep:max-age' },
  },
  {
    name: 'a point an earlier run started deleting is always finished, whatever its age',
    points: [point(1, 2 * DAY), point(2, MIN, { restorable: false, expiring: true })],
    policy: { maxAge: 7 * DAY, pendingGrace: 15 * MIN },
    expect: { 2: 'delete:expiring', 1: 'keep:newest-restorable' },
  },
  {
    name: 'unrecorded tags (e.g. an upgrade savepoint) are left alone and are not the newest restorable',
    points: [point(1, 2 * DAY), point(9, 0, { recorded: false, createdAt: null, path: null })],
    policy: { keepLast: 1 },
    expect: { 9: 'keep:unrecorded', 1: 'keep:newest-restorable' },
  },
  {
    name: 'nothing restorable at all: broken points past the grace period go, pinned stay',
    points: [point(1, 2 * DAY, filesGone), point(2, DAY, { ...broken, pinned: true })],
    policy: { keepLast: 3 },
    expect: { 2: 'keep:pinned', 1: 'delete:not-restorable' },
  },
  {
    name: 'equal creation times: the higher savepoint id is the newer',
    points: [point(5, DAY), point(6, DAY)],
    policy: { keepLast: 1, maxAge: MIN },
    expect: { 6: 'keep:newest-restorable', 5: 'delete:expired' },
  },
  { name: 'no points, no decisions', points: [], policy: { keepLast: 1 }, expect: {} },
  {
    name: "an upgrade's pin holds until enough later successful upgrades AND the age; failed upgrades do not count",
    points: [
      upgradePoint(1, 60 * DAY, 'succeeded'), // three later successful upgrades (3, 5, 6), 60 days old: released
      upgradePoint(2, 50 * DAY, 'failed'), // later successful: 3, 5, 6: released too, failed or not
      upgradePoint(3, 40 * DAY, 'succeeded'), // later successful: 5, 6: held
      upgradePoint(4, 35 * DAY, 'failed'),
      upgradePoint(5, 20 * DAY, 'succeeded'),
      upgradePoint(6, 10 * DAY, 'succeeded'),
      point(7, DAY),
    ],
    policy: { keepLast: 1, upgradePins: { keepAfter: 3, minAge: 30 * DAY } },
    expect: {
      7: 'keep:newest-restorable',
      6: 'keep:upgrade-pin',
      5: 'keep:upgrade-pin',
      4: 'keep:upgrade-pin',
      3: 'keep:upgrade-pin',
      2: 'delete:upgrade-pin-expired',
      1: 'delete:upgrade-pin-expired',
    },
  },
  {
    name: "an upgrade's pin holds while the point is younger than minAge, however many upgrades came after",
    points: [upgradePoint(1, 5 * DAY, 'succeeded'), upgradePoint(2, 4 * DAY, 'succeeded'), upgradePoint(3, 3 * DAY, 'succeeded'), point(4, DAY)],
    policy: { keepLast: 1, upgradePins: { keepAfter: 1, minAge: 30 * DAY } },
    expect: { 4: 'keep:newest-restorable', 3: 'keep:upgrade-pin', 2: 'keep:upgrade-pin', 1: 'keep:upgrade-pin' },
  },
  {
    name: "a person's pin never expires, an upgrade in flight keeps its point, and without the lifecycle an upgrade's pin holds",
    points: [
      point(1, 400 * DAY, { pinned: true, pinnedBy: 'person' }),
      point(2, 300 * DAY, { pinned: true }), // a record from before pinnedBy: a person's
      upgradePoint(3, 200 * DAY, 'in-flight'),
      upgradePoint(4, 100 * DAY, 'succeeded'),
      upgradePoint(5, 90 * DAY, 'succeeded'),
      point(6, DAY),
    ],
    policy: { keepLast: 1, upgradePins: { keepAfter: 1, minAge: DAY } },
    expect: { 6: 'keep:newest-restorable', 5: 'keep:upgrade-pin', 4: 'delete:upgrade-pin-expired', 3: 'keep:upgrade-in-flight', 2: 'keep:pinned', 1: 'keep:pinned' },
  },
  {
    name: 'a released upgrade pin is an ordinary point: keep-last, max-age and newest-restorable still keep it',
    points: [upgradePoint(1, 90 * DAY, 'succeeded'), upgradePoint(2, 80 * DAY, 'succeeded'), upgradePoint(3, 70 * DAY, 'succeeded'), upgradePoint(4, 60 * DAY, 'succeeded')],
    policy: { keepLast: 2, upgradePins: { keepAfter: 1, minAge: DAY } },
    // 4 has no later upgrade: held. 3, 2 and 1 are released: the newest two of them are the keepLast 2.
    expect: { 4: 'keep:upgrade-pin', 3: 'keep:keep-last', 2: 'keep:keep-last', 1: 'delete:upgrade-pin-expired' },
  },
  {
    name: 'without the upgrade-pin rule (runs recorded before it) every pin holds',
    points: [upgradePoint(1, 90 * DAY, 'succeeded'), upgradePoint(2, 80 * DAY, 'succeeded'), point(3, DAY)],
    policy: { keepLast: 1 },
    expect: { 3: 'keep:newest-restorable', 2: 'keep:pinned', 1: 'keep:pinned' },
  },
  {
    name: 'a point an operation in flight uses is kept, matched by savepoint id and path (ids repeat across timelines)',
    points: [point(1, 30 * DAY), point(2, 20 * DAY), upgradePoint(3, 60 * DAY, 'succeeded'), point(4, DAY)],
    policy: { keepLast: 1, upgradePins: { keepAfter: 0, minAge: 0 } },
    inUse: [
      { savepointId: 1, path: 'file:/sp/savepoint-abcdef-1', by: 'restoreWorkflow flink-job/paimon-demo' },
      { savepointId: 2, path: 'file:/sp/savepoint-other-2', by: 'restoreWorkflow flink-job/paimon-demo' },
      { savepointId: 3, by: 'upgradeWorkflow flink-job/paimon-demo' },
    ],
    expect: { 4: 'keep:newest-restorable', 3: 'keep:in-use', 2: 'delete:expired', 1: 'keep:in-use' },
  },
];

/** The savepoint an upgrade stopped at, pinned by it, with how the upgrade ended. */
function upgradePoint(savepointId: number, ageMs: number, outcome: UpgradeOfPoint['outcome']): RestorePoint {
  return point(savepointId, ageMs, {
    pinned: true,
    pinnedBy: 'upgrade',
    label: outcome === 'failed' ? 'before failed upgrade to v2' : 'before upgrade to v2',
    upgrade: { fromVersion: 'v1', toVersion: 'v2', outcome },
  });
}

describe('decideRetention', () => {
  it.each(rows)('$name', ({ points, policy, inUse, expect: expected }) => {
    const decisions = decideRetention(points, policy, NOW, inUse);
    expect(Object.fromEntries(decisions.map((d) => [d.savepointId, `${d.action}:${d.reason}`]))).toEqual(
      Object.fromEntries(Object.entries(expected).map(([id, v]) => [id, v])),
    );
  });

  it('lists decisions newest first and does not reorder its input', () => {
    const points = [point(1, 3 * DAY), point(3, DAY), point(2, 2 * DAY)];
    const before = points.map((p) => p.savepointId);
    expect(decideRetention(points, { keepLast: 1 }, NOW).map((d) => d.savepointId)).toEqual([3, 2, 1]);
    expect(points.map((p) => p.savepointId)).toEqual(before);
  });

  it("says why an upgrade's pin holds or let go, in figures a person can check", () => {
    const points = [upgradePoint(1, 40 * DAY, 'succeeded'), upgradePoint(2, 20 * DAY, 'succeeded'), point(3, DAY)];
    const decisions = decideRetention(points, { keepLast: 1, upgradePins: { keepAfter: 1, minAge: 30 * DAY } }, NOW);
    expect(decisions.find((d) => d.savepointId === 1)).toEqual({
      savepointId: 1,
      action: 'delete',
      reason: 'upgrade-pin-expired',
      detail: '1 later successful upgrade(s) of 1 needed, 40d old of 30d',
    });
    expect(decisions.find((d) => d.savepointId === 2)?.detail).toBe('0 later successful upgrade(s) of 1 needed, 20d old of 30d');
  });

  it('never deletes the newest restorable point, over many random catalogs', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 500; round++) {
      const points = Array.from({ length: 1 + Math.floor(rand() * 8) }, (_, i) =>
        point(i + 1, Math.floor(rand() * 30 * DAY), {
          restorable: rand() > 0.3,
          pinned: rand() > 0.8,
          recorded: rand() > 0.1,
          ...(rand() > 0.6 ? { pinned: true, pinnedBy: 'upgrade' as const, upgrade: { fromVersion: 'v1', toVersion: 'v2', outcome: (['in-flight', 'succeeded', 'failed'] as const)[Math.floor(rand() * 3)]! } } : {}),
        }),
      );
      const policy = {
        keepLast: rand() > 0.5 ? 1 + Math.floor(rand() * 3) : undefined,
        maxAge: rand() > 0.5 ? DAY : undefined,
        upgradePins: { keepAfter: Math.floor(rand() * 3), minAge: rand() > 0.5 ? 0 : 10 * DAY },
      };
      const inUse = points.filter(() => rand() > 0.9).map((p) => ({ savepointId: p.savepointId, path: p.path!, by: 'an operation' }));
      const decisions = new Map(decideRetention(points, policy, NOW, inUse).map((d) => [d.savepointId, d]));
      const newest = points
        .filter((p) => p.recorded && p.restorable)
        .sort((a, b) => Date.parse(b.createdAt!) - Date.parse(a.createdAt!) || b.savepointId - a.savepointId)[0];
      if (newest) expect(decisions.get(newest.savepointId)?.action).toBe('keep');
      // A person's pin, an upgrade in flight, a point in use and an unrecorded tag are never deleted.
      const neverDeleted = (p: RestorePoint) =>
        !p.recorded || (p.pinned && p.pinnedBy !== 'upgrade') || p.upgrade?.outcome === 'in-flight' || inUse.some((u) => u.savepointId === p.savepointId);
      for (const p of points.filter(neverDeleted)) expect(decisions.get(p.savepointId)?.action).toBe('keep');
    }
  });
});

describe('RetentionPolicySchema', () => {
  it('takes durations as strings and fills in the grace period', () => {
    expect(RetentionPolicySchema.parse({ keepLast: 3, maxAge: '30d' })).toEqual({
      keepLast: 3,
      maxAge: 30 * DAY,
      pendingGrace: 15 * MIN,
      upgradePins: { keepAfter: 3, minAge: 30 * DAY },
    });
    expect(RetentionPolicySchema.parse({ keepLast: 1, upgradePins: { keepAfter: 0, minAge: '7d' } }).upgradePins).toEqual({ keepAfter: 0, minAge: 7 * DAY });
  });

  it('needs at least one keep rule, and rejects nonsense', () => {
    expect(RetentionPolicySchema.safeParse({}).success).toBe(false);
    expect(RetentionPolicySchema.safeParse({ keepLast: 0 }).success).toBe(false);
    expect(RetentionPolicySchema.safeParse({ maxAge: 'soon' }).success).toBe(false);
    expect(RetentionPolicySchema.safeParse({ keepLast: 1, extra: true }).success).toBe(false);
    expect(RetentionPolicySchema.safeParse({ keepLast: 1, upgradePins: { keepAfter: -1 } }).success).toBe(false);
    expect(RetentionPolicySchema.safeParse({ keepLast: 1, upgradePins: { minAge: 'soon' } }).success).toBe(false);
  });
});
