// Inputs and a worker for upgrade workflow tests.
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { expect } from 'vitest';
import type { UpgradeInput } from '../../workflows/input';
import type { FakeStack } from '../support/fake-stack';
import { unique } from '../support/temporal-env';

export const TABLES = ['demo.orders', 'demo.customers'];

/** v1 → v2 of `jobName`, with short timeouts: the dev server does not skip time. */
export function upgradeInput(jobName: string, overrides: Partial<UpgradeInput> = {}): UpgradeInput {
  return {
    job: { jobName },
    newVersion: { kind: 'sql', version: 'v2', script: 'INSERT INTO demo.orders SELECT * FROM v2_source' },
    oldVersion: { kind: 'sql', version: 'v1', script: 'INSERT INTO demo.orders SELECT * FROM v1_source' },
    sinkTables: TABLES,
    options: { savepointTimeout: '20s', healthTimeout: '20s', tagTimeout: '10s' },
    ...overrides,
  };
}

/** A worker on a fresh task queue whose activities are the fake stack's, for as long as `fn` runs. */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  bundle: WorkflowBundleWithSourceMap,
  stack: FakeStack,
  fn: (taskQueue: string) => Promise<T>,
  taskQueue = unique('upgrade'),
): Promise<T> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: bundle,
    activities: stack.activities(),
  });
  return worker.runUntil(fn(taskQueue));
}

/** The workflow's failure: its own ApplicationFailure, or the one an activity raised. */
export async function failureOf(result: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await result.then(
    () => expect.fail('the workflow completed; it should have failed'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  let cause: unknown = (err as WorkflowFailedError).cause;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure)) cause = cause.cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}
