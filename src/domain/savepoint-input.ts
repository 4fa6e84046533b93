// What a savepoint run takes (the job, its tables, the restore point's options, retention after it)
// and what it reports. Pure zod: bundled into workflow code.
import { z } from 'zod';
import { duration } from './durations';
import { lazySchema } from './lazy-schema';
import { GivenDeploymentTargetSchema } from './deployment-target';
import { JobRefSchema, TableRefSchema, type TableRef } from './model';
import { RetentionPolicySchema, type RetentionResult } from './retention-input';
import type { SkippedRun } from './running-operation';

export const RestorePointOptionsSchema = lazySchema(() =>
  z
    .object({
      /** Pinned points are never deleted by retention. */
      pinned: z.boolean().default(false),
      label: z.string().min(1).max(256).optional(),
      /** The deployed version, when the caller knows it (e.g. "v2"). */
      deploymentVersion: z.string().min(1).max(64).optional(),
      /** How long to wait for `savepoint-<id>` on every table: it appears after the next checkpoint. */
      tagTimeout: duration('tagTimeout', { max: 60 * 60_000 }).default(120_000),
      /** How long Flink may take to write the savepoint. */
      savepointTimeout: duration('savepointTimeout', { max: 24 * 60 * 60_000 }).default(10 * 60_000),
      formatType: z.enum(['CANONICAL', 'NATIVE']).default('CANONICAL'),
    })
    .strict(),
);

export const TakeSavepointInputSchema = lazySchema(() =>
  z
    .object({
      job: JobRefSchema,
      /** where the job runs; left out, it is looked for in the session cluster and every application launch */
      target: GivenDeploymentTargetSchema.optional(),
      tables: z.array(TableRefSchema).min(1),
      options: RestorePointOptionsSchema.prefault({}),
      /** Run retention for the job after the savepoint is recorded (as a child workflow). */
      retention: RetentionPolicySchema.optional(),
    })
    .strict(),
);
/** What a caller writes (durations as strings, defaults left out). */
export type TakeSavepointInput = z.input<typeof TakeSavepointInputSchema>;
export type TakeSavepointParams = z.output<typeof TakeSavepointInputSchema>;

export interface TakeSavepointResult {
  jobName: string;
  jobId: string;
  savepointId: number;
  path: string;
  tag: string;
  restorable: boolean;
  /** Set when not restorable: which tables still lacked the tag when the wait ended. */
  reason?: string;
  missingTags: TableRef[];
  /** The retention run started after this savepoint, if the input asked for one. */
  retention?: RetentionResult;
  /** Why that retention run did not complete (the savepoint is recorded regardless). */
  retentionError?: string;
  /** When Paimon expires the savepoint's tag on the first of its tables (see RestorePoint.tagExpiresAt). */
  tagExpiresAt?: string;
  /** Set for a pinned savepoint whose tag Paimon will expire: it is not a long-retention point. */
  warning?: string;
}

/**
 * A scheduled savepoint that fired while another operation (an upgrade, a restore, another
 * savepoint, retention) held the job: nothing was sent to Flink, and the reason is recorded here.
 */
export interface SavepointSkipped {
  jobName: string;
  skipped: SkippedRun;
}

export type TakeSavepointOutcome = TakeSavepointResult | SavepointSkipped;

export const savepointSkipped = (outcome: TakeSavepointOutcome): outcome is SavepointSkipped => 'skipped' in outcome;
