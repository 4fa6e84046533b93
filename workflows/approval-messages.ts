// The approval messages of a restore: the approve and reject updates, the signal for services
// that cannot send updates, what each answer records, and the checks an answer passes before the
// signature is looked at. Pure: bundled into workflow code.
import { defineSignal, defineUpdate } from '@temporalio/workflow';
import { planDigest, type ApprovalProof } from './approval-proof';
import type { RestorePlan } from './restore-plan-types';

export interface ApprovalInput {
  /** the approver: a principal of the allowed-signers file, whose key made `signature` */
  approver: string;
  /** not signed: kept with the answer as given */
  comment?: string;
  /** The plan version the approver reviewed; refused when the plan has changed since. */
  planVersion?: number;
  /**
   * `ssh-keygen -Y sign -n flink-paimon-ops:<workflow id>` of the statement naming the decision, the
   * approver, the workflow, its run, the plan version and digest (workflows/approval-proof.ts)
   */
  signature?: string;
}

export interface Approval {
  approver: string;
  comment?: string;
  planVersion: number;
  /** 'update' or 'signal' */
  via: 'update' | 'signal';
  at: string;
  /** the key that signed it (absent in histories from before signed approvals) */
  proof?: ApprovalProof;
}

export interface Rejection {
  rejectedBy: string;
  comment?: string;
  planVersion: number;
  at: string;
  proof?: ApprovalProof;
}

/** The approvers' keys the restore checks answers against, as last read from the worker's file. */
export interface ApproverKeysStatus {
  source?: string;
  /** sha256 of the file as read */
  version: string;
  readAt: string;
  keys: number;
  /** the principals (patterns) the keys are for */
  principals: string[];
  /** lines of the file that were skipped, with why */
  skippedLines?: string[];
  /** why no answer can be verified now (no file configured, unreadable, no usable key) */
  problem?: string;
}

/** The approve update's answer, once the workflow has checked the plan again. */
export interface ApprovalAnswer {
  planVersion: number;
  /** proceeding: the plan still holds, the restore goes on; plan-changed: approve the new plan */
  outcome: 'proceeding' | 'plan-changed' | 'ended';
  /** set for plan-changed: what changed */
  changes?: string[];
}

export const approveUpdate = defineUpdate<ApprovalAnswer, [ApprovalInput]>('approve');
export const rejectUpdate = defineUpdate<{ planVersion: number }, [ApprovalInput]>('reject');
/** For services that cannot send updates: checked in the workflow, an invalid one is logged and ignored. */
export const approveSignal = defineSignal<[ApprovalInput]>('approve-signal');

/** The plan as an approver reads and signs it: who asked (not proven) and its digest. */
export function planForApproval(plan: RestorePlan, rules: ApprovalRules): RestorePlan {
  const requester = rules.requestedBy
    ? {
        requester: {
          identity: rules.requestedBy,
          proven: false as const,
          note: `'${rules.requestedBy}' is the requester as the restore's input names it, not proven by a signature${rules.fourEyes ? ': four-eyes refuses that name as the approver' : ''}`,
        },
      }
    : {};
  const shown = { ...plan, ...requester, digest: undefined };
  return { ...shown, digest: planDigest(shown) };
}

export interface ApprovalRules {
  approvers: string[];
  fourEyes: boolean;
  requestedBy?: string;
}

/**
 * Why this approval (or rejection) is refused, or undefined when it is allowed. The update
 * validators throw it (so a refused approval is never written to the history), the signal
 * handler logs it; clients may call it first to fail fast.
 */
export function approvalProblem(
  input: unknown,
  rules: ApprovalRules,
  state: { awaiting: boolean; planVersion?: number },
  kind: 'approve' | 'reject',
): string | undefined {
  const given = (input ?? {}) as Partial<ApprovalInput>;
  const approver = typeof given.approver === 'string' ? given.approver.trim() : '';
  if (approver === '') return 'an approval names its approver (a non-empty identity)';
  if (given.comment !== undefined && (typeof given.comment !== 'string' || given.comment.length > 2000)) {
    return 'comment must be text of at most 2000 characters';
  }
  if (!state.awaiting) return 'the restore is not waiting for an approval now';
  if (given.planVersion !== undefined && given.planVersion !== state.planVersion) {
    return `plan version ${given.planVersion} was reviewed, but the plan is now version ${state.planVersion}: review the new plan (query 'plan')`;
  }
  // The requester may withdraw its own request; approving takes one of the approvers.
  const mayReject = kind === 'reject' && approver === rules.requestedBy;
  if (!rules.approvers.includes(approver) && !mayReject) {
    return `'${approver}' is not an approver of this restore (approvers: ${rules.approvers.join(', ')})`;
  }
  if (kind === 'approve' && rules.fourEyes && approver === rules.requestedBy) {
    return `four-eyes: '${approver}' asked for this restore and cannot approve it too`;
  }
  return undefined;
}
