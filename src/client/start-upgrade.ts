// Start an upgrade from a client (CLI, scripts, tests): validate the input at the edge, and refuse
// to start while another operation (upgrade or restore) runs on the same job.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type Client,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { parseUpgradeInput, type UpgradeInput } from '../../workflows/input';
import { flinkJobKey, jobLabel, operationWorkflowId } from '../../workflows/messages';
import type { upgradeWorkflow } from '../../workflows/upgrade';

export class InvalidUpgradeInputError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid upgrade input:\n  ${problems.join('\n  ')}`);
    this.name = 'InvalidUpgradeInputError';
  }
}

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
}

export async function startUpgrade(
  client: Client,
  input: UpgradeInput,
  options: StartOperationOptions,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof upgradeWorkflow>> {
  const parsed = parseUpgradeInput(input);
  if (!parsed.ok) throw new InvalidUpgradeInputError(parsed.problems);
  const workflowId = operationWorkflowId(parsed.value.job);
  try {
    return await client.workflow.start<typeof upgradeWorkflow>('upgradeWorkflow', {
      workflowId,
      taskQueue: options.taskQueue,
      // The workflow validates again (the first step, for input typed into the UI); it gets the
      // normalised input, so the history shows defaults and durations in milliseconds.
      args: [parsed.value],
      // One operation per job at a time; a finished one leaves the id free for the next.
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: [{ key: flinkJobKey, value: jobLabel(parsed.value.job) }],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw await alreadyRunning(client, workflowId, jobLabel(parsed.value.job), options);
    }
    throw err;
  }
}

/** Describe whatever holds the id, so the refusal names it (upgrade or restore, run, start time). */
export async function alreadyRunning(
  client: Client,
  workflowId: string,
  job: string,
  options: Pick<StartOperationOptions, 'uiUrl' | 'namespace'>,
): Promise<OperationAlreadyRunningError> {
  let running = `workflow '${workflowId}'`;
  let type: string | undefined;
  let runId: string | undefined;
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    type = description.type;
    runId = description.runId;
    running = `${type} '${workflowId}' (run ${runId}, started ${description.startTime.toISOString()})`;
    if (options.uiUrl) {
      const ns = encodeURIComponent(options.namespace ?? client.options.namespace);
      running += ` ${options.uiUrl}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}/${runId}`;
    }
  } catch {
    // It may have finished in between; the id alone still names it.
  }
  return new OperationAlreadyRunningError(
    `job '${job}' already has an operation running: ${running}. Wait for it to finish or cancel it, then start again.`,
    workflowId,
    type,
    runId,
  );
}
