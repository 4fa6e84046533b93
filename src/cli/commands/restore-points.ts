// savepointctl restore-points JOB: the catalog of a job's restore points, as the restore workflow sees it.
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { TableRefSchema } from '../../domain/model';
import type { RestorePoint } from '../../domain/restore-points';
import { jobKey } from '../../domain/job-name';
import { list, positional, type Parsed } from '../args';
import type { Context } from '../context';
import { CommandFailed, UsageError } from '../errors';
import { failureReason } from '../follow';
import { json, table } from '../output';
import type { Command } from './command';

/** The --table values, each 'database.table' (exit 2 otherwise, before anything is asked). */
export function tablesOf(p: Parsed): string[] {
  const tables = list(p, 'table');
  const bad = tables.filter((t) => !TableRefSchema.safeParse(t).success);
  if (bad.length > 0) throw new UsageError(`--table ${bad.map((t) => `'${t}'`).join(', ')}: a sink table is written 'database.table' with letters, digits, '_' or '-' only`);
  return tables;
}

/** The job's restore points, newest first, listed by the worker (it sees the savepoints and the SQL gateway). */
export async function listRestorePoints(ctx: Context, jobName: string, tables: string[]): Promise<RestorePoint[]> {
  const client = await ctx.client();
  try {
    return await client.workflow.execute<(input: { jobName: string; tables?: string[] }) => Promise<RestorePoint[]>>('listRestorePointsWorkflow', {
      workflowId: `restore-points/${jobKey(jobName)}/${randomUUID()}`,
      taskQueue: ctx.config.temporal.taskQueue,
      args: [{ jobName, ...(tables.length > 0 ? { tables } : {}) }],
    });
  } catch (err) {
    // The listing's own words (e.g. which table does not exist), not the workflow's wrapper.
    if (err instanceof WorkflowFailedError) throw new CommandFailed(`cannot list the restore points of '${jobName}': ${failureReason(err)}`);
    throw err;
  }
}

const pinnedText = (pt: RestorePoint): string => (!pt.pinned ? 'no' : pt.pinnedBy === 'upgrade' ? 'upgrade' : 'yes');

export const restorePoints: Command = {
  name: 'restore-points',
  summary: "list a job's restore points, newest first: savepoint, tag per table, pinned, restorable now",
  usage: `savepointctl restore-points JOB_NAME [--table DB.T...] [--json]

  Newest first, by when each savepoint was taken (also one taken with Flink's own CLI: when its
  files were written). VERSION is the version whose state the savepoint holds (the one running when
  it was taken); LABEL is the note kept with it (an upgrade's: 'before upgrade to v2', or
  'before failed upgrade to v2'). PINNED: yes (a person's pin, never expires), upgrade (an upgrade's,
  released by retention's --upgrade-keep-after and --upgrade-min-age), no.

  --table DB.TABLE   the sink tables to check tags on (default: those recorded with each point)
  --json             the catalog as JSON, for scripts`,
  flags: { table: { type: 'string', multiple: true } },
  async run(p, ctx) {
    const jobName = positional(p, 0, 'job-name');
    const points = await listRestorePoints(ctx, jobName, tablesOf(p));
    if (ctx.json) {
      ctx.out(json(points));
      return 0;
    }
    if (points.length === 0) {
      ctx.out(`no restore points for '${jobName}'`);
      return 0;
    }
    ctx.out(
      table(
        ['SAVEPOINT', 'TAG', 'CREATED', 'VERSION', 'LABEL', 'PINNED', 'RESTORABLE', 'TAG EXPIRES', 'TABLES', 'PATH'],
        points.map((pt) => [
          String(pt.savepointId),
          pt.tag,
          pt.createdAt ?? '-',
          pt.deploymentVersion ?? '-',
          pt.label ?? '-',
          pinnedText(pt),
          pt.restorable ? 'yes' : `no: ${pt.problems.join('; ')}`,
          pt.tagExpiresAt ?? 'never',
          Object.entries(pt.tables).map(([t, presence]) => `${t}=${presence}`).join(' '),
          pt.path ?? '-',
        ]),
      ),
    );
    for (const pt of points) for (const warning of pt.warnings ?? []) ctx.out(`warning: restore point ${pt.savepointId}: ${warning}`);
    return 0;
  },
};
