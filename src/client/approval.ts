// Approve or reject a restore from a service or a CLI: an update that carries the approver's
// identity and a comment. The workflow's validator refuses an identity that may not approve
// (not an approver, or the requester under four-eyes) without recording it; that refusal comes
// back here as ApprovalRefusedError with the workflow's reason.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { JobRef } from '../domain/model';
import { operationWorkflowId } from '../../workflows/messages';
import { jobNameOf, type JobNameOf } from './job-name';
import {
  approveUpdate,
  planQuery,
  rejectUpdate,
  type ApprovalAnswer,
  type ApprovalInput,
  type RestorePlan,
} from '../../workflows/restore-messages';

export class ApprovalRefusedError extends Error {
  constructor(
    readonly reason: string,
    readonly workflowId: string,
  ) {
    super(`the restore ${workflowId} refused this: ${reason}`);
    this.name = 'ApprovalRefusedError';
  }
}

/** The restore of `job`: its workflow id is the job's operation id (by name; a job id is looked up). */
export const restoreHandle = async (client: Client, job: JobRef, lookUp?: JobNameOf) =>
  client.workflow.getHandle(operationWorkflowId({ jobName: await jobNameOf(job, lookUp) }));

/** The plan the restore of `job` waits to have approved (undefined while it is still planning). */
export async function restorePlan(client: Client, job: JobRef, lookUp?: JobNameOf): Promise<RestorePlan | undefined> {
  return (await restoreHandle(client, job, lookUp)).query(planQuery);
}

/**
 * Approve the plan; resolves once the restore checked the plan again: 'proceeding', or
 * 'plan-changed' (the plan moved after it was reviewed: review the new one and approve again).
 */
export async function approveRestore(client: Client, job: JobRef, approval: ApprovalInput, lookUp?: JobNameOf): Promise<ApprovalAnswer> {
  const handle = await restoreHandle(client, job, lookUp);
  try {
    return await handle.executeUpdate(approveUpdate, { args: [approval] });
  } catch (err) {
    throw refused(err, handle.workflowId) ?? err;
  }
}

/** Reject the plan: the restore ends with nothing changed. */
export async function rejectRestore(
  client: Client,
  job: JobRef,
  rejection: ApprovalInput,
  lookUp?: JobNameOf,
): Promise<{ planVersion: number }> {
  const handle = await restoreHandle(client, job, lookUp);
  try {
    return await handle.executeUpdate(rejectUpdate, { args: [rejection] });
  } catch (err) {
    throw refused(err, handle.workflowId) ?? err;
  }
}

/** A validator's refusal (ApplicationFailure ApprovalRefused) or an update the workflow does not know. */
function refused(err: unknown, workflowId: string): ApprovalRefusedError | undefined {
  // An update to a run that has ended, or to an id with no run at all: nothing waits for an answer.
  if (err instanceof WorkflowNotFoundError || /already completed|not found/i.test(String((err as Error)?.message))) {
    return new ApprovalRefusedError(`there is no restore waiting for approval under ${workflowId}: no workflow runs under that id now`, workflowId);
  }
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type === 'ApprovalRefused') return new ApprovalRefusedError(cause.message, workflowId);
  if (cause instanceof Error && /handler|unknown update/i.test(cause.message)) {
    return new ApprovalRefusedError(`there is no restore to approve under ${workflowId}: the workflow there is not a restore`, workflowId);
  }
  return undefined;
}

