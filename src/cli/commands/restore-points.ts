// savepointctl restore-points JOB: the catalog of a job's restore points, as the restore workflow sees it.
import { randomUUID } from 'node:crypto';
import type { RestorePoint } from '../../restore-points';
import { jobKey } from '../../restore-points';
import { list, positional } from '../args';
import { json, table } from '../output';
import type { Command } from './command';

export const restorePoints: Command = {
  name: 'restore-points',
  summary: "list a job's restore points: savepoint, tag per table, pinned, restorable now",
  usage: `savepointctl restore-points JOB_NAME [--table DB.T...] [--json]

  --table DB.TABLE   the sink tables to check tags on (default: those recorded with each point)
  --json             the catalog as JSON, for scripts`,
  flags: { table: { type: 'string', multiple: true } },
  async run(p, ctx) {
    const jobName = positional(p, 0, 'job-name');
    const tables = list(p, 'table');
    const client = await ctx.client();
    // The worker lists (it sees the savepoints and the SQL gateway); this side needs only Temporal.
    const points = await client.workflow.execute<(input: { jobName: string; tables?: string[] }) => Promise<RestorePoint[]>>(
      'listRestorePointsWorkflow',
      {
        workflowId: `restore-points/${jobKey(jobName)}/${randomUUID()}`,
        taskQueue: ctx.config.temporal.taskQueue,
        args: [{ jobName, ...(tables.length > 0 ? { tables } : {}) }],
      },
    );
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
        ['SAVEPOINT', 'TAG', 'CREATED', 'VERSION', 'PINNED', 'RESTORABLE', 'TAG EXPIRES', 'TABLES', 'PATH'],
        points.map((pt) => [
          String(pt.savepointId),
          pt.tag,
          pt.createdAt ?? '-',
          pt.deploymentVersion ?? '-',
          pt.pinned ? 'yes' : 'no',
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
