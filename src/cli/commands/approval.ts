// savepointctl approve|reject JOB --as ID --key FILE: answer a restore's approval request, signed
// with the approver's SSH key over the plan it reads now (its digest is printed).
import { approveRestore, rejectRestore, restoreHandle, signAnswer, type SignedAnswer } from '../../client/approval';
import { sshKeygenSigner } from '../../client/approval-signing';
import type { ApprovalDecision } from '../../../workflows/approval-proof';
import type { ApprovalAnswer } from '../../../workflows/restore-messages';
import { flinkJobNames } from '../../client/job-name';
import type { JobRef } from '../../domain/model';
import { positional, required, str, type Parsed } from '../args';
import type { Context } from '../context';
import { CommandFailed, UsageError } from '../errors';
import { json } from '../output';
import { waitingFor } from '../waiting';
import { restoreStep } from './restore';
import type { Command } from './command';

/** The signing key when --key is not given. */
export const SIGNING_KEY_ENV = 'SAVEPOINTCTL_SIGNING_KEY';

const flags = {
  as: { type: 'string' },
  key: { type: 'string' },
  comment: { type: 'string' },
  'plan-version': { type: 'string' },
  'plan-digest': { type: 'string' },
} as const;

function answer(p: Parsed) {
  const planVersion = str(p, 'plan-version');
  if (planVersion !== undefined && !/^[1-9]\d*$/.test(planVersion)) {
    throw new UsageError(`--plan-version must be a positive whole number, got '${planVersion}'`);
  }
  return {
    approver: required(p, 'as', 'your identity, which the restore checks against its approvers and your key'),
    ...(str(p, 'comment') !== undefined ? { comment: str(p, 'comment') } : {}),
    ...(planVersion !== undefined ? { planVersion: Number(planVersion) } : {}),
  };
}

function signingKey(p: Parsed): string {
  const key = str(p, 'key') ?? process.env[SIGNING_KEY_ENV]?.trim();
  if (!key) {
    throw new UsageError(
      `--key is required (or ${SIGNING_KEY_ENV}): your SSH private key, or its .pub file when ssh-agent holds the private key; the restore counts an answer only with your signature`,
    );
  }
  return key;
}

/** The job as typed: a 32-hex id, or a name (the restore's workflow id is flink-job/<it>). */
const jobRef = (p: Parsed): JobRef => {
  const job = positional(p, 0, 'job');
  return /^[0-9a-f]{32}$/.test(job) ? { jobId: job } : { jobName: job };
};

/** Signs the answer over the plan read now; refuses when it is not the digest the approver names (--plan-digest). */
async function signed(p: Parsed, ctx: Context, decision: ApprovalDecision): Promise<SignedAnswer> {
  const given = answer(p);
  const key = signingKey(p);
  const s = await signAnswer(await ctx.client(), jobRef(p), given, decision, sshKeygenSigner(key), flinkJobNames(ctx.config.flink));
  const expected = str(p, 'plan-digest');
  if (expected !== undefined && expected !== s.planDigest) {
    throw new CommandFailed(`the plan now has digest ${s.planDigest}, not ${expected} as you reviewed: read it again (savepointctl status); nothing was sent`);
  }
  if (!ctx.json) ctx.out(`signed ${decision} of plan v${s.planVersion} (digest ${s.planDigest}) as ${given.approver.trim()} with ${key}`);
  return s;
}

/** Signs the answer, then sends it, saying at once what it waits for (and, for an approval, the restore's step as it goes). */
async function send<D extends ApprovalDecision>(
  p: Parsed,
  ctx: Context,
  decision: D,
  waitText: (workflowId: string, approver: string) => string,
): Promise<{ s: SignedAnswer; result: D extends 'approve' ? ApprovalAnswer : { planVersion: number } }> {
  const s = await signed(p, ctx, decision);
  const client = await ctx.client();
  const lookUp = flinkJobNames(ctx.config.flink);
  const handle = await restoreHandle(client, jobRef(p), lookUp);
  ctx.working(handle.workflowId);
  const sending =
    decision === 'approve' ? approveRestore(client, jobRef(p), s.input, lookUp) : rejectRestore(client, jobRef(p), s.input, lookUp);
  const result = await waitingFor(ctx, waitText(handle.workflowId, s.input.approver), sending, decision === 'approve' ? { progress: () => restoreStep(handle) } : undefined);
  return { s, result: result as D extends 'approve' ? ApprovalAnswer : { planVersion: number } };
}

const usage = (verb: string, what: string) => `savepointctl ${verb} JOB --as IDENTITY --key FILE [--comment TEXT] [--plan-version N] [--plan-digest D]

  JOB             the job the restore is for (its name or id, as the restore was started)
  --as ID         your identity: ${what}
  --key FILE      your SSH key (or ${SIGNING_KEY_ENV}): a private key file, or a .pub whose
                  private key ssh-agent holds; the answer is signed with ssh-keygen -Y sign over
                  the restore's run, the plan version and the plan's digest
  --comment TEXT  kept in the workflow's history with the answer (not signed)
  --plan-version  the plan version you reviewed (savepointctl status JOB); refused if the plan changed
  --plan-digest   the plan digest you reviewed; nothing is sent if the plan read now has another

approve answers once the restore has checked its plan again: it re-reads every table and, when
nothing moved, stops the writer and waits for its savepoint's tag (usually 10-60 s, shown as it goes).`;

export const approve: Command = {
  name: 'approve',
  summary: "approve a restore's plan, signed with your SSH key (your identity must be one of its approvers)",
  usage: usage('approve', "must be one of the restore's approvers, listed with your key in the worker's allowed-signers file, and not its requester under four-eyes"),
  flags,
  async run(p, ctx) {
    // The update answers once the restore has planned again (and, when nothing moved, stopped the
    // writer and seen today's tag): tens of seconds, said at once and shown as it goes.
    const { s, result } = await send(p, ctx, 'approve', (workflowId, approver) =>
      `approving ${workflowId} as ${approver}: the restore checks its plan again before it answers ` +
      '(re-reads every table; if nothing moved, stops the writer and waits for its savepoint tag), usually 10-60 s',
    );
    if (ctx.json) ctx.out(json({ ...result, planDigest: s.planDigest }));
    if (result.outcome !== 'proceeding') throw new CommandFailed(answerText(result));
    if (!ctx.json) ctx.out(answerText(result));
    return 0;
  },
};

/** What the restore said to an approval, for the approver. The answer names the plan version approved. */
export function answerText(result: ApprovalAnswer): string {
  const v = result.planVersion;
  if (result.outcome === 'plan-changed') {
    return `not approved: plan v${v} changed after you reviewed it (${(result.changes ?? []).join('; ')}); review plan v${v + 1} and approve again (a new signature)`;
  }
  if (result.outcome === 'ended') return `approved plan v${v}, but the restore ended before it acted on it: see savepointctl status for why`;
  return `approved plan v${v}: the restore is proceeding`;
}

export const reject: Command = {
  name: 'reject',
  summary: "reject a restore's plan, signed with your SSH key: it ends with nothing changed",
  usage: usage('reject', "must be one of the restore's approvers (or its requester), listed with your key in the worker's allowed-signers file"),
  flags,
  async run(p, ctx) {
    const { s, result } = await send(p, ctx, 'reject', (workflowId) =>
      `rejecting ${workflowId}: the restore ends with nothing changed once it has recorded the answer`,
    );
    ctx.out(ctx.json ? json({ ...result, planDigest: s.planDigest }) : `rejected plan v${result.planVersion}: the restore ends with nothing changed`);
    return 0;
  },
};
