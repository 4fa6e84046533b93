// Production topology: three worker processes on one task queue, Temporal's server on PostgreSQL.
// An upgrade v1 -> v2 is under way and the worker running its stop-with-savepoint is SIGKILLed.
// Another worker retries the activity after its heartbeat timeout and finds the stop already
// under way (the trigger is idempotent): the upgrade ends `upgraded` with one savepoint, one
// tag per table, one live job of the name, and every id exactly once (v1's up to the tag, v2's after).
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { localPath } from '../../activities/catalog/store';
import { startUpgrade } from '../../src/client/start-upgrade';
import type { UpgradeResult } from '../../workflows/messages';
import { liveJobsNamed } from '../support/demo-pipeline';
import { config, flinkGet, until } from '../support/stack';
import { anyActivityRunning, expectIdsOnce, maxIds, operationScene, pipeline, savepointTags, startV1 } from './fixture';

const P = pipeline('upgrade');

describe('production: the worker running an upgrade\'s stop-with-savepoint SIGKILLed (3 workers, PostgreSQL-backed server)', () => {
  const scene = operationScene(P, 'prod-upgrade');
  const { pool } = scene;

  it('upgraded: one savepoint, one tag per table, one live job, ids once', { timeout: 600_000 }, async () => {
    const [oldJobId] = await Promise.all([startV1(P), pool.fill()]);
    const handle = await startUpgrade(
      scene.client,
      {
        job: { jobName: P.jobName },
        newVersion: { kind: 'sql', version: 'v2', scriptFile: P.script('pipeline-v2.sql') },
        oldVersion: { kind: 'sql', version: 'v1', scriptFile: P.script('pipeline-v1.sql') },
        sinkTables: P.sinks,
        options: { healthTimeout: '2m', tagTimeout: '2m', savepointTimeout: '3m' },
      },
      { taskQueue: pool.taskQueue },
    );
    await anyActivityRunning([handle], 'stopWithSavepoint');
    const killedPid = await pool.killRunning(handle, 'stopWithSavepoint');
    const killedAt = Date.now();
    console.log(`upgrade: SIGKILLed worker ${killedPid} during stopWithSavepoint; ${pool.workers.length} workers left`);

    const result = (await handle.result()) as UpgradeResult;
    console.log(`upgrade: ${result.status} ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
    const { events } = await handle.fetchHistory();
    const stopAttempts = (events ?? []).flatMap((e) => {
      const started = e.activityTaskStartedEventAttributes;
      const scheduled = started && events!.find((s) => String(s.eventId) === String(started.scheduledEventId));
      return scheduled?.activityTaskScheduledEventAttributes?.activityType?.name === 'stopWithSavepoint' ? [started!.attempt ?? 1] : [];
    });
    expect(Math.max(...stopAttempts)).toBeGreaterThan(1);

    expect(result).toMatchObject({ status: 'upgraded', oldJobId, tag: `savepoint-${result.savepoint?.id}` });
    // One savepoint stopped the old job: in its checkpoint statistics (it stopped, so they stay) and on disk.
    const stats = await flinkGet<{ history: { is_savepoint: boolean; status: string; id: number }[] }>(`/jobs/${oldJobId}/checkpoints`);
    expect(stats.history.filter((c) => c.is_savepoint).map((c) => ({ id: c.id, status: c.status }))).toEqual([{ id: result.savepoint!.id, status: 'COMPLETED' }]);
    const dirs = (await readdir(localPath(config.flink.savepointDir, 'savepoint dir'))).filter((d) => d.startsWith(`savepoint-${oldJobId.slice(0, 6)}-`));
    expect(dirs).toHaveLength(1);
    expect((await liveJobsNamed(P.jobName)).map((j) => j.jid)).toEqual([result.newJobId]);
    expect(await savepointTags(P)).toEqual([[result.tag], [result.tag]]);

    const atTag = await maxIds(P, result.tag);
    await until('v2 to write past the tag', 90_000, async () => ((await maxIds(P)).every((hi, i) => hi > atTag[i]! + 20) ? true : undefined));
    await expectIdsOnce(P, atTag, 'v2');
  });
});
