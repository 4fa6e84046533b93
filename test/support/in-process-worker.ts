// A worker in the test's own process, on the real Temporal server, with the given activities (the
// real ones, or the real ones with one wrapped): the e2e suites' worker, started and stopped one way.
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Activities } from '../../activities/contract';
import { createClient } from '../../src/client/temporal-connection';
import type { Config } from '../../src/config/config';
import { bundleWorkflows } from './temporal-env';

export interface InProcessWorker {
  /** Shuts the worker down, waits for it, closes its connection; safe to call when start failed half-way. */
  stop(): Promise<void>;
}

export async function startInProcessWorker(config: Config, taskQueue: string, activities: Activities): Promise<InProcessWorker> {
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  let worker: Worker;
  try {
    worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue,
      workflowBundle: await bundleWorkflows(),
      activities,
    });
  } catch (err) {
    await connection.close();
    throw err;
  }
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
    },
  };
}

/** A worker and a client of the same server: what a suite that starts workflows needs. */
export interface WorkerAndClient {
  client: Client;
  /** Stops the worker, then closes the client's connection. */
  stop(): Promise<void>;
}

export async function startWorkerAndClient(config: Config, taskQueue: string, activities: Activities): Promise<WorkerAndClient> {
  const worker = await startInProcessWorker(config, taskQueue, activities);
  let client: Client;
  try {
    client = await createClient(config);
  } catch (err) {
    await worker.stop();
    throw err;
  }
  return {
    client,
    async stop() {
      await worker.stop();
      await client.connection.close();
    },
  };
}
