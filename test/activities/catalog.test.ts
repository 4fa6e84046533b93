// The restore-point catalog on a real (temporary) savepoint dir, with Flink's real `_metadata`
// reader and fake Paimon tags: what counts as restorable, and what the deletions refuse to do.
import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogLevel } from '@temporalio/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCatalogActivities } from '../../activities/catalog/activities';
import { writeSavepoint } from '../support/savepoint-files';
import type { CatalogActivities } from '../../activities/contract';
import { inspectSavepoint } from '../../activities/flink/savepoints';
import { loadConfig } from '../../src/config/config';
import type { TableRef, TagInfo } from '../../src/domain/model';
import type { RestorePoint } from '../../src/domain/restore-points';
import { decideRetention } from '../../src/domain/retention-policy';
import { TAG_REMADE } from '../../src/domain/restore-points';
import { upgradeSavepointRecord } from '../../workflows/upgrade-restore-point';

const TABLES: TableRef[] = ['demo.seq_a', 'demo.seq_b'];
const localDir = (uri: string) => uri.replace(/^file:/, '');
const JOB_ID = 'ab12cd'.padEnd(32, '0');
// The refusals these tests expect log at WARN; only ERROR shows (TEST_LOG_LEVEL=INFO for all).
const env = new MockActivityEnvironment(undefined, {
  logger: new DefaultLogger((process.env.TEST_LOG_LEVEL ?? 'ERROR') as LogLevel),
});

describe('restore-point catalog activities', () => {
  let root: string;
  let savepointDir: string;
  let tags: Map<TableRef, Set<string>>;
  /** The snapshot and commit time a tag is on, when a test moves it (default snapshot 1, no time). */
  let tagAt: Map<string, { snapshotId: number; commitTime: string }>;
  let catalog: CatalogActivities;
  /** The state getJob answers for a job id (JobNotFound when absent). */
  let jobStates: Map<string, string>;

  /** Runs an activity in an activity context, as the worker would. */
  const call = <K extends keyof CatalogActivities>(name: K, input: Parameters<CatalogActivities[K]>[0]) =>
    env.run<[unknown], unknown, (i: unknown) => Promise<unknown>>(catalog[name] as (i: unknown) => Promise<unknown>, input) as ReturnType<
      CatalogActivities[K]
    >;

  const tagOn = (tag: string, ...tables: TableRef[]) => tables.forEach((t) => tags.get(t)!.add(tag));

  async function takeAndRecord(savepointId: number, over: { pinned?: boolean; triggeredAt?: number; jobId?: string } = {}) {
    const jobId = over.jobId ?? JOB_ID;
    const sp = await writeSavepoint(path.join(savepointDir, `savepoint-${jobId.slice(0, 6)}-${savepointId}00000000`), savepointId);
    return call('recordRestorePoint', {
      jobName: 'paimon demo/x',
      jobId,
      savepoint: { savepointId, path: sp, triggeredAt: over.triggeredAt ?? Date.UTC(2026, 0, savepointId) },
      tables: TABLES,
      pinned: over.pinned ?? false,
      label: 'nightly',
      deploymentVersion: 'v1',
      taggedAtRecord: true,
    });
  }

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'catalog-'));
    savepointDir = path.join(root, 'savepoints');
    await mkdir(savepointDir);
    tags = new Map(TABLES.map((t) => [t, new Set<string>()]));
    tagAt = new Map();
    jobStates = new Map();
    const config = loadConfig({ FLINK_SAVEPOINT_DIR: `file://${savepointDir}`, STACK_HOME: root });
    catalog = createCatalogActivities(config, {
      inspectSavepoint: (input) => inspectSavepoint(input),
      getJob: async ({ jobId }) => {
        const state = jobStates.get(jobId);
        if (!state) throw ApplicationFailure.create({ type: 'JobNotFound', message: `no job ${jobId}`, nonRetryable: true });
        return { jobId, name: 'paimon demo/x', state: state as 'RUNNING', startTime: 0 };
      },
      listTagsOfTables: async ({ tables }) =>
        Object.fromEntries(
          tables.map((table) => [
            table,
            [...(tags.get(table) ?? [])].map(
              (tagName): TagInfo => ({ tagName, snapshotId: 1, commitTime: '', ...tagAt.get(tagName), schemaId: 0, recordCount: 1 }),
            ),
          ]),
        ),
    });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('asRecorded: a recorded point is judged by its own tables, so a wrong table list does not make every point look broken', async () => {
    for (const id of [1, 2, 3]) {
      await takeAndRecord(id);
      tagOn(`savepoint-${id}`, ...TABLES);
    }
    // demo.seq_c exists and tags savepoints, but this job does not write it.
    tags.set('demo.seq_c', new Set(['savepoint-7']));
    const wrongTables: TableRef[] = ['demo.seq_a', 'demo.seq_c'];
    const view = (points: RestorePoint[]) => points.map((p) => ({ id: p.savepointId, restorable: p.restorable, tables: Object.keys(p.tables) }));

    // A restore rolls back exactly the tables it names: none of these points has its tag on seq_c.
    const forRestore = await call('listRestorePoints', { jobName: 'paimon demo/x', tables: wrongTables });
    expect(view(forRestore.filter((p) => p.recorded))).toEqual([3, 2, 1].map((id) => ({ id, restorable: false, tables: wrongTables })));
    const policy = { keepLast: 2, pendingGrace: 15 * 60_000 };
    expect(decideRetention(forRestore, policy, Date.UTC(2026, 5, 1)).filter((d) => d.action === 'delete').map((d) => d.savepointId)).toEqual([3, 2, 1]);

    // Retention judges each record by the tables it names: all restorable, and the policy decides.
    const forRetention = await call('listRestorePoints', { jobName: 'paimon demo/x', tables: wrongTables, asRecorded: true });
    expect(view(forRetention.filter((p) => p.recorded))).toEqual([3, 2, 1].map((id) => ({ id, restorable: true, tables: TABLES })));
    expect(decideRetention(forRetention, policy, Date.UTC(2026, 5, 1)).map((d) => [d.savepointId, d.action])).toEqual([
      [7, 'keep'], // seq_c's own tag: no record of ours, never deleted
      [3, 'keep'],
      [2, 'keep'],
      [1, 'delete'],
    ]);
  });

  it("an intermediate savepoint without its tag: pending while its job runs, never tagged once the job ended or Flink forgot it", async () => {
    const sp = await writeSavepoint(path.join(savepointDir, 'savepoint-ab12cd-900000000'), 9);
    await call('recordRestorePoint', {
      jobName: 'paimon demo/x',
      jobId: JOB_ID,
      savepoint: { savepointId: 9, path: sp, triggeredAt: Date.UTC(2026, 0, 9) },
      tables: TABLES,
      pinned: false,
      taggedAtRecord: false,
    });
    const listed = async () => (await call('listRestorePoints', { jobName: 'paimon demo/x', tables: TABLES }))[0]!;
    jobStates.set(JOB_ID, 'RUNNING');
    expect(await listed()).toMatchObject({ savepointId: 9, restorable: false });
    expect((await listed()).neverTagged).toBeUndefined();
    jobStates.set(JOB_ID, 'CANCELED');
    expect(await listed()).toMatchObject({ restorable: false, neverTagged: expect.stringContaining(`job ${JOB_ID} is CANCELED`) });
    jobStates.clear();
    expect((await listed()).neverTagged).toContain('unknown to Flink');
    // Its tag on every table after all: restorable, nothing said.
    tagOn('savepoint-9', ...TABLES);
    expect(await listed()).toMatchObject({ restorable: true, problems: [] });
    expect((await listed()).neverTagged).toBeUndefined();
  });

  it('a tag deleted by a restore and made again by a later savepoint with the same id is not the restore point', async () => {
    tagAt.set('savepoint-7', { snapshotId: 12, commitTime: '2026-01-07T00:00:03' });
    tagOn('savepoint-7', ...TABLES);
    const record = await takeAndRecord(7);
    expect(record.tagsAtRecord).toEqual(Object.fromEntries(TABLES.map((t) => [t, { snapshotId: 12, commitTime: '2026-01-07T00:00:03' }])));
    let [point] = await call('listRestorePoints', { jobName: 'paimon demo/x', tables: TABLES });
    expect(point).toMatchObject({ savepointId: 7, restorable: true, problems: [] });

    // A restore to an older point deleted the tag; the restored run's savepoint 7 made it again.
    // The record is of the older timeline: listed last, as lost; the new tag is a point of its own,
    // never matched to the old record's savepoint directory.
    tagAt.set('savepoint-7', { snapshotId: 12, commitTime: '2026-01-07T00:09:41' });
    const points = await call('listRestorePoints', { jobName: 'paimon demo/x', tables: TABLES });
    expect(points.map((p) => [p.savepointId, p.recorded, p.path, p.restorable])).toEqual([
      [7, false, null, false],
      [7, true, record.path, false],
    ]);
    const why =
      `${TAG_REMADE} on demo.seq_a (recorded on snapshot 12 committed 2026-01-07T00:00:03, now on snapshot 12 committed 2026-01-07T00:09:41), ` +
      'demo.seq_b (recorded on snapshot 12 committed 2026-01-07T00:00:03, now on snapshot 12 committed 2026-01-07T00:09:41)';
    expect(points[1]).toMatchObject({ lost: { since: null, reason: why }, problems: [`lost: ${why}`], savepointPresent: true });
    expect(points[0]!.lost).toBeUndefined();
  });

  it('records a restore point as JSON beside the savepoints, under a safe folder for the job name', async () => {
    const record = await takeAndRecord(7);
    const file = path.join(root, 'restore-points', 'paimon%20demo%2Fx', '7.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(record);
    expect(record).toMatchObject({
      savepointId: 7,
      jobName: 'paimon demo/x',
      jobId: JOB_ID,
      tables: TABLES,
      pinned: false,
      label: 'nightly',
      deploymentVersion: 'v1',
      createdAt: '2026-01-07T00:00:00.000Z',
      expiringSince: null,
    });
    // A retried activity finds its own record; a different savepoint under the same id is refused
    // while the recorded one's tag is still on the tables.
    expect(await takeAndRecord(7)).toEqual(record);
    tagOn('savepoint-7', ...TABLES);
    await expect(
      call('recordRestorePoint', { ...record, savepoint: { savepointId: 7, path: 'file:/elsewhere', triggeredAt: 0 }, label: undefined, deploymentVersion: undefined, taggedAtRecord: true }),
    ).rejects.toMatchObject({ type: 'RestorePointConflict' });
  });

  it('is restorable only with the tag on every table and the savepoint files present', async () => {
    await takeAndRecord(1);
    await takeAndRecord(2);
    const third = await takeAndRecord(3);
    tagOn('savepoint-1', ...TABLES);
    tagOn('savepoint-2', 'demo.seq_a'); // seq_b has not committed the tag
    tagOn('savepoint-3', ...TABLES);
    await rm(new URL(third.path.replace('file:', 'file://')), { recursive: true });

    const points = await call('listRestorePoints', { jobName: 'paimon demo/x' });
    expect(points.map((p) => [p.savepointId, p.restorable])).toEqual([
      [3, false],
      [2, false],
      [1, true],
    ]);
    const [p3, p2, p1] = points;
    expect(p1).toMatchObject({
      tag: 'savepoint-1',
      recorded: true,
      savepointPresent: true,
      tables: { 'demo.seq_a': 'present', 'demo.seq_b': 'present' },
      jobId: JOB_ID,
      deploymentVersion: 'v1',
      problems: [],
    });
    expect(p2!.tables).toEqual({ 'demo.seq_a': 'present', 'demo.seq_b': 'missing' });
    expect(p2!.problems).toEqual(['tag savepoint-2 missing on demo.seq_b']);
    expect(p3!.savepointPresent).toBe(false);
    expect(p3!.problems).toEqual([`savepoint files missing at ${third.path}`]);
  });

  it('lists a savepoint-<id> tag nobody recorded, finding its directory by the id in _metadata', async () => {
    await takeAndRecord(1);
    tagOn('savepoint-1', ...TABLES);
    // An upgrade's stop-with-savepoint of the same job: tagged, not recorded by us.
    const upgradeSp = await writeSavepoint(path.join(savepointDir, 'savepoint-ab12cd-upgrade00001'), 9);
    // Another job's savepoint 9 elsewhere in the dir: same id, different job id prefix.
    await writeSavepoint(path.join(savepointDir, 'savepoint-ffffff-otherjob0009'), 9);
    tagOn('savepoint-9', ...TABLES);
    // A tag on only one table, and no savepoint anywhere with id 12.
    tagOn('savepoint-12', 'demo.seq_a');

    const points = await call('listRestorePoints', { jobName: 'paimon demo/x', tables: TABLES });
    const byId = new Map(points.map((p) => [p.savepointId, p]));
    // Taken now, outside our workflows: when its `_metadata` was written is when it was taken.
    const { mtimeMs } = await stat(path.join(localDir(upgradeSp), '_metadata'));
    expect(byId.get(9)).toMatchObject({ recorded: false, path: upgradeSp, restorable: true, pinned: false, createdAt: new Date(Math.floor(mtimeMs)).toISOString() });
    expect(byId.get(12)).toMatchObject({ recorded: false, path: null, restorable: false, createdAt: null });
    expect(byId.get(12)!.problems).toHaveLength(2);
    expect(points.map((p) => p.savepointId)).toEqual([9, 1, 12]);
  });

  it("lists newest first by when each savepoint was taken, also one taken with Flink's own CLI (no record: its _metadata's time)", async () => {
    await takeAndRecord(3, { triggeredAt: Date.parse('2026-01-01T00:00:00Z') });
    await takeAndRecord(4, { triggeredAt: Date.parse('2026-01-10T00:00:00Z') });
    // A lower id than both, taken in between by `flink savepoint` (a fresh job counts ids from 1).
    const cli = await writeSavepoint(path.join(savepointDir, 'savepoint-ab12cd-flinkcli0002'), 2);
    await utimes(path.join(localDir(cli), '_metadata'), new Date('2026-01-05T00:00:00Z'), new Date('2026-01-05T00:00:00Z'));
    for (const id of [2, 3, 4]) tagOn(`savepoint-${id}`, ...TABLES);
    const points = await call('listRestorePoints', { jobName: 'paimon demo/x', tables: TABLES });
    expect(points.map((p) => [p.savepointId, p.createdAt, p.recorded])).toEqual([
      [4, '2026-01-10T00:00:00.000Z', true],
      [2, '2026-01-05T00:00:00.000Z', false],
      [3, '2026-01-01T00:00:00.000Z', true],
    ]);
  });

  /** What an upgrade records (workflows/upgrade-restore-point.ts), for the savepoint it stopped v1 at. */
  async function recordUpgradePoint(savepointId: number, toVersion = 'v2-badcol') {
    const sp = await writeSavepoint(path.join(savepointDir, `savepoint-ab12cd-upgrade${savepointId}`), savepointId);
    tagOn(`savepoint-${savepointId}`, ...TABLES);
    return call('recordRestorePoint', {
      ...upgradeSavepointRecord({
        oldJob: { jobId: JOB_ID, name: 'paimon demo/x', state: 'RUNNING', startTime: 0 },
        savepoint: { savepointId, path: sp, jobId: JOB_ID, stopped: true, triggeredAt: Date.UTC(2026, 0, savepointId) },
        tables: TABLES,
        oldVersion: 'v1',
        newVersion: toVersion,
        workflowId: 'flink-job/paimon demo/x',
      }),
    });
  }

  it("an upgrade's point: pinned by the upgrade, in flight until it ends, a failed one labelled so; retention may take it only once released", async () => {
    const record = await recordUpgradePoint(5);
    expect(record).toMatchObject({
      pinned: true,
      pinnedBy: 'upgrade',
      label: 'before upgrade to v2-badcol',
      deploymentVersion: 'v1',
      upgrade: { fromVersion: 'v1', toVersion: 'v2-badcol', outcome: 'in-flight', workflowId: 'flink-job/paimon demo/x' },
    });
    const mark = (over: { upgradePinReleased?: boolean } = {}) =>
      call('markRestorePointExpiring', { jobName: 'paimon demo/x', savepointId: 5, at: new Date().toISOString(), path: record.path, ...over });
    // In flight: not even a released pin lets retention take it.
    await expect(mark({ upgradePinReleased: true })).rejects.toMatchObject({ type: 'RestorePointPinned', message: expect.stringContaining('pinned by an upgrade') });

    const ended = await call('recordUpgradeOutcome', { jobName: 'paimon demo/x', savepointId: 5, path: record.path, outcome: 'failed', at: '2026-01-05T00:10:00.000Z' });
    expect(ended).toMatchObject({ label: 'before failed upgrade to v2-badcol', upgrade: { outcome: 'failed', endedAt: '2026-01-05T00:10:00.000Z' } });
    // Another savepoint's record of that id (a new timeline) is left alone.
    expect(await call('recordUpgradeOutcome', { jobName: 'paimon demo/x', savepointId: 5, path: 'file:/elsewhere', outcome: 'succeeded', at: '2026-01-06T00:00:00.000Z' })).toMatchObject({ upgrade: { outcome: 'failed' } });
    const [listed] = await call('listRestorePoints', { jobName: 'paimon demo/x', tables: TABLES });
    expect(listed).toMatchObject({ savepointId: 5, pinned: true, pinnedBy: 'upgrade', label: 'before failed upgrade to v2-badcol', deploymentVersion: 'v1', upgrade: { outcome: 'failed' } });

    await expect(mark()).rejects.toMatchObject({ type: 'RestorePointPinned' });
    expect(await mark({ upgradePinReleased: true })).toMatchObject({ expiringSince: expect.any(String) });
  });

  it("pinning an upgrade's point by hand makes the pin a person's: retention can no longer release it", async () => {
    const record = await recordUpgradePoint(6, 'v2');
    await call('recordUpgradeOutcome', { jobName: 'paimon demo/x', savepointId: 6, path: record.path, outcome: 'succeeded', at: new Date().toISOString() });
    expect(await call('pinRestorePoint', { jobName: 'paimon demo/x', savepointId: 6 })).toMatchObject({ pinned: true, pinnedBy: 'person', label: 'before upgrade to v2' });
    await expect(
      call('markRestorePointExpiring', { jobName: 'paimon demo/x', savepointId: 6, at: new Date().toISOString(), upgradePinReleased: true }),
    ).rejects.toMatchObject({ type: 'RestorePointPinned' });
    const unpinned = await call('unpinRestorePoint', { jobName: 'paimon demo/x', savepointId: 6 });
    expect(unpinned.pinned).toBe(false);
    expect(unpinned).not.toHaveProperty('pinnedBy');
  });

  it("a pinned record from before pinnedBy is a person's pin; a redeploy of the same version is not labelled 'upgrade to' it", async () => {
    await takeAndRecord(7, { pinned: true });
    const file = path.join(root, 'restore-points', encodeURIComponent('paimon demo/x').replace(/[^A-Za-z0-9_%-]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`), '7.json');
    const { pinnedBy: _dropped, ...legacy } = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify(legacy));
    tagOn('savepoint-7', ...TABLES);
    const [point] = await call('listRestorePoints', { jobName: 'paimon demo/x', tables: TABLES });
    expect(point).toMatchObject({ savepointId: 7, pinned: true, pinnedBy: 'person' });
    expect(upgradeSavepointRecord({ oldJob: { jobId: JOB_ID, name: 'j', state: 'RUNNING', startTime: 0 }, savepoint: { savepointId: 8, path: 'file:/x', jobId: JOB_ID, stopped: true, triggeredAt: 0 }, tables: TABLES, oldVersion: 'v1', newVersion: 'v1' })).toMatchObject({
      deploymentVersion: 'v1',
      label: 'before redeploying v1',
    });
  });

  it('pins and unpins; a pinned point cannot be marked expiring', async () => {
    await takeAndRecord(4);
    expect((await call('pinRestorePoint', { jobName: 'paimon demo/x', savepointId: 4 })).pinned).toBe(true);
    await expect(call('markRestorePointExpiring', { jobName: 'paimon demo/x', savepointId: 4, at: new Date().toISOString() })).rejects.toMatchObject({
      type: 'RestorePointPinned',
    });
    expect((await call('unpinRestorePoint', { jobName: 'paimon demo/x', savepointId: 4 })).pinned).toBe(false);
    await expect(call('pinRestorePoint', { jobName: 'paimon demo/x', savepointId: 99 })).rejects.toMatchObject({
      type: 'RestorePointNotFound',
    });
  });

  it('a point marked expiring is never restorable again, cannot be pinned, and only then can its record go', async () => {
    await takeAndRecord(5);
    tagOn('savepoint-5', ...TABLES);
    await expect(call('deleteRestorePointRecord', { jobName: 'paimon demo/x', savepointId: 5 })).rejects.toMatchObject({
      type: 'RestorePointConflict',
    });
    const at = '2026-02-01T00:00:00.000Z';
    await call('markRestorePointExpiring', { jobName: 'paimon demo/x', savepointId: 5, at });
    // Idempotent: a retry keeps the first time.
    expect((await call('markRestorePointExpiring', { jobName: 'paimon demo/x', savepointId: 5, at: new Date().toISOString() })).expiringSince).toBe(at);

    const [point] = await call('listRestorePoints', { jobName: 'paimon demo/x' });
    expect(point).toMatchObject({ savepointId: 5, expiring: true, restorable: false, savepointPresent: true });
    expect(point!.problems).toEqual([`being deleted by retention since ${at}`]);
    await expect(call('pinRestorePoint', { jobName: 'paimon demo/x', savepointId: 5 })).rejects.toMatchObject({
      type: 'RestorePointExpiring',
    });

    await call('deleteRestorePointRecord', { jobName: 'paimon demo/x', savepointId: 5 });
    await call('deleteRestorePointRecord', { jobName: 'paimon demo/x', savepointId: 5 }); // already gone: fine
    // The tag alone remains: listed, but as nobody's record.
    const after = await call('listRestorePoints', { jobName: 'paimon demo/x', tables: TABLES });
    expect(after.map((p) => [p.savepointId, p.recorded])).toEqual([[5, false]]);
  });

  it('deletes only savepoint-* directories directly under the savepoint dir', async () => {
    const sp = await writeSavepoint(path.join(savepointDir, 'savepoint-ab12cd-000000000001'), 1);
    expect(await call('deleteSavepointDirectory', { path: sp })).toEqual({ deleted: true });
    expect(await readdir(savepointDir)).toEqual([]);
    expect(await call('deleteSavepointDirectory', { path: sp })).toEqual({ deleted: false });

    const outside = path.join(root, 'precious');
    await mkdir(outside);
    await symlink(outside, path.join(savepointDir, 'savepoint-link'));
    await mkdir(path.join(savepointDir, 'savepoint-x', 'savepoint-nested'), { recursive: true });
    for (const bad of [
      `file:${outside}`,
      `file:${savepointDir}`,
      `file:${savepointDir}/../precious`,
      `file:${savepointDir}/savepoint-x/savepoint-nested`,
      `${savepointDir}/savepoint-link`,
      `${root}/restore-points`,
    ]) {
      await expect(call('deleteSavepointDirectory', { path: bad }), bad).rejects.toMatchObject({ type: 'UnsafeSavepointPath' });
    }
    await expect(call('deleteSavepointDirectory', { path: 's3://bucket/savepoints/savepoint-1' })).rejects.toMatchObject({
      type: 'UnsupportedSavepointStorage',
    });
    expect((await readdir(root)).sort()).toEqual(['precious', 'savepoints']);
    expect((await readdir(savepointDir)).sort()).toEqual(['savepoint-link', 'savepoint-x']);
  });

  it('refuses a savepoint dir that is not a local file: URI, with a clear message (the worker still starts)', async () => {
    const config = loadConfig({ FLINK_SAVEPOINT_DIR: 's3://bucket/savepoints' });
    catalog = createCatalogActivities(config, {
      inspectSavepoint: async () => ({ exists: false, savepointId: -1 }),
      listTagsOfTables: async () => ({}),
    });
    await expect(call('listRestorePoints', { jobName: 'paimon demo/x' })).rejects.toMatchObject({
      type: 'UnsupportedSavepointStorage',
      message: expect.stringMatching(/only supports local savepoint\s+directories/),
    });
  });

  it('fails on a corrupt record rather than silently forgetting a restore point', async () => {
    await takeAndRecord(6);
    await writeFile(path.join(root, 'restore-points', 'paimon%20demo%2Fx', '6.json'), '{"savepointId": 6');
    await expect(call('listRestorePoints', { jobName: 'paimon demo/x' })).rejects.toMatchObject({
      type: 'RestorePointRecordInvalid',
    });
  });
});
