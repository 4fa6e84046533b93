// What every operation on a Flink job (upgrade, restore) does when a client starts it: one
// workflow id per job (by its name, however it was given) with the conflict policy FAIL, and a
// refusal that names what holds the id.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type Client,
  type WorkflowHandleWithFirstExecutionRunId,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { JobRef } from '../domain/model';
import { jobBusyText, type RunningOperation } from '../domain/running-operation';
import { flinkJobKey, operationWorkflowId } from '../../workflows/messages';
import { jobNameOf, type JobNameOf } from './job-name';

/** Another operation holds the job's workflow id; the message names it. */
export class OperationAlreadyRunningError extends Error {
  constructor(
    message: string,
    readonly workflowId: string,
    readonly runningWorkflowType?: string,
    readonly runningRunId?: string,
  ) {
    super(message);
    this.name = 'OperationAlreadyRunningError';
  }
}

export interface StartOperationOptions {
  taskQueue: string;
  /** The Temporal UI, to print a link to the running workflow in the refusal. */
  uiUrl?: string;
  namespace?: string;
  /** How a job given by id gets its name (the operation's key); Flink at FLINK_REST_URL by default. */
  jobNameOf?: JobNameOf;
}

/** Start `workflowType` for `job` under the job's operation id, or refuse naming what runs. */
export async function startOperation<W extends Workflow>(
  client: Client,
  workflowType: string,
  job: JobRef,
  args: Parameters<W>,
  options: StartOperationOptions,
): Promise<WorkflowHandleWithFirstExecutionRunId<W>> {
  const jobName = await jobNameOf(job, options.jobNameOf);
  const workflowId = operationWorkflowId({ jobName });
  try {
    return await client.workflow.start<W>(workflowType, {
      workflowId,
      taskQueue: options.taskQueue,
      args,
      // One operation per job at a time; a finished one leaves the id free for the next.
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: [{ key: flinkJobKey, value: jobName }],
      // TypeScript cannot resolve WorkflowStartOptions' conditional `args` for a generic W.
    } as unknown as WorkflowStartOptions<W>);
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw await alreadyRunning(client, workflowId, jobName, options);
    }
    throw err;
  }
}

/** Describe whatever holds the id, so the refusal names it (upgrade, restore, savepoint or retention; run, start time). */
export async function alreadyRunning(
  client: Client,
  workflowId: string,
  job: string,
  options: Pick<StartOperationOptions, 'uiUrl' | 'namespace'>,
): Promise<OperationAlreadyRunningError> {
  const op: RunningOperation = { workflowId };
  let link = '';
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    Object.assign(op, { workflowType: description.type, runId: description.runId, startTime: description.startTime.toISOString() });
    if (options.uiUrl) {
      const ns = encodeURIComponent(options.namespace ?? client.options.namespace);
      link = ` ${options.uiUrl}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}/${description.runId}`;
    }
  } catch {
    // It may have finished in between; the id alone still names it.
  }
  return new OperationAlreadyRunningError(
    `${jobBusyText(job, op)}${link}. Wait for it to finish or cancel it, then start again.`,
    workflowId,
    op.workflowType,
    op.runId,
  );
}
