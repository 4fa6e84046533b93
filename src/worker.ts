import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { Config } from './config';
import { connectWorker } from './temporal-connection';
import { bundleWorkflowsApart } from './workflow-bundle';

/**
 * A worker on the configured task queue, its workflows bundled afresh in a child process
 * (src/workflow-bundle.ts). The connection stays the caller's to close. `overrides` go on top of
 * these options (the scale benchmark's experiments).
 */
export async function createWorker(config: Config, connection: NativeConnection, overrides: Partial<WorkerOptions> = {}): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: await bundleWorkflowsApart(),
    activities: createActivities(config),
    ...overrides,
  });
}

/**
 * Connects, runs a worker until SIGINT or SIGTERM, then closes the connection. The signals are
 * the Temporal Runtime's default shutdownSignals: the worker stops polling, in-flight activities
 * are cancelled (they heartbeat, so a later attempt resumes), and run() resolves.
 */
export async function runWorker(config: Config, onRunning?: () => void): Promise<void> {
  const connection = await connectWorker(config);
  try {
    const worker = await createWorker(config, connection);
    const running = worker.run();
    onRunning?.();
    await running;
  } finally {
    await connection.close();
  }
  console.log('worker stopped');
}
