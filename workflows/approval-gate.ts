// The restore's approval gate: a person approves or rejects the plan by update (checked by a
// synchronous validator, so a refused answer is never written to the history) or by signal (no
// answer is possible: a refused one is reported through `onRefusedSignal`). An approval is
// answered once the restore has looked at the plan again: 'proceeding', 'plan-changed' (the gate
// opens again for the new plan) or 'ended'.
//
// An answer counts only with its approver's SSH signature of this plan (workflows/approval-proof.ts),
// verified against the approvers' keys the worker reads from its allowed-signers file. The gate
// keeps those keys in its state and, while it waits, holds one long-poll activity that returns
// when the file changes: a removed key is refused from then on.
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import type { ApproverKeys } from '../src/domain/allowed-signers';
import { fingerprint, parseSshSignature } from '../src/domain/ssh-signature';
import { approverKeysWait, APPROVER_KEYS_MAX_WAIT_MS } from './activity-options';
import { checkApprovalSignature, type ApprovalDecision, type ApprovalProof, type ApprovalSubject } from './approval-proof';
import {
  approvalProblem,
  approveSignal,
  approveUpdate,
  rejectUpdate,
  type Approval,
  type ApprovalAnswer,
  type ApprovalInput,
  type ApprovalRules,
  type ApproverKeysStatus,
  type Rejection,
} from './restore-messages';

/** Histories recorded before this patch took an approver's name on trust (no signature, no keys read). */
export const SIGNED_APPROVALS = 'approvals-signed';

const keysActivity = proxyActivities<Activities>(approverKeysWait);

export type Decision = { kind: 'approved'; approval: Approval; seq: number } | { kind: 'rejected'; rejection: Rejection };

export interface RefusedSignal {
  approver: string;
  problem: string;
  at: string;
}

/** The plan under review, as the approver signs it. */
export interface PlanUnderReview {
  version: number;
  digest?: string;
}

export class ApprovalGate {
  private awaiting = false;
  private decision: Decision | undefined;
  private seq = 0;
  private readonly answers = new Map<number, ApprovalAnswer>();
  /** false when replaying a history from before signatures: names are taken as given there */
  readonly signed: boolean;
  private keys: ApproverKeys | undefined;

  /** Registers the approve and reject updates and the approve signal; `plan` is the plan under review. */
  constructor(
    private readonly rules: ApprovalRules,
    private readonly plan: () => PlanUnderReview | undefined,
    onRefusedSignal: (refused: RefusedSignal) => void,
    private readonly onKeys: (keys: ApproverKeysStatus) => void = () => {},
  ) {
    this.signed = patched(SIGNED_APPROVALS);
    setHandler(
      approveUpdate,
      async (given) => {
        const mine = this.approve(given, 'update');
        // Answer once the plan was checked again: the approver learns whether the restore goes on.
        await condition(() => this.answers.has(mine));
        return this.answers.get(mine)!;
      },
      { validator: this.refuse('approve') },
    );
    setHandler(
      rejectUpdate,
      (given) => {
        const planVersion = this.plan()!.version;
        const rejection: Rejection = { rejectedBy: given.approver.trim(), comment: given.comment, planVersion, at: now(), ...this.proof(given) };
        this.decision = { kind: 'rejected', rejection };
        this.awaiting = false;
        return { planVersion };
      },
      { validator: this.refuse('reject') },
    );
    setHandler(approveSignal, (given) => {
      const problem = this.problem(given, 'approve');
      if (problem === undefined) {
        this.approve(given, 'signal');
        return;
      }
      // A signal gets no answer: the refusal goes into the status (and `savepointctl status`), not only the log.
      log.warn('approval signal ignored', { approver: String(given?.approver), problem });
      onRefusedSignal({ approver: String(given?.approver ?? ''), problem, at: now() });
    });
  }

  /** Reads the approvers' keys, once, before the gate first waits (so an answer right away can be checked). */
  async readKeys(): Promise<void> {
    if (!this.signed || this.keys !== undefined) return;
    this.setKeys(await keysActivity.awaitApproverKeys({ maxWaitMs: APPROVER_KEYS_MAX_WAIT_MS }));
  }

  /** Waits for an approval or a rejection of the plan under review; undefined when none came in time. */
  async decide(timeoutMs: number): Promise<Decision | undefined> {
    this.awaiting = true;
    // While waiting, follow the allowed-signers file: one activity per change of it.
    const watch = new CancellationScope();
    const watching = this.signed ? watch.run(() => this.watchKeys()).catch((err) => this.watchEnded(err)) : undefined;
    const decided = await condition(() => this.decision !== undefined, timeoutMs);
    this.awaiting = false;
    if (watching) {
      watch.cancel();
      await watching;
    }
    return decided ? this.decision : undefined;
  }

  /** Answers the approval being acted on, once. */
  answer(outcome: ApprovalAnswer['outcome'], changes?: string[]): void {
    const decision = this.decision;
    if (decision?.kind === 'approved' && !this.answers.has(decision.seq)) {
      this.answers.set(decision.seq, { planVersion: decision.approval.planVersion, outcome, changes });
    }
  }

  /** The plan changed after the approval: the next decision is about the new plan. */
  reopen(): void {
    this.decision = undefined;
  }

  private async watchKeys(): Promise<void> {
    for (;;) {
      this.setKeys(await keysActivity.awaitApproverKeys({ since: this.keys?.version, maxWaitMs: APPROVER_KEYS_MAX_WAIT_MS }));
    }
  }

  private watchEnded(err: unknown): void {
    if (isCancellation(err)) return;
    // The keys stay as last read; an approval is still checked against them.
    log.error('the approvers keys are no longer followed', { error: String((err as Error)?.message ?? err) });
  }

  private setKeys(keys: ApproverKeys): void {
    const changed = keys.version !== this.keys?.version;
    this.keys = keys;
    if (!changed) return;
    if (keys.problem) log.warn('approvals cannot be verified', { problem: keys.problem });
    const principals = [...new Set(keys.signers.map((s) => s.principals))];
    this.onKeys({
      source: keys.source,
      version: keys.version,
      readAt: now(),
      keys: keys.signers.length,
      principals,
      ...(keys.problems.length > 0 ? { skippedLines: keys.problems } : {}),
      ...(keys.problem ? { problem: keys.problem } : {}),
    });
  }

  private problem(given: unknown, kind: ApprovalDecision): string | undefined {
    const plan = this.plan();
    const problem = approvalProblem(given, this.rules, { awaiting: this.awaiting, planVersion: plan?.version }, kind);
    if (problem !== undefined || !this.signed) return problem;
    if (this.keys === undefined) return "the approvers' keys are being read: try again in a moment";
    const result = checkApprovalSignature((given as ApprovalInput).signature, this.subject(given as ApprovalInput, kind), this.keys, Date.now());
    return 'problem' in result ? result.problem : undefined;
  }

  private subject(given: ApprovalInput, decision: ApprovalDecision): ApprovalSubject {
    const plan = this.plan()!;
    const { workflowId, runId } = workflowInfo();
    return { decision, approver: given.approver.trim(), workflowId, runId, planVersion: plan.version, planDigest: plan.digest ?? '' };
  }

  /** What the approval carries as proof: the key that signed (the validator checked the signature). */
  private proof(given: ApprovalInput): { proof?: ApprovalProof } {
    if (!this.signed || typeof given.signature !== 'string') return {};
    return { proof: { kind: 'ssh-signature', key: fingerprint(parseSshSignature(given.signature).publicKey), planDigest: this.plan()!.digest ?? '' } };
  }

  private refuse(kind: ApprovalDecision) {
    return (given: ApprovalInput) => {
      const problem = this.problem(given, kind);
      if (problem) throw ApplicationFailure.create({ type: 'ApprovalRefused', message: problem, nonRetryable: true });
    };
  }

  private approve(given: ApprovalInput, via: Approval['via']): number {
    const approval: Approval = { approver: given.approver.trim(), comment: given.comment, planVersion: this.plan()!.version, via, at: now(), ...this.proof(given) };
    this.decision = { kind: 'approved', approval, seq: ++this.seq };
    this.awaiting = false;
    return this.seq;
  }
}

const now = () => new Date().toISOString();
