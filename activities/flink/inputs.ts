// Input schemas of the Flink activities: activity input can come from anywhere (a workflow, the
// UI, a CLI), so each activity checks its input before it touches Flink.
import { z } from 'zod';
import { DeploymentTargetSchema } from '../../src/domain/deployment-target';
import { DeploymentSchema, JobIdSchema, JobRefSchema } from '../../src/domain/model';
import { FailureType, fatal } from '../errors';

const TriggerIdSchema = z.string().regex(/^[0-9a-f]{32}$/, 'a trigger id is 32 lowercase hex characters');
const FormatTypeSchema = z.enum(['CANONICAL', 'NATIVE']).default('CANONICAL');
const PathSchema = z.string().min(1, 'a savepoint path is required');

export const JobInput = z.object({ jobId: JobIdSchema });
export const ResolveJobInput = z.object({ job: JobRefSchema });

export const StopWithSavepointInput = z.object({
  jobId: JobIdSchema,
  triggerId: TriggerIdSchema,
  drain: z.boolean(),
  targetDirectory: z.string().min(1).optional(),
  formatType: FormatTypeSchema,
});

export const TriggerSavepointInput = z.object({
  jobId: JobIdSchema,
  triggerId: TriggerIdSchema,
  targetDirectory: z.string().min(1).optional(),
  formatType: FormatTypeSchema,
});

export const SavepointPathInput = z.object({ path: PathSchema });

export const DeployJobInput = z.object({
  deployment: DeploymentSchema,
  deployToken: z.string().min(1).max(512),
  /** where the version runs (default the session cluster) */
  target: DeploymentTargetSchema,
  /** the job's name, for an application cluster's records (default the script's pipeline.name, or the version) */
  jobName: z.string().min(1).max(256).optional(),
  savepointPath: PathSchema.optional(),
  allowNonRestoredState: z.boolean().default(false),
  parallelism: z
    .object({
      graphParallelism: z.number().int().min(1),
      overrides: z.record(z.string().regex(/^[0-9a-f]{32}$/), z.number().int().min(1)),
    })
    .optional(),
});

/** What deployJob will be given, but the savepoint: the old version has not stopped yet. */
/** The deploy's input, given before the stop: the savepoint when it is known then (a restore point's). */
export const PrepareVersionInput = DeployJobInput;

export const ReleaseVersionInput = z.object({ deployToken: z.string().min(1).max(512), target: DeploymentTargetSchema });

export const AwaitHealthyInput = z.object({
  jobId: JobIdSchema,
  since: z.number().int().nonnegative(),
  timeoutMs: z.number().int().positive(),
});

/** Parses activity input; bad input fails for good (type InvalidInput) naming every problem. */
export function parseInput<S extends z.ZodType>(activity: string, schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
  throw fatal(FailureType.InvalidInput, `${activity} got invalid input (${problems}); fix the caller's input.`);
}
