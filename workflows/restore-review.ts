// The restore's approval, as its runbook sees it: show the plan (memo) and wait for an answer; end
// with nothing changed when it is rejected or none comes in time; ask again when the plan changed
// after an approval. The gate itself (updates, signal, signatures) is approval-gate.ts.
import { allHandlersFinished, condition, log, upsertMemo } from '@temporalio/workflow';
import { humanDuration } from '../src/domain/durations';
import type { JobRef } from '../src/domain/model';
import { ApprovalGate, type Decision } from './approval-gate';
import { jobLabel } from './messages';
import type { Progress } from './progress';
import { planForApproval, type Approval, type ApprovalRules, type RestorePlan, type RestoreResult, type RestoreStatus } from './restore-messages';
import type { Saga } from './saga';

/** The gate for the plan `plan()` returns; refused signals and the approvers' keys go into the status. */
export function approvalGate(rules: ApprovalRules, plan: () => RestorePlan | undefined, progress: Progress<RestoreStatus>): ApprovalGate {
  return new ApprovalGate(
    rules,
    plan,
    (refused) => progress.note({ refusedSignals: [...(progress.snapshot().refusedSignals ?? []).slice(-9), refused] }),
    (approverKeys) => progress.note({ approverKeys }),
  );
}

/** Shows the plan in the memo and waits for an answer; undefined when none came within `approvalTimeout`. */
export async function awaitDecision(gate: ApprovalGate, plan: RestorePlan, approvalTimeout: number, progress: Progress<RestoreStatus>): Promise<Decision | undefined> {
  progress.enter('awaiting-approval');
  upsertMemo({
    restorePlan: plan.summary,
    irreversible: plan.irreversible,
    planVersion: plan.version,
    ...(gate.signed ? { planDigest: plan.digest } : {}),
  });
  return gate.decide(approvalTimeout);
}

/** Rejected or expired: undo the stop if this restore made one, and end. */
export async function endUnapproved(
  decision: Exclude<Decision, { kind: 'approved' }> | undefined,
  { job, approvalTimeout }: { job: JobRef; approvalTimeout: number },
  saga: Saga,
  progress: Progress<RestoreStatus>,
): Promise<RestoreResult> {
  const outcome = decision ? 'rejected' : 'expired';
  const reason = decision ? `rejected by ${decision.rejection.rejectedBy}` : `no approval within ${humanDuration(approvalTimeout)}`;
  if (decision) progress.note({ rejection: decision.rejection });
  if (!saga.isEmpty) await saga.compensate(reason);
  log.info(`restore ${outcome}`, { job: jobLabel(job), reason });
  await condition(allHandlersFinished);
  return progress.finish(outcome, { reason });
}

/** The approval no longer holds: answer it with what changed, and open the gate for the new plan (returned). */
export function askAgain(
  approval: Approval,
  { fresh, changes }: { fresh: RestorePlan; changes: string[] },
  gate: ApprovalGate,
  rules: ApprovalRules,
  progress: Progress<RestoreStatus>,
): RestorePlan {
  log.warn('plan changed after approval; asking again', { changes });
  progress.note({ supersededApprovals: [...(progress.snapshot().supersededApprovals ?? []), { ...approval, changes }] });
  gate.answer('plan-changed', changes);
  const plan = planForApproval(fresh, rules);
  progress.note({ plan });
  gate.reopen();
  return plan;
}
