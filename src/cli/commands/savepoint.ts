// savepointctl savepoint: take a long-retention savepoint now and wait for its tags.
import { describeIssues } from '../../../workflows/input';
import type { takeSavepointWorkflow } from '../../../workflows/savepoint';
import { startOperation } from '../../client/operation';
import { TakeSavepointInputSchema, type TakeSavepointResult } from '../../domain/savepoint-input';
import { bool, compact, list, required, str, type Parsed } from '../args';
import { workflowUrl } from '../context';
import { CommandFailed, UsageError } from '../errors';
import { follow } from '../follow';
import { json } from '../output';
import type { Command } from './command';
import { TARGET_FLAGS, targetFromFlags } from '../target-flags';

/** The take-savepoint input shared by `savepoint` and `schedule create`. */
export function savepointInput(p: Parsed) {
  const jobName = required(p, 'job-name', 'the job, by name (restore points belong to a job name)');
  const tables = list(p, 'table');
  if (tables.length === 0) throw new UsageError('--table is required: each Paimon sink table as database.table');
  const parsed = TakeSavepointInputSchema.safeParse({
    job: { jobName },
    ...(targetFromFlags(p) !== undefined ? { target: targetFromFlags(p) } : {}),
    tables,
    options: compact({
      pinned: bool(p, 'pin') || undefined,
      label: str(p, 'label'),
      deploymentVersion: str(p, 'version'),
      tagTimeout: str(p, 'tag-timeout'),
    }),
  });
  if (!parsed.success) throw new UsageError(describeIssues(parsed.error.issues).join('; '));
  return parsed.data;
}

export const savepointFlags = {
  'job-name': { type: 'string' },
  table: { type: 'string', multiple: true },
  pin: { type: 'boolean' },
  label: { type: 'string' },
  version: { type: 'string' },
  'tag-timeout': { type: 'string' },
  ...TARGET_FLAGS,
} as const;

export const savepoint: Command = {
  name: 'savepoint',
  summary: 'take an intermediate savepoint now, wait for its Paimon tags, record the restore point',
  usage: `savepointctl savepoint --job-name NAME --table DB.T... [--pin] [--label TEXT] [--version LABEL] [--wait]

  --pin            retention never deletes this restore point (e.g. before a release)
  --label TEXT     a note kept with the restore point
  --version LABEL  the deployed version, kept with the restore point
  --tag-timeout D  how long to wait for savepoint-<id> on every table (default 2m)
  --target session|application [--launcher local|command]   where the job runs (default: looked for in the
                   session cluster and every application launch)
  --wait           wait for the result`,
  flags: { ...savepointFlags, wait: { type: 'boolean' } },
  async run(p, ctx) {
    const input = savepointInput(p);
    const jobName = (input.job as { jobName: string }).jobName;
    // Under the job's operation id, as an upgrade or restore: while one of them (or another
    // savepoint, or retention) runs on the job, refused here, naming it, before anything starts.
    const handle = await startOperation<typeof takeSavepointWorkflow>(await ctx.client(), 'takeSavepointWorkflow', input.job, [input], {
      taskQueue: ctx.config.temporal.taskQueue,
      uiUrl: ctx.config.temporal.uiUrl,
      namespace: ctx.config.temporal.namespace,
    });
    if (!bool(p, 'wait')) {
      ctx.out(ctx.json ? json({ workflowId: handle.workflowId }) : `started ${handle.workflowId}\n  ${workflowUrl(ctx.config, handle.workflowId)}`);
      return 0;
    }
    if (!ctx.json) ctx.out(`taking a savepoint of '${jobName}' (${handle.workflowId})`);
    // Started under the job's own id, the run holds the job and is never skipped: its result is a savepoint.
    const result = await follow<TakeSavepointResult>(ctx, handle);
    if (ctx.json) ctx.out(json(result));
    else if (result.restorable) ctx.out(`restore point ${result.savepointId}: tag ${result.tag} on every table, savepoint ${result.path}`);
    if (!ctx.json && result.warning) ctx.out(`warning: ${result.warning}`);
    if (!result.restorable) throw new CommandFailed(`savepoint ${result.savepointId} at ${result.path} is NOT restorable: ${result.reason}`);
    return 0;
  },
};
