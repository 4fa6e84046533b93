// The restore's approval gate: a person approves or rejects the plan by update (checked by a
// synchronous validator, so a refused answer is never written to the history) or by signal (no
// answer is possible: a refused one is reported through `onRefusedSignal`). An approval is
// answered once the restore has looked at the plan again: 'proceeding', 'plan-changed' (the gate
// opens again for the new plan) or 'ended'.
import { ApplicationFailure, condition, log, setHandler } from '@temporalio/workflow';
import {
  approvalProblem,
  approveSignal,
  approveUpdate,
  rejectUpdate,
  type Approval,
  type ApprovalAnswer,
  type ApprovalInput,
  type ApprovalRules,
  type Rejection,
} from './restore-messages';

export type Decision = { kind: 'approved'; approval: Approval; seq: number } | { kind: 'rejected'; rejection: Rejection };

export interface RefusedSignal {
  approver: string;
  problem: string;
  at: string;
}

export class ApprovalGate {
  private awaiting = false;
  private decision: Decision | undefined;
  private seq = 0;
  private readonly answers = new Map<number, ApprovalAnswer>();

  /** Registers the approve and reject updates and the approve signal; `planVersion` is the plan under review. */
  constructor(
    private readonly rules: ApprovalRules,
    private readonly planVersion: () => number | undefined,
    onRefusedSignal: (refused: RefusedSignal) => void,
  ) {
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
        const rejection: Rejection = { rejectedBy: given.approver.trim(), comment: given.comment, planVersion: this.planVersion()!, at: now() };
        this.decision = { kind: 'rejected', rejection };
        this.awaiting = false;
        return { planVersion: rejection.planVersion };
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

  /** Waits for an approval or a rejection of the plan under review; undefined when none came in time. */
  async decide(timeoutMs: number): Promise<Decision | undefined> {
    this.awaiting = true;
    const decided = await condition(() => this.decision !== undefined, timeoutMs);
    this.awaiting = false;
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

  private problem(given: unknown, kind: 'approve' | 'reject'): string | undefined {
    return approvalProblem(given, this.rules, { awaiting: this.awaiting, planVersion: this.planVersion() }, kind);
  }

  private refuse(kind: 'approve' | 'reject') {
    return (given: ApprovalInput) => {
      const problem = this.problem(given, kind);
      if (problem) throw ApplicationFailure.create({ type: 'ApprovalRefused', message: problem, nonRetryable: true });
    };
  }

  private approve(given: ApprovalInput, via: Approval['via']): number {
    const approval: Approval = { approver: given.approver.trim(), comment: given.comment, planVersion: this.planVersion()!, via, at: now() };
    this.decision = { kind: 'approved', approval, seq: ++this.seq };
    this.awaiting = false;
    return this.seq;
  }
}

const now = () => new Date().toISOString();
