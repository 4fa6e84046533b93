// Start a restore from a client: validate the input at the edge, and refuse to start while
// another operation (upgrade or restore) runs on the same job. The restore then waits for an
// approval (src/client/approval.ts).
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { parseRestoreInput, type RestoreInput } from '../../workflows/restore-input';
import type { restoreWorkflow } from '../../workflows/restore';
import { startOperation, type StartOperationOptions } from './operation';

export class InvalidRestoreInputError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid restore input:\n  ${problems.join('\n  ')}`);
    this.name = 'InvalidRestoreInputError';
  }
}

export async function startRestore(
  client: Client,
  input: RestoreInput,
  options: StartOperationOptions,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof restoreWorkflow>> {
  const parsed = parseRestoreInput(input);
  if (!parsed.ok) throw new InvalidRestoreInputError(parsed.problems);
  return startOperation<typeof restoreWorkflow>(client, 'restoreWorkflow', parsed.value.job, [parsed.value], options);
}
