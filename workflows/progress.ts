// An operation's status as data (flink-kubernetes-operator style): the current step, what it has
// learnt so far and when each step ran, in workflow time. The status query returns it; the step
// is also the OperationStep search attribute, so a list filter finds operations by step.
// Shared by the upgrade (UpgradeStatus, the default) and the restore (RestoreStatus).
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { JobRef } from '../src/domain/model';
import { flinkJobKey, jobLabel, operationStepKey, type UpgradeStatus } from './messages';
import { countOperation, recordStep } from './metrics';

/** What every operation's status has: its step, the job, and when each step ran. */
export interface OperationStatus {
  step: string;
  job: string;
  timings: { step: string; startedAt: string; durationMs?: number }[];
  reason?: string;
}

export class Progress<S extends OperationStatus = UpgradeStatus> {
  private readonly status: S;

  constructor() {
    this.status = { step: 'validating-input', job: '', timings: [] } as OperationStatus as S;
    this.status.timings.push({ step: 'validating-input', startedAt: new Date().toISOString() });
  }

  get step(): S['step'] {
    return this.status.step;
  }

  /** The job this operation is about, once the input is valid. */
  forJob(job: JobRef): void {
    this.status.job = jobLabel(job);
    upsertSearchAttributes([{ key: flinkJobKey, value: this.status.job }]);
  }

  /** Record what a step learnt (job ids, savepoint, tag, tokens). */
  note(facts: Partial<Omit<S, 'step' | 'timings'>>): void {
    Object.assign(this.status, facts);
  }

  enter(step: S['step']): void {
    const now = Date.now();
    this.closeCurrent(now);
    this.status.step = step;
    this.status.timings.push({ step, startedAt: new Date(now).toISOString() });
    upsertSearchAttributes([{ key: operationStepKey, value: step }]);
    // The Temporal UI's "current details" (asked of the running workflow; no command, replays as before).
    setCurrentDetails(`step: ${String(step)} (since ${new Date(now).toISOString()})${this.status.job ? `; job ${this.status.job}` : ''}`);
  }

  /** The final step (e.g. 'upgraded', 'rolled-back', 'failed'); the result is the status plus it. */
  finish<O extends S['step']>(
    outcome: O,
    extra: { reason?: string; instructions?: string } = {},
  ): S & { status: O; instructions?: string } {
    this.enter(outcome);
    this.closeCurrent(Date.now());
    countOperation(String(outcome));
    if (extra.reason !== undefined) this.status.reason = extra.reason;
    return { ...this.snapshot(), status: outcome, ...(extra.instructions ? { instructions: extra.instructions } : {}) };
  }

  snapshot(): S {
    return { ...this.status, timings: this.status.timings.map((t) => ({ ...t })) };
  }

  private closeCurrent(now: number): void {
    const current = this.status.timings[this.status.timings.length - 1];
    if (current && current.durationMs === undefined) {
      current.durationMs = now - Date.parse(current.startedAt);
      recordStep(current.step, current.durationMs);
    }
  }
}
