// The Temporal server workflow tests run against, and the workflow bundle they share.
//
// The time-skipping test server is not bundled with the SDK: createTimeSkipping() downloads it
// from temporal.download, which this environment cannot reach (only package registries). So the
// tests start their own dev server from the Temporal CLI that scripts/stack.sh installed, with
// our search attributes registered, and keep workflow timeouts short instead of skipping time.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { flinkJobKey, operationStepKey } from '../../workflows/messages';
import { repoRoot } from '../../src/config/repo-root';
import { workflowBundleOptions } from '../../src/worker/workflow-bundle';
import { afterAll, beforeAll } from 'vitest';

/** The CLI to run the dev server from: TEMPORAL_CLI, else the stack's, else a download. */
function temporalCli(): string | undefined {
  const candidates = [process.env.TEMPORAL_CLI, path.join(repoRoot(), '.stack', 'bin', 'temporal')];
  return candidates.find((file): file is string => !!file && existsSync(file));
}

let runtimeInstalled = false;

/** Worker and workflow logs at WARN and above (TEST_LOG_LEVEL=INFO to see the workflow's own logs). */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (process.env.TEST_LOG_LEVEL ?? 'WARN') as 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  Runtime.install({ logger: new DefaultLogger(level) });
}

export async function createTestEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const cli = temporalCli();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: cli ? { type: 'existing-path', path: cli } : undefined,
      searchAttributes: [flinkJobKey, operationStepKey],
      log: { format: 'pretty', level: 'error' },
    },
  });
}

/**
 * Bundle once per test file: webpack takes seconds, a Worker from a bundle milliseconds. The
 * worker's bundle options (workflows/preload.ts shared across runs), so tests run its sandbox.
 */
export async function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ ...workflowBundleOptions, logger: quietLogger });
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string, meta?: Record<string, unknown>) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta ?? ''),
};

let counter = 0;
/** Unique per test: task queues and workflow ids never collide across tests or reruns. */
export const unique = (prefix: string): string => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++counter}`;

export interface WorkflowTestEnv {
  readonly env: TestWorkflowEnvironment;
  readonly bundle: WorkflowBundleWithSourceMap;
  readonly client: Client;
}

/**
 * A test file's dev server and workflow bundle: started in beforeAll, torn down in afterAll. The
 * getters throw if read before beforeAll has run.
 */
export function useWorkflowTestEnv(
  bundleOf: () => Promise<WorkflowBundleWithSourceMap> = bundleWorkflows,
): WorkflowTestEnv {
  let env: TestWorkflowEnvironment | undefined;
  let bundle: WorkflowBundleWithSourceMap | undefined;
  beforeAll(async () => {
    [env, bundle] = await Promise.all([createTestEnv(), bundleOf()]);
  });
  afterAll(async () => {
    await env?.teardown();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the workflow test env is used before beforeAll ran');
    return value;
  };
  return {
    get env() {
      return started(env);
    },
    get bundle() {
      return started(bundle);
    },
    get client() {
      return started(env).client;
    },
  };
}
