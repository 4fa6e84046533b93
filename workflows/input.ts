// The upgrade workflow's input: one zod schema for the client, the CLI and the workflow's first
// step (input typed into the Temporal UI reaches the workflow unchecked). Pure: bundled.
import { msToNumber, type Duration } from '@temporalio/common';
import { z } from 'zod';
import { lazySchema } from '../src/domain/lazy-schema';
import { DeploymentTargetSchema } from '../src/domain/deployment-target';
import { DeploymentSchema, JobRefSchema, TableRefSchema } from '../src/domain/model';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Milliseconds, or a duration string like '90s' or '2m'; normalised to milliseconds. */
export const duration = (fallback: string) =>
  z
    .union([z.number(), z.string()], { error: "must be milliseconds or a duration like '2m'" })
    .default(fallback)
    .transform((value, ctx) => {
      let ms: number;
      try {
        ms = msToNumber(value as Duration);
      } catch {
        ms = Number.NaN;
      }
      if (!Number.isInteger(ms) || ms <= 0 || ms > DAY_MS) {
        ctx.addIssue({
          code: 'custom',
          message: `must be milliseconds or a duration like '2m', more than 0 and at most 24h; got ${JSON.stringify(value)}`,
        });
        return z.NEVER;
      }
      return ms;
    });

export const UpgradeOptionsSchema = lazySchema(() =>
  z
    .object({
      /** stop-with-savepoint with --drain: emits MAX_WATERMARK, fires every event-time timer */
      drain: z.boolean().default(false),
      savepointTimeout: duration('10m'),
      /** how long the new version has to be RUNNING with a completed checkpoint */
      healthTimeout: duration('5m'),
      /** how long every sink table has to show the savepoint's tag */
      tagTimeout: duration('2m'),
      /**
       * After the new version is deployed: roll back (cancel it, roll the tables back to the tag,
       * redeploy the old version) when it fails, or leave it for a human (false). Before that, a
       * failure always restarts the old version from the savepoint: nothing new has run.
       */
      compensate: z.boolean().default(true),
      /**
       * Live jobs (id or name) that write a table of a sink table's name in another database
       * (Flink's plan names a Paimon writer by table name only): not refused as other writers.
       */
      notWriters: z.array(z.string().trim().min(1)).default([]),
      /**
       * Start the version even when the savepoint holds state that none of its operators claims
       * (Flink's --allowNonRestoredState): that state is dropped for good, and the status and the
       * result say so. Off by default: a program change that orphans state fails the deploy instead.
       */
      allowNonRestoredState: z.boolean().default(false),
      /**
       * The new version's parallelism, every vertex that can take it (Paimon's committer stays at 1).
       * The graph is built at the running job's parallelism, so every operator keeps its id and its
       * state, and each vertex is set through pipeline.jobvertex-parallelism-overrides.
       */
      parallelism: z.number().int().min(1).max(32768).optional(),
      /** Per vertex of the running job (GET /jobs/:id/plan ids): wins over parallelism for that vertex. */
      vertexParallelism: z
        .record(z.string().regex(/^[0-9a-f]{32}$/, 'a vertex id is 32 hex characters (GET /jobs/:id/plan)'), z.number().int().min(1).max(32768))
        .optional(),
    })
    .strict(),
);

/** The job's Paimon sink tables: at least one, none twice. */
export const SinkTablesSchema = lazySchema(() =>
  z
    .array(TableRefSchema)
    .min(1, 'give at least one sink table')
    .superRefine((tables, ctx) => {
      const seen = new Set<string>();
      tables.forEach((table, index) => {
        if (seen.has(table)) ctx.addIssue({ code: 'custom', path: [index], message: `'${table}' is listed twice` });
        seen.add(table);
      });
    }),
);

export const UpgradeInputSchema = lazySchema(() =>
  z
    .object({
      job: JobRefSchema,
      /** the version to deploy from the savepoint */
      newVersion: DeploymentSchema,
      /** the version running now, as we redeploy it when the upgrade does not go through */
      oldVersion: DeploymentSchema,
      sinkTables: SinkTablesSchema,
      /** where the job's versions run: the session cluster (default) or a cluster of their own (application) */
      target: DeploymentTargetSchema,
      options: UpgradeOptionsSchema.prefault({}),
    })
    .strict(),
);

/** What a caller writes (durations as strings, defaults left out). */
export type UpgradeInput = z.input<typeof UpgradeInputSchema>;
/** What the workflow works with: defaults filled in, durations in milliseconds. */
export type UpgradeParams = z.output<typeof UpgradeInputSchema>;

type Issue = z.core.$ZodIssue;

const where = (base: PropertyKey[], issue: Issue): string => {
  const path = [...base, ...issue.path];
  return path.length === 0
    ? 'input'
    : path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
};

/** The discriminator (`kind`) when every alternative of a union refused its value. */
function discriminatorIssue(branches: readonly (readonly Issue[])[]): Issue | undefined {
  const refused = branches.map((branch) => branch.find((issue) => issue.code === 'invalid_value'));
  const first = refused[0];
  if (!first || refused.some((issue) => !issue || issue.path.join('.') !== first.path.join('.'))) return undefined;
  const values = refused.flatMap((issue) => (issue?.code === 'invalid_value' ? issue.values : []));
  return { ...first, message: `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}` };
}

/**
 * One line per problem, each naming its field. For a union (job by id or name, sql or jar
 * deployment) the alternative that came closest speaks; on a tie, every alternative does.
 */
export function describeIssues(issues: readonly Issue[], base: PropertyKey[] = []): string[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) {
      return [`${where(base, issue)}: ${issue.message}`];
    }
    const inner = [...base, ...issue.path];
    const discriminator = discriminatorIssue(issue.errors);
    if (discriminator) return describeIssues([discriminator], inner);
    const fewest = Math.min(...issue.errors.map((branch) => branch.length));
    const closest = issue.errors.filter((branch) => branch.length === fewest);
    const said = [...new Set(closest.map((branch) => describeIssues(branch, inner).join('; ')))];
    return said.length === 1 ? [said[0]] : [`${where(base, issue)}: expected one of: ${said.join(' | or | ')}`];
  });
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: string[] };

export function parseUpgradeInput(raw: unknown): Parsed<UpgradeParams> {
  const parsed = UpgradeInputSchema.safeParse(raw);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, problems: describeIssues(parsed.error.issues) };
}
