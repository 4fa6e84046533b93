// Fault: the Temporal dev server is stopped (SIGTERM) in the middle of an upgrade and started
// again on the same database file (`stack.sh up`). Workflow state lives in that file, so the same
// run must go on once the worker (a separate process, never restarted here) has reconnected:
// upgraded, one savepoint, one live job, every id once.
import { describe, expect, it } from 'vitest';
import { pidOf, stackUp, stopProcess } from '../support/stack-process';
import { startWorkerProcess } from '../support/worker-process';
import {
  activityRunning,
  expectCleanUpgrade,
  faultScene,
  resultOf,
  startV1,
  upgradeToV2,
} from './fixture';


describe('fault: Temporal dev server restarted mid-upgrade with its database file (real server, SIGTERM, stack.sh up)', () => {
  const scene = faultScene('temporal-restart', { bringBack: stackUp });
  const { jobName: JOB_NAME, taskQueue } = scene;


  it('restarted during the stop-with-savepoint: the same run completes, one savepoint, one live job, ids once', async () => {
    const [oldJobId, started] = await Promise.all([startV1(JOB_NAME), startWorkerProcess(taskQueue)]);
    scene.worker = started;

    const handle = await upgradeToV2(scene.client, JOB_NAME, taskQueue);
    await activityRunning(handle, 'stopWithSavepoint');
    const serverPid = pidOf('temporal');
    await stopProcess('temporal', 'SIGTERM');
    await stackUp();
    expect(pidOf('temporal')).not.toBe(serverPid);

    const result = await resultOf(handle);
    // The run that was going on before the restart is the one that finished.
    const { runId, status } = await scene.client.workflow.getHandle(handle.workflowId).describe();
    expect({ runId, status: status.name }).toEqual({ runId: handle.firstExecutionRunId, status: 'COMPLETED' });
    await expectCleanUpgrade(result, oldJobId, JOB_NAME);
  }, 360_000);
});
