// One operation per Flink job holds only while every operation runs under the job's workflow id
// (flink-job/<job>, conflict policy FAIL). A run typed into the UI under another id would run
// beside another operation on the same job, so it stops before its first step.
import { patched, workflowInfo } from '@temporalio/workflow';
import type { JobRef } from '../src/domain';
import { fatal } from './job-steps';
import { jobLabel, operationWorkflowId, WorkflowFailureType } from './messages';

export function requireOperationWorkflowId(job: JobRef, operation: 'upgrade' | 'restore'): void {
  const expected = operationWorkflowId(job);
  const { workflowId } = workflowInfo();
  // Runs recorded before this check (and the replay fixtures, replayed under their file names) replay without it.
  if (workflowId === expected || !patched('operation-workflow-id-required')) return;
  throw fatal(
    WorkflowFailureType.InvalidInput,
    `this ${operation} runs as workflow '${workflowId}', but an operation on job '${jobLabel(job)}' must run as ` +
      `'${expected}': that id is what keeps a second upgrade or restore off the job while this one runs. ` +
      `Start it again with workflow id '${expected}' (savepointctl and the client helpers do). Nothing was changed.`,
  );
}
