// One operation per Flink job holds only while every operation runs under the job's workflow id
// (flink-job/<job name>, conflict policy FAIL): the server runs one workflow per id at a time. An
// upgrade or restore typed into the UI under another id would run beside another operation on the
// same job, so it stops before its first step. A savepoint or retention run started under another
// id (its schedule's, savepointctl's of old, the UI's) does its work as a child under the job's id,
// and is refused or skipped while another operation holds it. A job given by id is looked up (a
// read) for its name first: by id or by name, the same job has the same key.
import { defineSearchAttributeKey, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  patched,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import type { JobRef } from '../src/domain/model';
import type { RunningOperation } from '../src/domain/running-operation';
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

/** Set by a Temporal Schedule on every run it starts: a scheduled run is skipped, not refused. */
const scheduledByKey = defineSearchAttributeKey('TemporalScheduledById', 'KEYWORD');

/** Whether a Temporal Schedule started this run. */
export const startedBySchedule = (): boolean => workflowInfo().typedSearchAttributes.get(scheduledByKey) !== undefined;

/** The job's operation id, flink-job/<job name>; a job given by id is looked up (a read) for its name. */
export async function operationIdOf(job: JobRef): Promise<{ operationId: string; jobName: string }> {
  const jobName = 'jobName' in job ? job.jobName : (await rest.resolveJob({ job })).name;
  return { operationId: operationWorkflowId({ jobName }), jobName };
}

/**
 * Whether this run holds the job: it runs under the job's operation id, or its parent does (the
 * retention a savepoint runs after itself), so nothing else acts on the job meanwhile.
 */
export function holdsOperationId(operationId: string): boolean {
  const { workflowId, parent } = workflowInfo();
  return workflowId === operationId || parent?.workflowId === operationId;
}

/** What came of running the real work under the job's operation id. */
export type UnderOperationId<R> = { ran: R } | { busy: RunningOperation };

/**
 * Runs `child` (this same workflow, started as a child under the operation id with the server's
 * one-running-workflow-per-id rule as the lock) and gives its result; when another operation holds
 * the id, names it instead. The child's own failure is rethrown as the child raised it (its type
 * and message, not "child workflow failed").
 */
export async function underOperationId<R>(operationId: string, child: () => Promise<R>): Promise<UnderOperationId<R>> {
  try {
    return { ran: await child() };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      // It may have ended between the start and this look: the id alone still names it.
      return { busy: (await rest.describeOperation({ workflowId: operationId })) ?? { workflowId: operationId } };
    }
    if (err instanceof ChildWorkflowFailure && err.cause instanceof ApplicationFailure) throw err.cause;
    throw err;
  }
}
