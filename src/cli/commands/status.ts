// savepointctl status WORKFLOW_ID: where an operation is — its step, savepoint, tag, plan and timings.
import { WorkflowNotFoundError } from '@temporalio/client';
import { positional } from '../args';
import { workflowUrl } from '../context';
import { UsageError } from '../errors';
import { json } from '../output';
import type { Command } from './command';

export const status: Command = {
  name: 'status',
  summary: 'show the current step, savepoint, tag, plan and progress of an operation',
  usage: `savepointctl status WORKFLOW_ID [--json]

  WORKFLOW_ID   e.g. flink-job/paimon-demo (every operation on a job uses flink-job/<job>)`,
  flags: {},
  async run(p, ctx) {
    const workflowId = positional(p, 0, 'workflow-id');
    const handle = (await ctx.client()).workflow.getHandle(workflowId);
    let description;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new UsageError(`no workflow '${workflowId}' in namespace '${ctx.config.temporal.namespace}'`);
      throw err;
    }
    const state = await handle.query('status').catch((err: Error) => ({ unavailable: err.message }));
    if (ctx.json) {
      ctx.out(json({ workflowId, runId: description.runId, type: description.type, execution: description.status.name, status: state }));
      return 0;
    }
    ctx.out(`${description.type} ${workflowId}: ${description.status.name}`);
    ctx.out(`  ${workflowUrl(ctx.config, workflowId, description.runId)}`);
    for (const [key, value] of Object.entries(state as Record<string, unknown>)) {
      if (key === 'timings' && Array.isArray(value)) {
        ctx.out('  timings:');
        for (const t of value as { step: string; startedAt: string; durationMs?: number }[]) {
          ctx.out(`    ${t.step.padEnd(28)} ${t.startedAt}${t.durationMs !== undefined ? `  ${(t.durationMs / 1000).toFixed(1)}s` : '  (now)'}`);
        }
      } else {
        ctx.out(`  ${key}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
      }
    }
    return 0;
  },
};
