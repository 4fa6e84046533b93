// Fault: the Temporal dev server is stopped (SIGTERM) in the middle of an upgrade and started
// again on the same database file (`stack.sh up`). Workflow state lives in that file, so the same
// run must go on once the worker (a separate process, never restarted here) has reconnected:
// upgraded, one savepoint, one live job, every id once.
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelJobsNamed } from '../support/demo-pipeline';
import { pidOf, stackUp, stopProcess } from '../support/stack-process';
import { requireStack } from '../support/stack';
import { unique } from '../support/temporal-env';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';
import {
  activityRunning,
  connectClient,
  expectCleanUpgrade,
  JOB_PREFIX,
  resultOf,
  startV1,
  terminateIfRunning,
  upgradeToV2,
} from './fixture';

const JOB_NAME = `${JOB_PREFIX}temporal-restart`;
const taskQueue = unique(`${JOB_PREFIX}temporal-restart`);

describe('fault: Temporal dev server restarted mid-upgrade with its database file (real server, SIGTERM, stack.sh up)', () => {
  let client: Client;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    await requireStack();
    await cancelJobsNamed(JOB_NAME);
    client = await connectClient();
  });

  afterAll(async () => {
    // The server must be back whatever happened: later test files need it.
    await stackUp();
    await worker?.stop();
    if (client) await terminateIfRunning(client, JOB_NAME).catch(() => undefined);
    await cancelJobsNamed(JOB_NAME);
    await client?.connection.close();
  });

  it('restarted during the stop-with-savepoint: the same run completes, one savepoint, one live job, ids once', async () => {
    const [oldJobId, started] = await Promise.all([startV1(JOB_NAME), startWorkerProcess(taskQueue)]);
    worker = started;

    const handle = await upgradeToV2(client, JOB_NAME, taskQueue);
    await activityRunning(handle, 'stopWithSavepoint');
    const serverPid = pidOf('temporal');
    await stopProcess('temporal', 'SIGTERM');
    await stackUp();
    expect(pidOf('temporal')).not.toBe(serverPid);

    const result = await resultOf(handle);
    // The run that was going on before the restart is the one that finished.
    const { runId, status } = await client.workflow.getHandle(handle.workflowId).describe();
    expect({ runId, status: status.name }).toEqual({ runId: handle.firstExecutionRunId, status: 'COMPLETED' });
    await expectCleanUpgrade(result, oldJobId, JOB_NAME);
  }, 360_000);
});
