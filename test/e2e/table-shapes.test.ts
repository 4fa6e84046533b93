// Upgrade, savepoint, restore and compensation on the REAL stack for every Paimon table shape a
// restore must handle (demo/sql/shapes/tables.sql: primary keys with updates and with deletes,
// partial-update and aggregation merge engines, lookup changelog, deletion vectors, dynamic and
// fixed multi-bucket, partitioned and not, append-only), all written by ONE streaming job, in one
// pass to keep CI time low:
//   v1 -> v2 upgrade (tag T1) -> intermediate savepoint B -> more rows -> writer stopped by hand
//   (tag S) -> full compaction of every table -> restore to B with approval -> failed upgrade to a
//   broken v2 that compensates (tag F) -> retention keepLast 1.
// Each table is checked by content, never by COUNT(*) against record_count: right before every
// deploy that follows a rollback (and the upgrade's own deploy), the worker's deployJob first reads
// every table, and that read must equal the tag's read row by row. Every read is also checked
// against what ids 1..max give, so an id lost or applied twice shows on every shape.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import type { Activities } from '../../activities/contract';
import { localPath, RestorePointStore } from '../../activities/catalog/store';
import { restorePlan } from '../../src/client/approval';
import { startRestore } from '../../src/client/start-restore';
import { startUpgrade } from '../../src/client/start-upgrade';
import type { Deployment, TableRef } from '../../src/domain/model';
import type { RetentionResult } from '../../src/domain/retention-input';
import type { TakeSavepointResult } from '../../src/domain/savepoint-input';
import type { UpgradeResult } from '../../workflows/messages';
import type { RestoreResult } from '../../workflows/restore-messages';
import { startInProcessWorker, type InProcessWorker } from '../support/in-process-worker';
import { awaitCheckpointedRun, cancelJobsNamed, jobState } from '../support/demo-pipeline';
import {
  compactShapes,
  createShapeTables,
  expectedFor,
  maxIdOf,
  maxIdsOf,
  readShapes,
  shapeMetadata,
  SHAPE_NAMES,
  shapeScripts,
  withoutVersion,
  stageFigures,
  type Metadata,
  type TableRows,
} from '../support/shapes-pipeline';
import { config, flinkGet, paimonQuery, requireStack, until } from '../support/stack';
import { unique } from '../support/temporal-env';
import { approveSigned } from '../support/approvals';

const RUN = `${process.pid}_${Date.now().toString(36)}`;
const DB = `shapes_e2e_${RUN}`;
const JOB_NAME = `paimon-shapes-e2e-${RUN}`;
const TABLES: TableRef[] = SHAPE_NAMES.map((s) => `${DB}.${s}`);
const script = shapeScripts(DB, JOB_NAME);
const version = (v: string, file: string): Deployment => ({ kind: 'sql', version: v, scriptFile: script(file) });
const V1 = version('v1', 'pipeline-v1.sql');
const V2 = version('v2', 'pipeline-v2.sql');
const BROKEN = version('v2-broken', 'pipeline-broken.sql');

const activities = createActivities(config);
const activityEnv = new MockActivityEnvironment(undefined, {
  logger: new DefaultLogger((process.env.TEST_LOG_LEVEL ?? 'ERROR') as LogLevel),
});

/** Every table as the worker found it right before each deploy, in call order. */
const beforeDeploy: { version: string; savepointPath?: string; rows: TableRows; meta?: Metadata }[] = [];
/** The savepoint whose deploy also records every table's snapshots and tags (for the figures). */
let figuresAt: string | undefined;
/** The real activities, except that deployJob first reads every table: nothing else runs then. */
const observed: Activities = {
  ...activities,
  deployJob: async (input) => {
    // The broken version starts on the tables as the stop left them; only what follows a stop or a rollback is compared.
    if (input.deployment.version === BROKEN.version) return activities.deployJob(input);
    const rows = await readShapes(DB);
    const meta = input.savepointPath !== undefined && input.savepointPath === figuresAt ? await shapeMetadata(DB) : undefined;
    beforeDeploy.push({ version: input.deployment.version, savepointPath: input.savepointPath, rows, meta });
    return activities.deployJob(input);
  },
};

/** The read before the deploy of `v` from `savepointPath` (the first: a retried deploy reads again, with the job perhaps started). */
const readBeforeDeploy = (savepointPath: string, v: string) => {
  const found = beforeDeploy.filter((d) => d.savepointPath === savepointPath && d.version === v);
  expect(found.length, `deploys of ${v} from ${savepointPath}`).toBeGreaterThan(0);
  return found[0]!;
};

/** The table read equals the tag's read, row by row, on every table; and both hold ids 1..max exactly once. */
async function expectEqualsTag(rows: TableRows, tag: string, v1UpTo: number): Promise<TableRows> {
  const atTag = await readShapes(DB, tag);
  for (const s of SHAPE_NAMES) {
    expect(atTag[s].length, `${s} at ${tag}`).toBeGreaterThan(0);
    expect(rows[s], `${s} vs ${tag}`).toEqual(atTag[s]);
  }
  expectOneCheckpoint(atTag, v1UpTo);
  return atTag;
}

/** A savepoint's tag: every table written up to the same id, each id exactly once. */
function expectOneCheckpoint(rows: TableRows, v1UpTo: number): void {
  const max = maxIdOf(rows);
  expect(maxIdsOf(rows)).toEqual(Object.fromEntries(SHAPE_NAMES.map((s) => [s, max])));
  expect(withoutVersion(rows)).toEqual(expectedFor(rows, v1UpTo));
}

/** Waits until the live job has written 20 ids past `id`, then checks every table holds ids 1..max exactly once. */
async function expectExactlyOnceAfter(id: number, v1UpTo: number): Promise<void> {
  const rows = await until(`the tables to grow past id ${id}`, 90_000, async () => {
    const r = await readShapes(DB);
    return Math.min(...Object.values(maxIdsOf(r))) > id + 20 ? r : undefined;
  });
  expect(withoutVersion(rows)).toEqual(expectedFor(rows, v1UpTo));
}

/** The paths of the completed savepoints of every job (running or ended) named `name`. */
async function savepointsOfJobsNamed(name: string): Promise<string[]> {
  const { jobs } = await flinkGet<{ jobs: { jid: string; name: string }[] }>('/jobs/overview');
  const paths: string[] = [];
  for (const job of jobs.filter((j) => j.name === name)) {
    const { history } = await flinkGet<{ history: { is_savepoint: boolean; status: string; external_path?: string }[] }>(`/jobs/${job.jid}/checkpoints`);
    for (const h of history) if (h.is_savepoint && h.status === 'COMPLETED' && h.external_path) paths.push(h.external_path);
  }
  return paths;
}

/** For docs/paimon-rollback-shapes.md, printed at the end. */
const figures: Record<string, unknown>[] = [];
const measure = (stage: string, tag: string, at: { rows: TableRows; meta: Metadata }) => figures.push(...stageFigures(stage, tag, at));

describe('every Paimon table shape through upgrade, savepoint, compaction, restore and compensation', () => {
  let client: Client;
  let worker: InProcessWorker | undefined;
  const taskQueue = unique('e2e-shapes');
  const savepointPaths: string[] = [];

  beforeAll(async () => {
    await requireStack();
    const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: '5s' });
    client = new Client({ connection, namespace: config.temporal.namespace });
    Runtime.install({ logger: new DefaultLogger((process.env.TEST_LOG_LEVEL ?? 'WARN') as LogLevel) });
    await createShapeTables(DB);
    worker = await startInProcessWorker(config, taskQueue, observed);
  });

  afterAll(async () => {
    await worker?.stop();
    await cancelJobsNamed(JOB_NAME).catch(() => undefined);
    // Every savepoint our jobs took, also those of a workflow that failed before returning its path.
    savepointPaths.push(...(await savepointsOfJobsNamed(JOB_NAME).catch(() => [])));
    for (const p of savepointPaths) await rm(localPath(p, 'savepoint'), { recursive: true, force: true }).catch(() => undefined);
    await rm(new RestorePointStore(config.flink.savepointDir).jobDir(JOB_NAME), { recursive: true, force: true });
    await rm(path.dirname(script('pipeline-v1.sql')), { recursive: true, force: true });
    if (figures.length > 0) console.info(`shape figures (${DB}):\n${JSON.stringify(figures, null, 1)}`);
    if (!process.env.SHAPES_KEEP) {
      await paimonQuery(`DROP DATABASE IF EXISTS \`${config.paimon.catalog}\`.${DB} CASCADE`).catch(() => undefined);
    }
    await client?.connection.close();
  });

  it('rolls every shape back to its tag exactly, and the job resumes with every id once', { timeout: 900_000 }, async () => {
    const started = Date.now();
    let lapStart = started;
    const laps: string[] = [];
    const lap = (what: string) => {
      laps.push(`${what} ${((Date.now() - lapStart) / 1000).toFixed(1)} s`);
      lapStart = Date.now();
    };
    // v1, started directly (as the demo is), then upgraded to v2 by the workflow.
    const { jobId: v1JobId } = (await activityEnv.run(activities.deployJob, { deployment: V1, deployToken: `shapes-e2e-${RUN}` })) as { jobId: string };
    await awaitCheckpointedRun(v1JobId);
    await until('v1 to write 30 ids', 60_000, async () => (maxIdOf(await readShapes(DB)) > 30 ? true : undefined));

    const upgrade: UpgradeResult = await (
      await startUpgrade(
        client,
        { job: { jobName: JOB_NAME }, newVersion: V2, oldVersion: V1, sinkTables: TABLES, options: { healthTimeout: '90s', tagTimeout: '60s' } },
        { taskQueue },
      )
    ).result();
    expect(upgrade).toMatchObject({ status: 'upgraded', oldJobId: v1JobId, tag: `savepoint-${upgrade.savepoint!.id}` });
    savepointPaths.push(upgrade.savepoint!.path);
    // The stop's final commit is tagged: what v2 starts on is exactly the tag, on every table.
    const t1 = await expectEqualsTag(readBeforeDeploy(upgrade.savepoint!.path, 'v2').rows, upgrade.tag!, Number.MAX_SAFE_INTEGER);
    const v1UpTo = maxIdOf(t1);
    lap('v1 started, upgraded to v2, checked');
    await awaitCheckpointedRun(upgrade.newJobId!);

    // Restore point B: an intermediate savepoint of v2, its tag on every table.
    await until('v2 to write 30 ids', 60_000, async () => (maxIdOf(await readShapes(DB)) > v1UpTo + 30 ? true : undefined));
    const pointB: TakeSavepointResult = await client.workflow.execute('takeSavepointWorkflow', {
      taskQueue,
      workflowId: unique('e2e-shapes-savepoint'),
      args: [{ job: { jobName: JOB_NAME }, tables: TABLES, options: { label: 'shapes B', tagTimeout: '2m' } }],
    });
    savepointPaths.push(pointB.path);
    expect(pointB).toMatchObject({ restorable: true, missingTags: [] });
    const atB = await readShapes(DB, pointB.tag);
    expectOneCheckpoint(atB, v1UpTo);
    lap('savepoint B');
    for (const x of SHAPE_NAMES) figures.push({ stage: 'B read by tag', table: x, mergedRows: atB[x].length });

    // More rows after B, then the writer stopped by hand (tag S) so that a full compaction can
    // commit: a compaction while the writer runs conflicts with the writer's own compactions, and
    // Paimon fails the writer over ('File deletion conflicts detected').
    await until('rows past B', 60_000, async () => (maxIdOf(await readShapes(DB)) > maxIdOf(atB) + 30 ? true : undefined));
    const stop = (await activityEnv.run(activities.stopWithSavepoint, {
      jobId: upgrade.newJobId!,
      triggerId: randomBytes(16).toString('hex'),
      drain: false,
    })) as { savepointId: number; path: string };
    savepointPaths.push(stop.path);
    const tagS = `savepoint-${stop.savepointId}`;
    expect(await activityEnv.run(activities.awaitTag, { tables: TABLES, tag: tagS, timeoutMs: 60_000 })).toEqual({ missing: [] });
    const beforeCompaction = { rows: await readShapes(DB), meta: await shapeMetadata(DB) };
    measure('stopped (S), before compaction', pointB.tag, beforeCompaction);
    await compactShapes(DB);
    const compacted = await shapeMetadata(DB);
    const beforeRestore = await readShapes(DB);
    measure('after full compaction', pointB.tag, { rows: beforeRestore, meta: compacted });
    expect(beforeRestore).toEqual(beforeCompaction.rows); // compaction changes files, never content
    for (const s of SHAPE_NAMES) {
      // A compaction committed after B's tag on every table: by sys.compact, or by the writer itself
      // (lookup changelog and deletion vectors compact on every commit, so a full compaction then
      // finds nothing to do and commits nothing).
      const tagged = compacted[s].tags.find((t) => t.tag === pointB.tag)!.snapshotId;
      expect(compacted[s].snapshots.compactions.filter((id) => id > tagged), `${s}: compactions after ${pointB.tag}`).not.toEqual([]);
      figures.push({
        stage: 'full compaction',
        table: s,
        committed: compacted[s].snapshots.latest > beforeCompaction.meta[s].snapshots.latest,
        compactionsAfterB: compacted[s].snapshots.compactions.filter((id) => id > tagged).length,
      });
    }
    // The tables whose writer does not compact on every commit end on a full compaction: its own
    // commit, or (seen on the append-only table) the writer's own compaction at the stop's final
    // commit, after which sys.compact finds nothing to do.
    for (const s of ['partial', 'agg', 'events'] as const) {
      const was = beforeCompaction.meta[s].snapshots;
      const latest = was.latestKind === 'COMPACT' ? [was.latest, was.latest + 1] : [was.latest + 1];
      expect(compacted[s].snapshots.latestKind, s).toBe('COMPACT');
      expect(latest, `${s}: latest snapshot after the full compaction (was ${was.latest}, ${was.latestKind})`).toContain(compacted[s].snapshots.latest);
    }
    for (const s of SHAPE_NAMES) expect(beforeRestore[s], `${s} moved after B`).not.toEqual(atB[s]);
    lap('rows past B, stop, full compaction');

    // Restore to B, approved. No writer runs (stopped above), so the plan has nothing to stop.
    figuresAt = pointB.path;
    const handle = await startRestore(
      client,
      {
        job: { jobName: JOB_NAME },
        deployment: V2,
        sinkTables: TABLES,
        restorePoint: { savepointId: pointB.savepointId },
        options: { approvers: ['ops-bob'], requestedBy: 'ops-alice', approvalTimeout: '5m', savepointTimeout: '3m', tagTimeout: '2m', healthTimeout: '3m' },
      },
      { taskQueue },
    );
    const plan = await until('the restore to wait for approval', 120_000, async () => restorePlan(client, { jobName: JOB_NAME }).catch(() => undefined));
    expect(plan.writer.action).toBe('none');
    // The plan's figures, from the tables' metadata: records counted as Paimon counts them.
    for (const s of SHAPE_NAMES) {
      const tagged = compacted[s].tags.find((t) => t.tag === pointB.tag)!;
      expect(plan.tables.find((t) => t.table === `${DB}.${s}`), s).toMatchObject({
        tagSnapshotId: tagged.snapshotId,
        recordsAtTag: tagged.records,
        latestSnapshotId: compacted[s].snapshots.latest,
        recordsNow: compacted[s].snapshots.latestRecords,
        snapshotsDeleted: compacted[s].snapshots.latest - tagged.snapshotId,
        tagsDeleted: [{ tag: tagS, snapshotId: compacted[s].tags.find((t) => t.tag === tagS)!.snapshotId }],
        restorePointsLost: [tagS],
      });
    }
    expect(await approveSigned(client, { jobName: JOB_NAME }, { approver: 'ops-bob', planVersion: plan.version })).toMatchObject({ outcome: 'proceeding' });
    const restored: RestoreResult = await handle.result();
    expect(restored.status).toBe('restored');
    expect(restored.tables!.map((t) => [t.table, t.rolledBack])).toEqual(TABLES.map((t) => [t, true]));
    for (const t of plan.tables) {
      expect(restored.tables!.find((r) => r.table === t.table)).toMatchObject({ snapshotId: t.tagSnapshotId, schemaId: t.tagSchemaId, records: t.recordsAtTag });
    }
    expect(await jobState(restored.newJobId!)).toBe('RUNNING');
    const afterRollback = readBeforeDeploy(pointB.path, 'v2');
    await expectEqualsTag(afterRollback.rows, pointB.tag, v1UpTo);
    measure('rolled back to B (read before the restored job started)', pointB.tag, { rows: afterRollback.rows, meta: afterRollback.meta! });
    await expectExactlyOnceAfter(maxIdOf(atB), v1UpTo);
    lap('restore to B, checked');

    // A broken v2 that crash-loops: the upgrade rolls every table back to its own tag F and runs v2 again.
    await awaitCheckpointedRun(restored.newJobId!);
    const failed: UpgradeResult = await (
      await startUpgrade(
        client,
        // healthTimeout is also how long v2 has to checkpoint again after the rollback: this job's 10
        // tasks took over 20 s to start on a loaded 2-core machine (CompensationFailed at 20 s).
        { job: { jobName: JOB_NAME }, newVersion: BROKEN, oldVersion: V2, sinkTables: TABLES, options: { healthTimeout: '45s', tagTimeout: '60s' } },
        { taskQueue },
      )
    ).result();
    savepointPaths.push(failed.savepoint!.path);
    expect(failed).toMatchObject({ status: 'rolled-back', oldJobId: restored.newJobId });
    expect(failed.reason).toMatch(/not healthy/);
    expect(await jobState(failed.restoredJobId!)).toBe('RUNNING');
    const atF = await expectEqualsTag(readBeforeDeploy(failed.savepoint!.path, 'v2').rows, failed.tag!, v1UpTo);
    await expectExactlyOnceAfter(maxIdOf(atF), v1UpTo);
    lap('failed upgrade compensated, checked');

    // Restore point C, taken on the timeline the rollbacks left (checkpoint ids go on from F).
    await awaitCheckpointedRun(failed.restoredJobId!);
    const pointC: TakeSavepointResult = await client.workflow.execute('takeSavepointWorkflow', {
      taskQueue,
      workflowId: unique('e2e-shapes-savepoint'),
      args: [{ job: { jobName: JOB_NAME }, tables: TABLES, options: { label: 'shapes C', tagTimeout: '2m' } }],
    });
    savepointPaths.push(pointC.path);
    expect(pointC).toMatchObject({ restorable: true, missingTags: [] });
    const atC = await readShapes(DB, pointC.tag);
    expectOneCheckpoint(atC, v1UpTo);
    lap('savepoint C');

    // Retention over the job's points, keepLast 1: the upgrades' points are pinned by them, C is the newest,
    // B goes; its tag leaves every table, every kept point's tag stays.
    const tagsBefore = await shapeMetadata(DB);
    const retention: RetentionResult = await client.workflow.execute('retentionWorkflow', {
      taskQueue,
      workflowId: unique('e2e-shapes-retention'),
      args: [{ jobName: JOB_NAME, tables: TABLES, policy: { keepLast: 1 } }],
    });
    expect(retention).toMatchObject({ deleted: [pointB.savepointId], failed: [] });
    expect(retention.decisions).toEqual(
      expect.arrayContaining([
        { savepointId: pointC.savepointId, action: 'keep', reason: 'newest-restorable' },
        // An upgrade's pin holds until later successful upgrades and an age release it (docs/restore-points.md).
        expect.objectContaining({ savepointId: failed.savepoint!.id, action: 'keep', reason: 'upgrade-pin' }),
        expect.objectContaining({ savepointId: upgrade.savepoint!.id, action: 'keep', reason: 'upgrade-pin' }),
        { savepointId: pointB.savepointId, action: 'delete', reason: 'expired' },
      ]),
    );
    const tagsAfter = await shapeMetadata(DB);
    const has = (meta: Metadata, s: (typeof SHAPE_NAMES)[number], id: number) => meta[s].tags.some((t) => t.tag === `savepoint-${id}`);
    for (const d of retention.decisions) {
      for (const s of SHAPE_NAMES) {
        const expected = d.action === 'delete' ? false : has(tagsBefore, s, d.savepointId);
        expect({ table: s, point: d.savepointId, present: has(tagsAfter, s, d.savepointId) }).toEqual({ table: s, point: d.savepointId, present: expected });
      }
    }
    for (const s of SHAPE_NAMES) expect(has(tagsAfter, s, pointC.savepointId) && !has(tagsAfter, s, pointB.savepointId), s).toBe(true);
    lap('retention, checked');
    console.info(`table-shapes: one pass in ${((Date.now() - started) / 1000).toFixed(1)} s: ${laps.join('; ')}`);
  });
});
