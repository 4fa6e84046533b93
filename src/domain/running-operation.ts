// The operation that holds a job's workflow id (flink-job/<job name>): what a refused or skipped
// run names, so an operator sees which upgrade, restore, savepoint or retention is in the way.
// Pure: bundled into workflow code and used by the client helpers alike.

export interface RunningOperation {
  workflowId: string;
  /** e.g. upgradeWorkflow; absent when it could not be described (it ended meanwhile) */
  workflowType?: string;
  runId?: string;
  /** ISO time */
  startTime?: string;
}

/** `upgradeWorkflow 'flink-job/J' (run R, started T)`, or the id alone when nothing more is known. */
export function runningOperationText(op: RunningOperation): string {
  if (!op.workflowType || !op.runId) return `workflow '${op.workflowId}'`;
  return `${op.workflowType} '${op.workflowId}' (run ${op.runId}${op.startTime ? `, started ${op.startTime}` : ''})`;
}

/** The sentence every refusal and skip starts with. */
export const jobBusyText = (jobName: string, op: RunningOperation): string =>
  `job '${jobName}' already has an operation running: ${runningOperationText(op)}`;

/** A scheduled run (a savepoint, or retention) that did not act because another operation held the job. */
export interface SkippedRun {
  reason: string;
  runningOperation: RunningOperation;
}
