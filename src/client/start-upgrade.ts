// Start an upgrade from a client (CLI, scripts, tests): validate the input at the edge, and refuse
// to start while another operation (upgrade or restore) runs on the same job.
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { parseUpgradeInput, type UpgradeInput } from '../../workflows/input';
import type { upgradeWorkflow } from '../../workflows/upgrade';
import { startOperation, type StartOperationOptions } from './operation';

export { alreadyRunning, OperationAlreadyRunningError, type StartOperationOptions } from './operation';

export class InvalidUpgradeInputError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid upgrade input:\n  ${problems.join('\n  ')}`);
    this.name = 'InvalidUpgradeInputError';
  }
}

export async function startUpgrade(
  client: Client,
  input: UpgradeInput,
  options: StartOperationOptions,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof upgradeWorkflow>> {
  const parsed = parseUpgradeInput(input);
  if (!parsed.ok) throw new InvalidUpgradeInputError(parsed.problems);
  // The workflow validates again (the first step, for input typed into the UI); it gets the
  // normalised input, so the history shows defaults and durations in milliseconds.
  return startOperation<typeof upgradeWorkflow>(client, 'upgradeWorkflow', parsed.value.job, [parsed.value], options);
}
