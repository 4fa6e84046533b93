// Fault: the worker is SIGKILLed in the middle of an upgrade, inside the stop-with-savepoint,
// inside the tag wait and inside the deploy of the new version. A new worker process on the same
// task queue must take over from Temporal's history alone: the workflow ends `upgraded` with
// exactly one savepoint, exactly one live job of the name, and every id exactly once. Real stack,
// real worker process (src/worker/main.ts); the killed activity attempt must really have been
// abandoned and retried. The three upgrades run one after the other on the same pipeline
// (v1 -> v2 -> v2.1 -> v2.2), each killing the worker at another step.
import { beforeAll, describe, expect, it } from 'vitest';
import { liveJobsNamed } from '../support/demo-pipeline';
import { startWorkerProcess } from '../support/worker-process';
import {
  activityRunning,
  expectCleanUpgrade,
  faultScene,
  maxIds,
  resultOf,
  retryStartedAfter,
  startedAttempts,
  startV1,
  upgradeToV2,
} from './fixture';


describe('fault: worker SIGKILLed mid-upgrade, a new worker resumes (real stack, worker as a child process)', () => {
  const scene = faultScene('worker-kill');
  const { jobName: JOB_NAME, taskQueue } = scene;
  /** the largest ids v1 wrote: v2 wrote every id after them, through every later upgrade */
  let v1UpTo: number[] | undefined;
  let from: 'v1' | 'v2' = 'v1';

  beforeAll(async () => {
    [, scene.worker] = await Promise.all([startV1(JOB_NAME), startWorkerProcess(taskQueue)]);
  });


  const killedDuring = (step: string, activity: string, label: string) =>
    it(`killed during ${step} (${activity}): ${label} upgraded, one savepoint, one live job, ids once`, async () => {
      const [live] = await liveJobsNamed(JOB_NAME);
      expect(live, `a live ${JOB_NAME} to upgrade (the previous case left it)`).toBeDefined();

      const handle = await upgradeToV2(scene.client, JOB_NAME, taskQueue, from, label);
      await activityRunning(handle, activity);
      const killedAt = Date.now();
      await scene.worker!.kill();
      scene.worker = await startWorkerProcess(taskQueue);
      // Measured, not asserted (timing goals live in `npm run bench`): the stop-with-savepoint's
      // heartbeat timeout is 10 s, the other waits' 30 s.
      const takeover = await retryStartedAfter(handle, activity, killedAt);
      console.log(`worker killed during ${activity}: the next attempt started ${takeover === undefined ? '(none: it had finished)' : `${(takeover / 1000).toFixed(1)} s`} after the kill`);

      const result = await resultOf(handle);
      // The killed attempt never reported back: a later attempt, started after the heartbeat
      // timeout, is the one that finished.
      expect((await startedAttempts(handle, activity)).at(-1)).toBeGreaterThan(1);
      v1UpTo ??= await maxIds(result.tag);
      await expectCleanUpgrade(result, live!.jid, JOB_NAME, v1UpTo);
      from = 'v2';
    });

  killedDuring('the savepoint', 'stopWithSavepoint', 'v2');
  killedDuring('the tag wait', 'awaitTag', 'v2.1');
  killedDuring('the deploy', 'deployJob', 'v2.2');
});
