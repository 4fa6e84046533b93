// What a retention run takes (the job, its tables, the policy) and what it decides and reports.
// Pure zod: bundled into workflow code.
import { z } from 'zod';
import { duration } from './durations';
import { JobNameSchema } from './job-name';
import type { SkippedRun } from './running-operation';
import { lazySchema } from './lazy-schema';
import { TableRefSchema } from './model';

/** Retention keeps a point if any keep rule matches (like restic's --keep-last / --keep-within). */
export const RetentionPolicySchema = lazySchema(() =>
  z
    .object({
      /** Keep the newest N restorable points. */
      keepLast: z.number().int().positive().optional(),
      /** Keep restorable points younger than this. */
      maxAge: duration('maxAge').optional(),
      /**
       * A point that is not (yet) restorable but younger than this is kept: an intermediate
       * savepoint's tag appears only after the next checkpoint, so a fresh point may still be on its way.
       */
      pendingGrace: duration('pendingGrace', { min: 0 }).default(15 * 60_000),
      /**
       * The savepoints upgrades pin (the way back to before each upgrade, failed ones included) are
       * kept until the job has had `keepAfter` later successful upgrades AND the point is older than
       * `minAge`; then the rules above decide. A person's pin never expires.
       */
      upgradePins: z
        .object({
          keepAfter: z.number().int().nonnegative().default(3),
          minAge: duration('upgradePins.minAge', { min: 0 }).default(30 * 24 * 60 * 60_000),
        })
        .strict()
        .prefault({}),
    })
    .strict()
    .refine((p) => p.keepLast !== undefined || p.maxAge !== undefined, {
      message: 'a retention policy needs keepLast, maxAge or both',
    }),
);
/** Durations in milliseconds, defaults filled in. */
export type RetentionPolicy = z.output<typeof RetentionPolicySchema>;

export const RetentionInputSchema = lazySchema(() =>
  z
    .object({
      jobName: JobNameSchema,
      /** The sink tables to check tags on; by default those in the job's records. */
      tables: z.array(TableRefSchema).min(1).optional(),
      policy: RetentionPolicySchema,
      /** Decide and report, change nothing. */
      dryRun: z.boolean().default(false),
    })
    .strict(),
);
export type RetentionInput = z.input<typeof RetentionInputSchema>;
export type RetentionParams = z.output<typeof RetentionInputSchema>;

export type RetentionReason =
  | 'pinned'
  | 'upgrade-pin'
  | 'upgrade-in-flight'
  | 'in-use'
  | 'upgrade-pin-expired'
  | 'newest-restorable'
  | 'none-restorable'
  | 'keep-last'
  | 'max-age'
  | 'pending'
  | 'unrecorded'
  | 'lost'
  | 'expired'
  | 'not-restorable'
  | 'never-tagged'
  | 'expiring';

export interface RetentionDecision {
  savepointId: number;
  action: 'keep' | 'delete';
  reason: RetentionReason;
  /** For people: the figures behind the reason (e.g. an upgrade pin's later upgrades and age). */
  detail?: string;
}

/** A restore point an operation in flight uses (its plan's point, its savepoint): never deleted. */
export interface PointInUse {
  savepointId: number;
  path?: string;
  /** the operation, e.g. 'restoreWorkflow flink-job/paimon-demo' */
  by: string;
}

export interface RetentionResult {
  jobName: string;
  dryRun: boolean;
  decisions: RetentionDecision[];
  deleted: number[];
  failed: { savepointId: number; error: string }[];
  /** Points that operations in flight use, as found before deciding (kept whatever the policy says). */
  inUse?: PointInUse[];
  /** Set when it did not run: an upgrade or restore (or a savepoint) held the job; nothing was decided or deleted. */
  skipped?: SkippedRun;
}
