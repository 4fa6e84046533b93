// The upgrade's status as data (flink-kubernetes-operator style): the current step, what it has
// learnt so far and when each step ran, in workflow time. The status query returns it; the step
// is also the OperationStep search attribute, so a list filter finds operations by step.
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { JobRef } from '../src/domain';
import {
  flinkJobKey,
  jobLabel,
  operationStepKey,
  type UpgradeOutcome,
  type UpgradeResult,
  type UpgradeStatus,
  type UpgradeStep,
} from './messages';

export class Progress {
  private readonly status: UpgradeStatus = { step: 'validating-input', job: '', timings: [] };

  constructor() {
    this.status.timings.push({ step: 'validating-input', startedAt: new Date().toISOString() });
  }

  get step(): UpgradeStep {
    return this.status.step;
  }

  /** The job this operation is about, once the input is valid. */
  forJob(job: JobRef): void {
    this.status.job = jobLabel(job);
    upsertSearchAttributes([{ key: flinkJobKey, value: this.status.job }]);
  }

  /** Record what a step learnt (job ids, savepoint, tag, tokens). */
  note(facts: Partial<Omit<UpgradeStatus, 'step' | 'timings'>>): void {
    Object.assign(this.status, facts);
  }

  enter(step: UpgradeStep): void {
    const now = Date.now();
    this.closeCurrent(now);
    this.status.step = step;
    this.status.timings.push({ step, startedAt: new Date(now).toISOString() });
    upsertSearchAttributes([{ key: operationStepKey, value: step }]);
  }

  /** The final step: 'upgraded', 'rolled-back' or 'failed'. */
  finish(outcome: UpgradeOutcome, extra: { reason?: string; instructions?: string } = {}): UpgradeResult {
    this.enter(outcome);
    this.closeCurrent(Date.now());
    if (extra.reason !== undefined) this.status.reason = extra.reason;
    return { ...this.snapshot(), status: outcome, ...(extra.instructions ? { instructions: extra.instructions } : {}) };
  }

  snapshot(): UpgradeStatus {
    return { ...this.status, timings: this.status.timings.map((t) => ({ ...t })) };
  }

  private closeCurrent(now: number): void {
    const current = this.status.timings[this.status.timings.length - 1];
    if (current && current.durationMs === undefined) current.durationMs = now - Date.parse(current.startedAt);
  }
}
