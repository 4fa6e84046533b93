// savepointctl retention JOB: decide which of a job's restore points a policy keeps, and with
// --apply delete the others (tag on every table, savepoint files, record). Works whether the job
// runs or not: it reads only the catalog, Paimon's tags and the savepoint directory.
import { WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy } from '@temporalio/client';
import { describeIssues } from '../../../workflows/input';
import { retentionWorkflowId } from '../../domain/job-name';
import { RetentionInputSchema, type RetentionParams, type RetentionResult } from '../../domain/retention-input';
import { bool, compact, list, positional, str, type Parsed } from '../args';
import { CommandFailed, UsageError } from '../errors';
import { json, table } from '../output';
import type { Command } from './command';

const WHY: Record<RetentionResult['decisions'][number]['reason'], string> = {
  pinned: 'pinned by a person: never deleted',
  'upgrade-pin': "pinned by an upgrade, and not yet past both --upgrade-keep-after and --upgrade-min-age",
  'upgrade-in-flight': 'pinned by an upgrade that has not ended',
  'in-use': 'an operation in flight uses it',
  'upgrade-pin-expired': "pinned by an upgrade, released: past --upgrade-keep-after later successful upgrades and --upgrade-min-age",
  'newest-restorable': 'the newest restorable point is always kept',
  'none-restorable': 'no point is restorable: the newest is kept, as the tables or the catalog may be misread',
  'keep-last': 'among the newest --keep-last',
  'max-age': 'younger than --max-age',
  pending: 'not restorable yet, inside --pending-grace (its tag may still come)',
  unrecorded: 'a tag no record of ours describes: never deleted by retention',
  lost: "of an older timeline (a restore rolled its tag away): kept, never restored",
  expired: 'restorable, but outside every keep rule',
  'not-restorable': 'not restorable (tag or savepoint files missing) past the grace period',
  'never-tagged': 'its tag will never come: the job that took it ended before its next checkpoint',
  expiring: 'a deletion an earlier run started: finished now',
};

/** A whole number as typed; anything else is left for the schema to refuse with the field's name. */
function wholeNumber(p: Parsed, flag: string): number | string | undefined {
  const value = str(p, flag);
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : value;
}

export const retention: Command = {
  name: 'retention',
  summary: "apply a retention policy to a job's restore points (a dry run unless --apply)",
  usage: `savepointctl retention JOB_NAME (--keep-last N | --max-age D) [--table DB.T...] [--pending-grace D] [--apply] [--json]

  Shows what the policy keeps and deletes, and why; changes nothing unless --apply.
  A person's pin is always kept; an upgrade's pin (the savepoint each upgrade stopped at, failed
  upgrades included) until the job has had N later successful upgrades and the point is old enough.
  The points an operation in flight uses and the newest restorable point are always kept.
  Works whether the job runs or not. With --apply it deletes only while no upgrade, restore or
  savepoint of the job runs; one that does makes it skip (nothing deleted, exit 1, naming it).

  --keep-last N        keep the newest N restorable points
  --max-age D          keep restorable points younger than D (e.g. 7d)
  --pending-grace D    keep a point that is not restorable yet for this long (default 15m)
  --upgrade-keep-after N   an upgrade's pin holds until N later successful upgrades of the job (default 3)
  --upgrade-min-age D      ...and until the point is this old (default 30d)
  --table DB.TABLE     the sink tables to check tags on (default: those recorded with each point)
  --apply              delete what the policy does not keep (tag on every table, savepoint files, record)
  --json               the decisions as JSON, for scripts`,
  flags: {
    table: { type: 'string', multiple: true },
    'keep-last': { type: 'string' },
    'max-age': { type: 'string' },
    'pending-grace': { type: 'string' },
    'upgrade-keep-after': { type: 'string' },
    'upgrade-min-age': { type: 'string' },
    apply: { type: 'boolean' },
  },
  async run(p, ctx) {
    const jobName = positional(p, 0, 'job-name');
    const tables = list(p, 'table');
    const parsed = RetentionInputSchema.safeParse({
      jobName,
      ...(tables.length > 0 ? { tables } : {}),
      policy: compact({
        keepLast: wholeNumber(p, 'keep-last'),
        maxAge: str(p, 'max-age'),
        pendingGrace: str(p, 'pending-grace'),
        upgradePins: compact({ keepAfter: wholeNumber(p, 'upgrade-keep-after'), minAge: str(p, 'upgrade-min-age') }),
      }),
      dryRun: !bool(p, 'apply'),
    });
    if (!parsed.success) throw new UsageError(describeIssues(parsed.error.issues).join('; '));
    const input: RetentionParams = parsed.data;
    const client = await ctx.client();
    let result: RetentionResult;
    try {
      result = await client.workflow.execute<(i: RetentionParams) => Promise<RetentionResult>>('retentionWorkflow', {
        workflowId: retentionWorkflowId(jobName),
        taskQueue: ctx.config.temporal.taskQueue,
        args: [input],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new CommandFailed(`a retention of job '${jobName}' runs already (${retentionWorkflowId(jobName)}); wait for it and run again`);
      }
      throw err;
    }
    if (result.skipped) {
      if (ctx.json) ctx.out(json(result));
      throw new CommandFailed(result.skipped.reason);
    }
    const notDeleted = () => new CommandFailed(`not deleted: ${result.failed.map((f) => `${f.savepointId} (${f.error})`).join('; ')}`);
    if (ctx.json) {
      ctx.out(json(result));
      if (result.failed.length > 0) throw notDeleted();
      return 0;
    }
    if (result.decisions.length === 0) ctx.out(`no restore points for '${jobName}'`);
    else {
      ctx.out(
        table(
          ['SAVEPOINT', 'DECISION', 'WHY'],
          result.decisions.map((d) => [
            String(d.savepointId),
            d.action === 'keep' ? 'keep' : result.dryRun ? 'would delete' : 'delete',
            `${WHY[d.reason]}${d.detail ? ` (${d.detail})` : ''}`,
          ]),
        ),
      );
    }
    const doomed = result.decisions.filter((d) => d.action === 'delete').map((d) => d.savepointId);
    if (result.dryRun) {
      ctx.out(doomed.length === 0 ? 'dry run: nothing to delete' : `dry run: would delete ${doomed.join(', ')}; run again with --apply to delete`);
      return 0;
    }
    ctx.out(`deleted: ${result.deleted.join(', ') || 'none'}`);
    if (result.failed.length > 0) throw notDeleted();
    return 0;
  },
};
