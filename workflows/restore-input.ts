// The restore workflow's input: one zod schema for the client and the workflow's first step
// (input typed into the Temporal UI reaches the workflow unchecked). Pure: bundled.
import { z } from 'zod';
import { lazySchema } from '../src/domain/lazy-schema';
import { DeploymentTargetSchema } from '../src/domain/deployment-target';
import { DeploymentSchema, JobRefSchema } from '../src/domain/model';
import { describeIssues, duration, SinkTablesSchema, type Parsed } from './input';

/** Which restore point: a savepoint id, its tag, or the newest one the catalog finds restorable. */
export const RestorePointRefSchema = lazySchema(() =>
  z.union([
    z.object({ savepointId: z.number().int().nonnegative() }).strict(),
    z.object({ tag: z.string().regex(/^savepoint-\d+$/, "a restore point's tag is written 'savepoint-<id>'") }).strict(),
    z.literal('latest-restorable'),
  ]),
);
export type RestorePointRef = z.infer<typeof RestorePointRefSchema>;

/** Who asks or approves, as the approving service or person names itself (e.g. an e-mail). */
export const IdentitySchema = lazySchema(() =>
  z.string().trim().min(1, 'an identity is not empty').max(256),
);

export const RestoreOptionsSchema = lazySchema(() =>
  z
    .object({
      /** How long the plan waits for an approval; then the restore ends with nothing changed. */
      approvalTimeout: duration('24h'),
      /** The identities allowed to approve (or reject) this restore. */
      approvers: z.array(IdentitySchema).min(1, 'give at least one approver'),
      /** The approver must not be the one who asked for the restore. */
      fourEyes: z.boolean().default(true),
      requestedBy: IdentitySchema.optional(),
      /** stop-with-savepoint with --drain: emits MAX_WATERMARK, fires every event-time timer */
      drain: z.boolean().default(false),
      savepointTimeout: duration('10m'),
      /** how long every sink table has to show the tag of the savepoint the writer stopped with */
      tagTimeout: duration('2m'),
      /** how long the restarted job has to be RUNNING with a completed checkpoint */
      healthTimeout: duration('5m'),
      /**
       * Live jobs (id or name) that write a table of a sink table's name in another database.
       * Flink's plan names a Paimon writer by table name only, so such a job refuses the restore
       * (OtherWriters) unless named here; the plan lists it as left running.
       */
      notWriters: z.array(z.string().trim().min(1)).default([]),
      /**
       * Start the version even when the savepoint holds state that none of its operators claims
       * (Flink's --allowNonRestoredState): that state is dropped for good, and the status and the
       * result say so. Off by default: a program change that orphans state fails the deploy instead.
       */
      allowNonRestoredState: z.boolean().default(false),
    })
    .strict()
    .superRefine((o, ctx) => {
      if (!o.fourEyes) return;
      if (o.requestedBy === undefined) {
        ctx.addIssue({ code: 'custom', path: ['requestedBy'], message: 'fourEyes needs requestedBy, the identity that asks for the restore' });
      } else if (o.approvers.every((a) => a === o.requestedBy)) {
        ctx.addIssue({
          code: 'custom',
          path: ['approvers'],
          message: `with fourEyes nobody could approve: the only approver is requestedBy ('${o.requestedBy}')`,
        });
      }
    }),
);

export const RestoreInputSchema = lazySchema(() =>
  z
    .object({
      /**
       * The job writing the sink tables: by id, or by name. A job that is not running (finished,
       * cancelled, or no live job of that name) is fine: nothing is stopped. The name (or id) also
       * makes the workflow id, shared with upgrades, so only one operation runs per job.
       */
      job: JobRefSchema,
      /** The version to run after the restore, started from the restore point's savepoint. */
      deployment: DeploymentSchema,
      sinkTables: SinkTablesSchema,
      restorePoint: RestorePointRefSchema,
      /** where the job's versions run: the session cluster (default) or a cluster of their own (application) */
      target: DeploymentTargetSchema,
      options: RestoreOptionsSchema,
    })
    .strict(),
);

/** What a caller writes (durations as strings, defaults left out). */
export type RestoreInput = z.input<typeof RestoreInputSchema>;
/** What the workflow works with: defaults filled in, durations in milliseconds. */
export type RestoreParams = z.output<typeof RestoreInputSchema>;

export function parseRestoreInput(raw: unknown): Parsed<RestoreParams> {
  const parsed = RestoreInputSchema.safeParse(raw);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, problems: describeIssues(parsed.error.issues) };
}
