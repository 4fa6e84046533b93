// Inputs and helpers for restore workflow tests (the worker is fixtures.ts's withWorker).
import type { Client } from '@temporalio/client';
import { startRestore } from '../../src/client/start-restore';
import { approveSigned } from '../support/approvals';
import type { RestoreInput } from '../../workflows/restore-input';
import { planQuery, type RestorePlan } from '../../workflows/restore-messages';
import { operationStepKey, operationWorkflowId } from '../../workflows/messages';
import { TABLES } from './fixtures';

export { failureOf } from './fixtures';

export { TABLES };

/** Restore `jobName` to savepoint `savepointId`; alice asks, bob and carol may approve. */
export function restoreInput(jobName: string, savepointId: number, options: Partial<RestoreInput['options']> = {}): RestoreInput {
  return {
    job: { jobName },
    deployment: { kind: 'sql', version: 'v1', script: 'INSERT INTO demo.orders SELECT * FROM v1_source' },
    sinkTables: TABLES,
    restorePoint: { savepointId },
    options: {
      approvers: ['alice', 'bob', 'carol'],
      requestedBy: 'alice',
      fourEyes: true,
      approvalTimeout: '60s',
      savepointTimeout: '20s',
      tagTimeout: '10s',
      healthTimeout: '20s',
      ...options,
    },
  };
}

/** Polls until the restore of `jobName` waits for approval of plan `version`; returns that plan. */
export async function awaitingApproval(client: Client, jobName: string, version = 1): Promise<RestorePlan> {
  const handle = client.workflow.getHandle(operationWorkflowId({ jobName }));
  for (let i = 0; i < 400; i++) {
    const plan = await handle.query(planQuery).catch(() => undefined);
    if (plan?.version === version) {
      const { typedSearchAttributes } = await handle.describe();
      if (typedSearchAttributes.get(operationStepKey) === 'awaiting-approval') return plan;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the restore of ${jobName} never waited for approval of plan ${version}`);
}

/** Starts the restore of `jobName` on `taskQueue`, approves its plan 1 as bob (signed) once it waits for approval, and gives its result. */
export async function restoreApprovedByBob(client: Client, jobName: string, input: RestoreInput, taskQueue: string) {
  const handle = await startRestore(client, input, { taskQueue });
  await awaitingApproval(client, jobName);
  await approveSigned(client, { jobName }, { approver: 'bob', planVersion: 1 });
  return handle.result();
}

/** Activities that change something: none of them may run before an approval. */
export const CHANGING = ['stopWithSavepoint', 'cancelJob', 'createTag', 'createBranch', 'rollbackToTag', 'deployJob', 'deleteTag'];
