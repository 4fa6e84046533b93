// One operation per Flink job holds only while every operation runs under the job's workflow id
// (flink-job/<job name>, conflict policy FAIL). A run typed into the UI under another id would run
// beside another operation on the same job, so it stops before its first step. A job given by id
// is looked up (a read) for its name first: by id or by name, the same job has the same key.
import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import type { JobRef } from '../src/domain/model';
import { restCall } from './activity-options';
import { fatal } from './job-steps';
import { jobLabel, operationWorkflowId, WorkflowFailureType } from './messages';

const rest = proxyActivities<Activities>(restCall);

/** Runs recorded before this patch keyed a job given by id by that id. */
const OPERATION_ID_BY_JOB_NAME = 'operation-id-by-job-name';

export async function requireOperationWorkflowId(job: JobRef, operation: 'upgrade' | 'restore'): Promise<void> {
  const expected = await expectedWorkflowId(job);
  const { workflowId } = workflowInfo();
  // Runs recorded before this check (and the replay fixtures, replayed under their file names) replay without it.
  if (workflowId === expected || !patched('operation-workflow-id-required')) return;
  throw fatal(
    WorkflowFailureType.InvalidInput,
    `this ${operation} runs as workflow '${workflowId}', but an operation on job '${jobLabel(job)}' must run as ` +
      `'${expected}': that id is what keeps a second upgrade or restore off the job while this one runs, however the ` +
      `job is named. Start it again with workflow id '${expected}' (savepointctl and the client helpers do). Nothing was changed.`,
  );
}

async function expectedWorkflowId(job: JobRef): Promise<string> {
  if ('jobName' in job) return operationWorkflowId(job);
  if (!patched(OPERATION_ID_BY_JOB_NAME)) return `flink-job/${job.jobId}`;
  const { name } = await rest.resolveJob({ job });
  return operationWorkflowId({ jobName: name });
}
