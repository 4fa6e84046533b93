// savepointctl status WORKFLOW_ID: where an operation is — its step, savepoint, tag, plan and timings.
import { WorkflowNotFoundError } from '@temporalio/client';
import { positional } from '../args';
import { workflowUrl } from '../context';
import { CommandFailed } from '../errors';
import { failureReason } from '../follow';
import type { RestorePlan, TableRollback } from '../../../workflows/restore-messages';
import { json } from '../output';
import { describePlan } from './restore';
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
      if (err instanceof WorkflowNotFoundError) throw new CommandFailed(`no workflow '${workflowId}' in namespace '${ctx.config.temporal.namespace}'`);
      throw err;
    }
    const running = description.status.name === 'RUNNING';
    // A run that failed before it could answer (bad input, a refusal in its first step) has no
    // status to query: say how it ended instead.
    const state = await handle.query('status').catch(async (err: Error) =>
      running
        ? { unavailable: err.message }
        : handle.result().then(
            (result: unknown) => ({ result }),
            (e: unknown) => ({ reason: failureReason(e) }),
          ),
    );
    if (ctx.json) {
      ctx.out(json({ workflowId, runId: description.runId, type: description.type, execution: description.status.name, status: state }));
      return 0;
    }
    ctx.out(`${description.type} ${workflowId}: ${description.status.name}`);
    ctx.out(`  ${workflowUrl(ctx.config, workflowId, description.runId)}`);
    for (const line of sections(state as Record<string, unknown>, running)) ctx.out(line);
    return 0;
  },
};

/** The status for people: the step, its timings, the plan in words, the tables, the undo, then the rest. */
function sections(state: Record<string, unknown>, running: boolean): string[] {
  const { step, timings, plan, undo, tables, refusedSignals, unavailable, ...rest } = state as {
    step?: string;
    timings?: { step: string; startedAt: string; durationMs?: number }[];
    plan?: RestorePlan;
    undo?: { instructions: string };
    tables?: TableRollback[];
    refusedSignals?: { approver: string; problem: string; at: string }[];
    unavailable?: string;
  } & Record<string, unknown>;
  const lines: string[] = [];
  if (unavailable !== undefined) lines.push(`  status: not available (${unavailable})`);
  if (step !== undefined) lines.push(`  step: ${step}`);
  if (Array.isArray(timings) && timings.length > 0) {
    lines.push('  timings:');
    for (const t of timings) {
      // A step without a duration is the one the run is in, or the one it ended in.
      const took = t.durationMs !== undefined ? `${(t.durationMs / 1000).toFixed(1)}s` : running ? '(now)' : '(ended here)';
      lines.push(`    ${t.step.padEnd(28)} ${t.startedAt}  ${took}`);
    }
  }
  for (const [key, value] of Object.entries(rest)) {
    if (value === undefined) continue;
    lines.push(`  ${key}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  }
  if (Array.isArray(tables) && tables.length > 0) {
    lines.push('  tables:');
    for (const t of tables) {
      const at = t.snapshotId !== undefined ? ` to snapshot ${t.snapshotId}${t.records != null ? ` (${t.records} records in data files)` : ''}` : '';
      lines.push(`    ${t.table}: ${t.rolledBack ? `rolled back${at}` : 'not rolled back'}`);
    }
  }
  for (const r of refusedSignals ?? []) lines.push(`  refused approval signal from '${r.approver}' at ${r.at}: ${r.problem}`);
  if (plan) lines.push('  plan:', ...describePlan(plan).split('\n').map((l) => `  ${l}`));
  if (undo?.instructions) lines.push(`  undo: ${undo.instructions}`);
  return lines;
}
