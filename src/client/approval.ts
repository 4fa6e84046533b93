// Approve or reject a restore from a service or a CLI: an update that carries the approver's
// identity, a comment, and the approver's SSH signature of the plan (signAnswer makes it with a
// signer: ssh-keygen with the approver's key, or a service's own). The workflow's validator
// refuses an answer that may not count (no valid signature by a key the allowed-signers file
// lists for that approver, not an approver, the requester under four-eyes) without recording it;
// that refusal comes back here as ApprovalRefusedError with the workflow's reason.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { JobRef } from '../domain/model';
import { operationWorkflowId } from '../../workflows/messages';
import { jobNameOf, type JobNameOf } from './job-name';
import { approvalNamespace, approvalStatement, planDigest, type ApprovalDecision } from '../../workflows/approval-proof';
import {
  approveUpdate,
  awaitPlanUpdate,
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
 * Waits for the restore of `job` to have a plan above version `afterVersion` (any plan when absent)
 * and gives it: one update the server holds open rather than a poll of the plan query. Gives the
 * current plan when the restore went past its approval, and the last plan it had (or undefined)
 * when it ended while this waited, e.g. refused while planning.
 */
export async function awaitRestorePlan(client: Client, job: JobRef, afterVersion?: number, lookUp?: JobNameOf): Promise<RestorePlan | undefined> {
  return awaitPlanOf(await restoreHandle(client, job, lookUp), afterVersion);
}

/** awaitRestorePlan for the restore run `handle` names. */
export async function awaitPlanOf(handle: WorkflowHandle, afterVersion?: number): Promise<RestorePlan | undefined> {
  try {
    return await handle.executeUpdate(awaitPlanUpdate, { args: [afterVersion === undefined ? {} : { afterVersion }] });
  } catch (err) {
    if (!endedWhileWaiting(err)) throw refused(err, handle.workflowId) ?? err;
    // A run that ended still answers the plan query with the plan it last had.
    return handle.query(planQuery).catch(() => undefined);
  }
}

/** The run ended after it accepted the wait (the server's failure of the update), or before it. */
const endedWhileWaiting = (err: unknown) =>
  (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === 'AcceptedUpdateCompletedWorkflow') ||
  /already completed/i.test(String((err as Error)?.message));

/** Signs `text` in SSH signature `namespace` (`ssh-keygen -Y sign -n namespace`): the armored signature. */
export type ApprovalSigner = (text: string, namespace: string) => Promise<string>;

/** An answer ready to send, and what was signed, to show the approver. */
export interface SignedAnswer {
  input: ApprovalInput;
  planVersion: number;
  /** the digest of the plan as read here (the restore's own, checked) */
  planDigest: string;
  runId: string;
  /** the text signed and its namespace, as `ssh-keygen -Y verify` would check them */
  statement: string;
  namespace: string;
}

/**
 * Reads the restore's run and plan, and signs the answer `given` for it: the plan version the
 * approver names (default: the current one) and the digest of the plan read now. A plan that
 * changes afterwards needs a new signature (the restore refuses this one).
 */
export async function signAnswer(
  client: Client,
  job: JobRef,
  given: ApprovalInput,
  decision: ApprovalDecision,
  sign: ApprovalSigner,
  lookUp?: JobNameOf,
): Promise<SignedAnswer> {
  const handle = await restoreHandle(client, job, lookUp);
  let runId: string;
  let plan: RestorePlan | undefined;
  try {
    runId = (await handle.describe()).runId;
    plan = await handle.query(planQuery);
  } catch (err) {
    throw refused(err, handle.workflowId) ?? err;
  }
  if (!plan) throw new ApprovalRefusedError('the restore has no plan yet (it is still planning): try again when it waits for approval', handle.workflowId);
  const digest = planDigest(plan);
  if (plan.digest !== undefined && plan.digest !== digest) {
    throw new ApprovalRefusedError(`the plan read (digest ${digest}) is not the one the restore says it holds (${plan.digest}): nothing was signed`, handle.workflowId);
  }
  const planVersion = given.planVersion ?? plan.version;
  const subject = { decision, approver: given.approver.trim(), workflowId: handle.workflowId, runId, planVersion, planDigest: digest };
  const statement = approvalStatement(subject);
  const namespace = approvalNamespace(handle.workflowId);
  const signature = await sign(statement, namespace);
  return { input: { ...given, planVersion, signature }, planVersion, planDigest: digest, runId, statement, namespace };
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

