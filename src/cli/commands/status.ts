// savepointctl status JOB: where an operation is, on one screen. JOB is the job's name (as approve,
// reject and restore-points take it) or any workflow id.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { flinkJobNames, jobNameOf } from '../../client/job-name';
import { operationWorkflowId } from '../../../workflows/messages';
import { bool, positional } from '../args';
import { workflowUrl } from '../context';
import { CommandFailed } from '../errors';
import { failureReason } from '../follow';
import { json } from '../output';
import { statusLines } from '../views/status';
import type { Context } from '../context';
import type { Command } from './command';

export const status: Command = {
  name: 'status',
  summary: 'show an operation on one screen: outcome and reason, steps, restore point, approvals, tables, undo',
  usage: `savepointctl status JOB [--verbose] [--json]

  JOB         the job's name (its operation runs as flink-job/<name>), a job id, or any workflow id
              (e.g. flink-job/paimon-demo, or the id a savepoint or retention run printed)
  --verbose   every field of the status, not only what fits one screen (never JSON: see --json)`,
  flags: { verbose: { type: 'boolean' } },
  async run(p, ctx) {
    const given = positional(p, 0, 'job');
    const client = await ctx.client();
    const { handle, description } = await find(client, given, ctx);
    const workflowId = handle.workflowId;
    const running = description.status.name === 'RUNNING';
    // A run that failed before it could answer (bad input, a refusal in its first step) has no
    // status to query: say how it ended instead.
    const state = (await handle.query('status').catch(async (err: Error) =>
      running
        ? { unavailable: err.message }
        : handle.result().then(
            (result: unknown) => (typeof result === 'object' && result !== null ? result : { result }),
            (e: unknown) => ({ reason: failureReason(e) }),
          ),
    )) as Record<string, unknown>;
    // A run that ended by failing (a refusal before the stop throws before any result) says why.
    const failure = !running && description.status.name !== 'COMPLETED' && state.reason === undefined
      ? await handle.result().then(() => undefined, (e: unknown) => failureReason(e))
      : undefined;
    if (ctx.json) {
      ctx.out(
        json({
          workflowId,
          runId: description.runId,
          type: description.type,
          execution: description.status.name,
          ...(description.memo ? { memo: description.memo } : {}),
          ...(failure ? { failure } : {}),
          status: state,
        }),
      );
      return 0;
    }
    const lines = statusLines({
      type: description.type,
      workflowId,
      execution: description.status.name,
      url: workflowUrl(ctx.config, workflowId, description.runId),
      state,
      failure,
      memo: description.memo as Record<string, unknown> | undefined,
      verbose: bool(p, 'verbose'),
    });
    for (const line of lines) ctx.out(line);
    return 0;
  },
};

/**
 * The workflow for what was typed: a workflow id as it is (it holds a '/' or names a run directly),
 * else the job's operation, flink-job/<name> (a job id is looked up by name first).
 */
async function find(client: Client, given: string, ctx: Context) {
  const candidates: string[] = [];
  if (given.includes('/')) candidates.push(given);
  else {
    const job = /^[0-9a-f]{32}$/.test(given) ? { jobId: given } : { jobName: given };
    const name = await jobNameOf(job, flinkJobNames(ctx.config.flink)).catch(() => undefined);
    if (name !== undefined) candidates.push(operationWorkflowId({ jobName: name }));
    candidates.push(given);
  }
  for (const workflowId of candidates) {
    const handle = client.workflow.getHandle(workflowId);
    try {
      return { handle, description: await handle.describe() };
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  throw new CommandFailed(
    `no operation for '${given}' in namespace '${ctx.config.temporal.namespace}' (looked for workflow ${candidates.map((c) => `'${c}'`).join(' and ')})`,
  );
}
