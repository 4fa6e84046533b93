// Production topology: three worker processes on one task queue, Temporal's server on PostgreSQL.
// Every pipeline has a savepoint schedule; all are triggered at once (a fan-out of scheduled
// savepoints spread over the workers), and the worker running one of the savepoints is SIGKILLed
// mid-activity. The two others take its work over from the history: every run completes with a
// restorable point, each trigger made exactly one savepoint (on disk and in the catalog), each
// table has exactly one savepoint tag, and every id is in every table exactly once.
import { rm } from 'node:fs/promises';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { localPath, RestorePointStore } from '../../activities/catalog/store';
import { createSavepointSchedule, deleteSavepointSchedule, describeSavepointSchedule, triggerSavepointSchedule } from '../../src/client/schedules';
import type { RestorePoint } from '../../src/domain/restore-points';
import type { TakeSavepointResult } from '../../src/domain/savepoint-input';
import { operationWorkflowId } from '../../workflows/messages';
import { cancelJobsNamed } from '../support/demo-pipeline';
import { savepointDirsOf } from '../support/savepoint-dirs';
import { config, requireStack, until } from '../support/stack';
import { unique } from '../support/temporal-env';
import { anyActivityRunning, expectIdsOnce, maxIds, pipeline, requireServerMode, savepointTags, startV1, WorkerPool } from './fixture';

const PIPELINES = [0, 1, 2, 3].map((i) => pipeline(`fan${i}`));
const activityEnv = new MockActivityEnvironment();
const listRestorePoints = createActivities(config).listRestorePoints;

describe('production: a worker SIGKILLed during a fan-out of scheduled savepoints (3 workers, PostgreSQL-backed server)', () => {
  const pool = new WorkerPool(unique('prod-fanout'));
  let client: Client;
  const jobIds: string[] = [];
  const results: TakeSavepointResult[] = [];

  beforeAll(async () => {
    requireServerMode();
    await requireStack();
    client = new Client({ connection: await Connection.connect({ address: config.temporal.address }), namespace: config.temporal.namespace });
    for (const p of PIPELINES) {
      await cancelJobsNamed(p.jobName);
      await deleteSavepointSchedule(client, p.jobName).catch(() => undefined);
    }
    const [ids] = await Promise.all([Promise.all(PIPELINES.map(startV1)), pool.fill()]);
    jobIds.push(...ids);
    for (const p of PIPELINES) {
      await createSavepointSchedule(
        client,
        { savepoint: { job: { jobName: p.jobName }, tables: p.sinks, options: { label: 'prod fan-out', tagTimeout: '2m' } }, every: '1h', paused: true },
        { taskQueue: pool.taskQueue },
      );
    }
  });

  afterAll(async () => {
    for (const p of PIPELINES) await deleteSavepointSchedule(client, p.jobName).catch(() => undefined);
    await pool.stop();
    for (const p of PIPELINES) await cancelJobsNamed(p.jobName);
    for (const r of results) await rm(localPath(r.path, 'savepoint'), { recursive: true, force: true });
    const store = new RestorePointStore(config.flink.savepointDir);
    for (const p of PIPELINES) await rm(store.jobDir(p.jobName), { recursive: true, force: true });
    await client?.connection.close();
  });

  it('every scheduled run completes: one savepoint per trigger, one tag per table, ids once', { timeout: 600_000 }, async () => {
    for (const p of PIPELINES) await triggerSavepointSchedule(client, p.jobName);
    const handles: WorkflowHandle[] = await Promise.all(
      PIPELINES.map(async (p) => {
        const action = await until(`${p.jobName}'s schedule to start its run`, 60_000, async () => (await describeSavepointSchedule(client, p.jobName)).recentActions[0]);
        return client.workflow.getHandle(action.workflowId, action.runId);
      }),
    );

    // Each scheduled run takes its savepoint in a child under the job's operation id (one operation
    // per job): the activities run there.
    const children: WorkflowHandle[] = await Promise.all(
      handles.map((h, i) =>
        until(`${h.workflowId}'s savepoint under the job's operation id`, 60_000, async () => {
          const child = client.workflow.getHandle(operationWorkflowId({ jobName: PIPELINES[i]!.jobName }));
          const d = await child.describe().catch(() => undefined);
          return d?.parentExecution?.workflowId === h.workflowId ? client.workflow.getHandle(child.workflowId, d.runId) : undefined;
        }),
      ),
    );

    // The savepoint itself if we catch one in flight, else the tag wait (seconds, until the next checkpoint).
    const activity = await anyActivityRunning(children, 'triggerSavepoint', 60_000)
      .then((h) => ({ handle: h, type: 'triggerSavepoint' }))
      .catch(async () => ({ handle: await anyActivityRunning(children, 'awaitTag'), type: 'awaitTag' }));
    const killedPid = await pool.killRunning(activity.handle, activity.type);
    const killedAt = Date.now();
    console.log(`fan-out: SIGKILLed worker ${killedPid} running ${activity.type} of ${activity.handle.workflowId}; ${pool.workers.length} workers left`);

    results.push(...(await Promise.all(handles.map((h) => h.result() as Promise<TakeSavepointResult>))));
    console.log(`fan-out: all ${handles.length} runs completed ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
    // The killed attempt was abandoned and a later one, on another worker, finished it.
    const { events } = await activity.handle.fetchHistory();
    const attempts = (events ?? []).flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 1] : []));
    expect(Math.max(...attempts)).toBeGreaterThan(1);

    // Which worker took each run's savepoint (measured, not asserted: the server spreads tasks as it likes).
    const takenBy = await Promise.all(
      children.map(async (h) => {
        const history = await h.fetchHistory();
        return (history.events ?? []).flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.identity] : [])).join(',');
      }),
    );
    console.log(`fan-out: activity attempts by worker identity per run: ${takenBy.join(' | ')}`);

    for (const [i, p] of PIPELINES.entries()) {
      const result = results[i]!;
      expect(result).toMatchObject({ jobName: p.jobName, jobId: jobIds[i], restorable: true, missingTags: [], tag: `savepoint-${result.savepointId}` });
      // One trigger, one savepoint: one directory of this job's savepoints, one restore point.
      expect(await savepointDirsOf(jobIds[i]!)).toHaveLength(1);
      const points: RestorePoint[] = await activityEnv.run(listRestorePoints, { jobName: p.jobName, tables: p.sinks });
      expect(points.map((pt) => pt.savepointId)).toEqual([result.savepointId]);
      // No tag twice: the savepoint's tag, and no other savepoint tag, on each table.
      expect(await savepointTags(p)).toEqual([[result.tag], [result.tag]]);
      // The job keeps writing after its savepoint: every id once, at the tag and later.
      const atTag = await maxIds(p, result.tag);
      await until(`${p.jobName} to write past its tag`, 90_000, async () => ((await maxIds(p)).every((hi, t) => hi > atTag[t]! + 10) ? true : undefined));
      await expectIdsOnce(p, [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], 'v1');
    }
  });
});
