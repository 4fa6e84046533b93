// The restore-point catalog follows the table's timeline: after a restore to an older point the
// restored run counts checkpoint ids on from it, so savepoint ids (and tag names) repeat. On a real
// (temporary) savepoint dir with Flink's real `_metadata` reader and fake Paimon tags.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogLevel } from '@temporalio/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCatalogActivities } from '../../activities/catalog/activities';
import { writeSavepoint } from '../support/savepoint-files';
import type { CatalogActivities } from '../../activities/contract';
import { inspectSavepoint } from '../../activities/flink/savepoints';
import { loadConfig } from '../../src/config/config';
import type { TableRef, TagInfo } from '../../src/domain/model';

const TABLES: TableRef[] = ['demo.seq_a', 'demo.seq_b'];
const JOB = 'timeline-job';
const env = new MockActivityEnvironment(undefined, {
  logger: new DefaultLogger((process.env.TEST_LOG_LEVEL ?? 'ERROR') as LogLevel),
});

describe('restore-point catalog across timelines', () => {
  let root: string;
  let savepointDir: string;
  /** Per table: tag name -> the snapshot it is on and that snapshot's commit time. */
  let tags: Map<TableRef, Map<string, { snapshotId: number; commitTime: string }>>;
  let catalog: CatalogActivities;
  /** Stands in for the snapshot commits: each tag a savepoint makes is on a new commit time. */
  let clock: number;

  const call = <K extends keyof CatalogActivities>(name: K, input: Parameters<CatalogActivities[K]>[0]) =>
    env.run<[unknown], unknown, (i: unknown) => Promise<unknown>>(catalog[name] as (i: unknown) => Promise<unknown>, input) as ReturnType<
      CatalogActivities[K]
    >;

  /** Paimon's auto-tag for savepoint `id` on every table (snapshot = id + 100 here). */
  const tagOnEveryTable = (id: number) => {
    const commitTime = new Date(Date.UTC(2026, 0, 1) + ++clock * 1000).toISOString().slice(0, 19);
    for (const t of TABLES) tags.get(t)!.set(`savepoint-${id}`, { snapshotId: id + 100, commitTime });
  };

  /** rollback_to savepoint-<to>: every newer tag goes, as Paimon 1.3 does. Returns what it deleted. */
  const rollBackTo = (to: number) =>
    TABLES.flatMap((table) => {
      const at = tags.get(table)!.get(`savepoint-${to}`)!.snapshotId;
      return [...tags.get(table)!]
        .filter(([, t]) => t.snapshotId > at)
        .map(([tag, t]) => {
          tags.get(table)!.delete(tag);
          return { table, tag, snapshotId: t.snapshotId };
        });
    });

  /** A savepoint of job run `run` (its job id's first 6 chars), tagged, then recorded. */
  async function takeAndRecord(savepointId: number, run: string, over: { pinned?: boolean; tagged?: boolean } = {}) {
    const jobId = run.padEnd(32, '0');
    const sp = await writeSavepoint(path.join(savepointDir, `savepoint-${run}-${savepointId}0000000`), savepointId);
    if (over.tagged !== false) tagOnEveryTable(savepointId);
    return call('recordRestorePoint', {
      jobName: JOB,
      jobId,
      savepoint: { savepointId, path: sp, triggeredAt: Date.UTC(2026, 0, 1) + clock * 1000 },
      tables: TABLES,
      pinned: over.pinned ?? false,
      taggedAtRecord: over.tagged !== false,
    });
  }

  const list = () => call('listRestorePoints', { jobName: JOB, tables: TABLES });
  const summary = async () =>
    (await list()).map((p) => `${p.savepointId} ${p.path?.replace(/^.*savepoint-(\w{6})-.*$/, '$1') ?? '?'} ${p.restorable ? 'ok' : p.lost ? 'lost' : 'no'}`);

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'catalog-timeline-'));
    savepointDir = path.join(root, 'savepoints');
    await mkdir(savepointDir);
    tags = new Map(TABLES.map((t) => [t, new Map()]));
    clock = 0;
    const config = loadConfig({ FLINK_SAVEPOINT_DIR: `file://${savepointDir}`, STACK_HOME: root });
    catalog = createCatalogActivities(config, {
      inspectSavepoint: (input) => inspectSavepoint(input),
      listTagsOfTables: async ({ tables }) =>
        Object.fromEntries(
          tables.map((table) => [
            table,
            [...(tags.get(table) ?? [])].map(([tagName, t]): TagInfo => ({ tagName, ...t, schemaId: 0, recordCount: 1 })),
          ]),
        ),
    });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('a restore marks the points its rollback deleted as lost; the restored run records the same ids without a conflict', async () => {
    for (const id of [10, 11, 12]) await takeAndRecord(id, 'aaaaaa', { pinned: id === 11 });
    const deleted = rollBackTo(10);
    const at = '2026-01-02T00:00:00.000Z';
    const { lost } = await call('markRestorePointsLost', { jobName: JOB, tagsDeleted: deleted, deletedBy: 'rollback_to savepoint-10 by restore r1', at });
    expect(lost.map((l) => l.savepointId)).toEqual([11, 12]);
    // A retry finds nothing left to move.
    expect(await call('markRestorePointsLost', { jobName: JOB, tagsDeleted: deleted, deletedBy: 'rollback_to savepoint-10 by restore r1', at })).toEqual({ lost: [] });
    expect(await summary()).toEqual(['10 aaaaaa ok', '12 aaaaaa lost', '11 aaaaaa lost']);
    const [lost12] = (await list()).filter((p) => p.savepointId === 12);
    expect(lost12).toMatchObject({
      recorded: true,
      savepointPresent: true,
      lost: { since: at, reason: 'tag savepoint-12 deleted from demo.seq_a (snapshot 112), demo.seq_b (snapshot 112) by rollback_to savepoint-10 by restore r1' },
    });

    // The restored run (job bbbbbb) counts on from 10: its savepoints are 11 and 12 again.
    await takeAndRecord(11, 'bbbbbb');
    await takeAndRecord(12, 'bbbbbb');
    expect(await summary()).toEqual(['12 bbbbbb ok', '11 bbbbbb ok', '10 aaaaaa ok', '12 aaaaaa lost', '11 aaaaaa lost']);
    // The old records are kept (pinned stays pinned), and no savepoint files were deleted.
    const lostDir = path.join(root, 'restore-points', JOB, 'lost');
    expect((await readdir(lostDir)).sort()).toEqual(['11-savepoint-aaaaaa-110000000.json', '12-savepoint-aaaaaa-120000000.json']);
    expect(JSON.parse(await readFile(path.join(lostDir, '11-savepoint-aaaaaa-110000000.json'), 'utf8'))).toMatchObject({ pinned: true, lost: { since: at } });
    expect((await readdir(savepointDir)).length).toBe(5);
  });

  it('without the restore marking them, the next savepoint with the id moves the old record aside: tag deleted, or made again', async () => {
    await takeAndRecord(20, 'aaaaaa');
    await takeAndRecord(21, 'aaaaaa');
    await takeAndRecord(22, 'aaaaaa', { pinned: true });
    rollBackTo(20);
    // 21 of the new run: its tag is made again on (here) the same snapshot id, at another commit.
    const new21 = await takeAndRecord(21, 'bbbbbb');
    expect(new21.path).toContain('savepoint-bbbbbb-21');
    // Before 22 of the new run records, the old 22 is only not restorable (its tag is gone, as an
    // expired tag would be: retention may clean it up); the old 21 is lost (its tag was made again).
    const before = await list();
    expect(await summary()).toEqual(['21 bbbbbb ok', '22 aaaaaa no', '20 aaaaaa ok', '21 aaaaaa lost']);
    expect(before[1]!.problems).toEqual(['tag savepoint-22 missing on demo.seq_a, demo.seq_b']);
    // A savepoint whose tag did not come (yet) takes the id too: the old tag is gone either way.
    await takeAndRecord(22, 'bbbbbb', { tagged: false });
    const points = await list();
    expect(points.map((p) => `${p.savepointId} ${p.recorded} ${p.restorable} ${p.lost ? 'lost' : ''}`)).toEqual([
      '22 true false ',
      '21 true true ',
      '20 true true ',
      '22 true false lost',
      '21 true false lost',
    ]);
    const old22 = points[3]!;
    expect(old22).toMatchObject({ pinned: true, savepointPresent: true, path: expect.stringContaining('savepoint-aaaaaa-22') });
    expect(old22.lost!.since).not.toBeNull();
    expect(old22.lost!.reason).toMatch(/^tag savepoint-22 deleted from demo.seq_a, demo.seq_b since it was recorded; savepoint 22 at file:.*savepoint-bbbbbb-22\S* took its id$/);
    const old21 = points[4]!;
    expect(old21.lost!.reason).toMatch(/^tag deleted and made again by a later savepoint with the same id on demo.seq_a \(recorded on snapshot 121 committed \S+, now on snapshot 121 committed \S+\)/);
  });

  it('still refuses another savepoint with the id while the recorded one keeps its tag (a fresh job counting from 1 again)', async () => {
    const first = await takeAndRecord(3, 'aaaaaa');
    // Paimon keeps the old tag and does not tag the new savepoint 3.
    const sp = await writeSavepoint(path.join(savepointDir, 'savepoint-cccccc-30000000'), 3);
    await expect(
      call('recordRestorePoint', { jobName: JOB, jobId: 'cccccc'.padEnd(32, '0'), savepoint: { savepointId: 3, path: sp, triggeredAt: 0 }, tables: TABLES, pinned: false, taggedAtRecord: false }),
    ).rejects.toMatchObject({ type: 'RestorePointConflict', message: expect.stringContaining('its tag savepoint-3 is still on its tables') });
    expect(await summary()).toEqual(['3 aaaaaa ok']);
    expect((await list())[0]!.path).toBe(first.path);
  });

  it('an unrecorded tag of the new timeline is never matched to an old record\'s savepoint directory', async () => {
    await takeAndRecord(30, 'aaaaaa');
    await takeAndRecord(31, 'aaaaaa');
    rollBackTo(30);
    // The restored run stops with savepoint 31 (a restore's stop-with-savepoint: tagged, nobody records it).
    const stop = await writeSavepoint(path.join(savepointDir, 'savepoint-bbbbbb-stop31'), 31);
    tagOnEveryTable(31);
    const points = await list();
    // Newest first: the restored run's stop (its _metadata written now) before point 30; the lost 31 last.
    expect(points.map((p) => [p.savepointId, p.recorded, p.path, p.restorable])).toEqual([
      [31, false, stop, true],
      [30, true, expect.stringContaining('savepoint-aaaaaa-30'), true],
      [31, true, expect.stringContaining('savepoint-aaaaaa-31'), false],
    ]);
  });

  it('retention cannot take a record that a new timeline\'s savepoint replaced since it listed it', async () => {
    const old = await takeAndRecord(40, 'aaaaaa');
    tags.forEach((t) => t.delete('savepoint-40'));
    const fresh = await takeAndRecord(40, 'bbbbbb');
    await expect(call('markRestorePointExpiring', { jobName: JOB, savepointId: 40, at: new Date().toISOString(), path: old.path })).rejects.toMatchObject({
      type: 'RestorePointConflict',
    });
    await call('deleteRestorePointRecord', { jobName: JOB, savepointId: 40, path: old.path });
    const [live] = await list();
    expect(live).toMatchObject({ savepointId: 40, path: fresh.path, restorable: true, expiring: false });
  });

  it('fails on a corrupt lost record rather than silently forgetting it', async () => {
    await takeAndRecord(50, 'aaaaaa');
    const lostDir = path.join(root, 'restore-points', JOB, 'lost');
    await mkdir(lostDir, { recursive: true });
    await writeFile(path.join(lostDir, '50-savepoint-aaaaaa-500000000.json'), '{"savepointId": 50');
    await expect(list()).rejects.toMatchObject({ type: 'RestorePointRecordInvalid' });
  });
});
