// savepointctl approve|reject JOB --as ID: answer a restore's approval request.
import { approveRestore, rejectRestore, restoreHandle } from '../../client/approval';
import type { ApprovalAnswer } from '../../../workflows/restore-messages';
import { flinkJobNames } from '../../client/job-name';
import type { JobRef } from '../../domain/model';
import { positional, required, str, type Parsed } from '../args';
import { CommandFailed, UsageError } from '../errors';
import { json } from '../output';
import { waitingFor } from '../waiting';
import { restoreStep } from './restore';
import type { Command } from './command';

const flags = {
  as: { type: 'string' },
  comment: { type: 'string' },
  'plan-version': { type: 'string' },
} as const;

function answer(p: Parsed) {
  const planVersion = str(p, 'plan-version');
  if (planVersion !== undefined && !/^[1-9]\d*$/.test(planVersion)) {
    throw new UsageError(`--plan-version must be a positive whole number, got '${planVersion}'`);
  }
  return {
    approver: required(p, 'as', 'your identity, which the restore checks against its approvers'),
    ...(str(p, 'comment') !== undefined ? { comment: str(p, 'comment') } : {}),
    ...(planVersion !== undefined ? { planVersion: Number(planVersion) } : {}),
  };
}

/** The job as typed: a 32-hex id, or a name (the restore's workflow id is flink-job/<it>). */
const jobRef = (p: Parsed): JobRef => {
  const job = positional(p, 0, 'job');
  return /^[0-9a-f]{32}$/.test(job) ? { jobId: job } : { jobName: job };
};

const usage = (verb: string, what: string) => `savepointctl ${verb} JOB --as IDENTITY [--comment TEXT] [--plan-version N]

  JOB             the job the restore is for (its name or id, as the restore was started)
  --as ID         your identity: ${what}
  --comment TEXT  kept in the workflow's history with the answer
  --plan-version  the plan version you reviewed (savepointctl status JOB); refused if the plan changed

approve answers once the restore has checked its plan again: it re-reads every table and, when
nothing moved, stops the writer and waits for its savepoint's tag (usually 10-60 s, shown as it goes).`;

export const approve: Command = {
  name: 'approve',
  summary: "approve a restore's plan (your identity must be one of its approvers)",
  usage: usage('approve', 'must be one of the restore\'s approvers, and not its requester under four-eyes'),
  flags,
  async run(p, ctx) {
    const client = await ctx.client();
    const lookUp = flinkJobNames(ctx.config.flink);
    const given = answer(p);
    const handle = await restoreHandle(client, jobRef(p), lookUp);
    ctx.working(handle.workflowId);
    // The update answers once the restore has planned again (and, when nothing moved, stopped the
    // writer and seen today's tag): tens of seconds, said at once and shown as it goes.
    const result = await waitingFor(
      ctx,
      `approving ${handle.workflowId} as ${given.approver}: the restore checks its plan again before it answers ` +
        '(re-reads every table; if nothing moved, stops the writer and waits for its savepoint tag), usually 10-60 s',
      approveRestore(client, jobRef(p), given, lookUp),
      { progress: () => restoreStep(handle) },
    );
    if (ctx.json) ctx.out(json(result));
    if (result.outcome !== 'proceeding') throw new CommandFailed(answerText(result));
    if (!ctx.json) ctx.out(answerText(result));
    return 0;
  },
};

/** What the restore said to an approval, for the approver. The answer names the plan version approved. */
export function answerText(result: ApprovalAnswer): string {
  const v = result.planVersion;
  if (result.outcome === 'plan-changed') {
    return `not approved: plan v${v} changed after you reviewed it (${(result.changes ?? []).join('; ')}); review plan v${v + 1} and approve again`;
  }
  if (result.outcome === 'ended') return `approved plan v${v}, but the restore ended before it acted on it: see savepointctl status for why`;
  return `approved plan v${v}: the restore is proceeding`;
}

export const reject: Command = {
  name: 'reject',
  summary: "reject a restore's plan: it ends with nothing changed",
  usage: usage('reject', 'must be one of the restore\'s approvers'),
  flags,
  async run(p, ctx) {
    const client = await ctx.client();
    const lookUp = flinkJobNames(ctx.config.flink);
    const handle = await restoreHandle(client, jobRef(p), lookUp);
    ctx.working(handle.workflowId);
    const result = await waitingFor(ctx, `rejecting ${handle.workflowId}: the restore ends with nothing changed once it has recorded the answer`, rejectRestore(client, jobRef(p), answer(p), lookUp));
    ctx.out(ctx.json ? json(result) : `rejected plan v${result.planVersion}: the restore ends with nothing changed`);
    return 0;
  },
};
