// How a refusal reaches the user: the failure type and message at the root of a failed workflow
// (what `savepointctl --wait` prints), and which activities the workflow ran before refusing.
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { expect } from 'vitest';
import { operationWorkflowId } from '../../workflows/messages';
import { scheduledActivities } from '../support/replay';
import type { BadInputStack } from './fixture';

export interface Refusal {
  /** the ApplicationFailure's type, e.g. 'JobNotFound' */
  type: string | undefined;
  message: string;
}

/** The root ApplicationFailure of a failed workflow result, or the error itself if it is not one. */
export async function refusalOf(result: Promise<unknown>): Promise<Refusal> {
  const err = await result.then(
    (value) => {
      throw new Error(`expected a refusal, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  let cause: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  let root: ApplicationFailure | undefined;
  while (cause instanceof Error) {
    if (cause instanceof ApplicationFailure) root = cause;
    cause = cause.cause;
  }
  if (root) return { type: root.type ?? undefined, message: root.message };
  return { type: (err as Error).name, message: (err as Error).message };
}

/** The activity types a workflow run scheduled, in order. */
export async function activitiesRun(handle: WorkflowHandle): Promise<string[]> {
  return scheduledActivities(await handle.fetchHistory()).names;
}

/** Runs a started workflow to its refusal; checks it ran only read-only activities before it. */
export async function refusedAfterReadsOnly(handle: WorkflowHandle): Promise<{ refusal: Refusal; ran: string[] }> {
  const refusal = await refusalOf(handle.result());
  const ran = await activitiesRun(handle);
  expect(ran.filter((a) => !READ_ONLY_ACTIVITIES.has(a)), `activities run before refusing: ${ran.join(', ')}`).toEqual([]);
  return { refusal, ran };
}

/**
 * Starts `workflowType` the way the Temporal UI does (the job's workflow id, the JSON as typed)
 * once per case: each must fail InvalidInput with its message, before any activity.
 */
export async function expectUiRefusals(stack: BadInputStack, workflowType: string, cases: [unknown[], string][]): Promise<void> {
  for (const [args, message] of cases) {
    const handle = await stack.client.workflow.start(workflowType, {
      taskQueue: stack.taskQueue,
      workflowId: operationWorkflowId({ jobName: stack.jobName }),
      args,
    });
    const refusal = await refusalOf(handle.result());
    expect(refusal.type, JSON.stringify(args)).toBe('InvalidInput');
    expect(refusal.message, JSON.stringify(args)).toContain(message);
    expect(await activitiesRun(handle)).toEqual([]);
  }
}

/** Activities that read only: a refusal may run these and nothing else. */
export const READ_ONLY_ACTIVITIES = new Set([
  // the approvers' allowed-signers file, read by the worker
  'awaitApproverKeys',
  'resolveJob',
  'getJob',
  'describeSinkTables',
  'checkFlinkCluster',
  'listRestorePoints',
  'listTags',
  'tableState',
  'inspectSavepoint',
  // the checks before anything is stopped: a throwaway gateway session and EXPLAIN, checkpoint statistics
  'checkDeployments',
  'requireRecentCheckpoint',
  // the upgrade's parallelism per vertex and its claim on the job's state: the job's plan and checkpoint statistics
  'planUpgradeShape',
  // other writers and readers of the sink tables: each live job's plan, the tables' $consumers
  'findTableJobs',
  'listConsumers',
]);
