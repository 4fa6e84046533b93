// Fault: the Flink JobManager stops answering for 30 s in the middle of an upgrade, while the
// stop-with-savepoint is being polled. The real JobManager process is frozen (SIGSTOP, then
// SIGCONT): its REST port accepts connections but nothing answers, as with a JobManager stuck in
// a long GC or cut off by the network. The TaskManager's heartbeat timeout (50 s) is longer, so
// the job itself survives. The workflow must retry through it and complete with exactly one
// savepoint, one live job and every id once.
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { liveJobsNamed } from '../support/demo-pipeline';
import { freeze } from '../support/stack-process';
import { config } from '../support/stack';
import { startWorkerProcess } from '../support/worker-process';
import {
  activityRunning,
  expectCleanUpgrade,
  faultScene,
  resultOf,
  startedAttempts,
  startV1,
  upgradeToV2,
} from './fixture';

const FROZEN_MS = 30_000;

/** Whether the JobManager's REST answers /overview within 3 s. */
const restAnswers = () =>
  request(`${config.flink.restUrl}/overview`, { headersTimeout: 3_000, bodyTimeout: 3_000 })
    .then(async (res) => (await res.body.text(), true))
    .catch(() => false);

describe('fault: Flink JobManager REST unreachable for 30 s mid-upgrade (real JobManager frozen with SIGSTOP)', () => {
  const scene = faultScene('flink-unreachable');
  const { jobName: JOB_NAME, taskQueue } = scene;


  it('frozen during the stop-with-savepoint: retried, upgraded, one savepoint, one live job, ids once', async () => {
    const [oldJobId, started] = await Promise.all([startV1(JOB_NAME), startWorkerProcess(taskQueue)]);
    scene.worker = started;

    const handle = await upgradeToV2(scene.client, JOB_NAME, taskQueue);
    await activityRunning(handle, 'stopWithSavepoint');
    const answeredWhileFrozen = await freeze('jobmanager', FROZEN_MS, restAnswers);
    expect(answeredWhileFrozen, 'the frozen JobManager answered REST').toBe(false);
    expect(await restAnswers(), 'the JobManager answers again after SIGCONT').toBe(true);

    const result = await resultOf(handle);
    // A REST call into the frozen JobManager timed out and failed that attempt; a retry finished.
    expect((await startedAttempts(handle, 'stopWithSavepoint')).at(-1)).toBeGreaterThan(1);
    expect((await liveJobsNamed(JOB_NAME)).length).toBe(1);
    await expectCleanUpgrade(result, oldJobId, JOB_NAME);
  });
});
