// The restore-point catalog follows the table's timeline, on the REAL stack (scripts/stack.sh).
// Our own job writes ids into our own two Paimon tables (auto-tag on). We record restore points A,
// B and C, restore to A (rollback_to deletes B's and C's tags), and the restored run counts
// checkpoint ids on from A, so its next savepoints take B's and C's ids again: a scheduled-style
// savepoint aimed at B's id and an upgrade whose stop is aimed at C's id. Each is recorded and
// restorable, and the old timeline's B and C are kept in the catalog as lost, never restorable.
//
// The job checkpoints every 10 s (not the stack's 3 s), so that the test can trigger a savepoint
// right after checkpoint <id - 1> and have Flink give it exactly the id it aims at.
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { localPath, RestorePointStore } from '../../activities/catalog/store';
import { approveRestore, rejectRestore, restorePlan } from '../../src/client/approval';
import { startRestore } from '../../src/client/start-restore';
import { startUpgrade } from '../../src/client/start-upgrade';
import type { Deployment, TableRef } from '../../src/domain';
import type { RestorePoint, TakeSavepointResult } from '../../src/restore-points';
import type { UpgradeResult } from '../../workflows/messages';
import type { RestoreInput } from '../../workflows/restore-input';
import type { RestoreResult } from '../../workflows/restore-messages';
import { awaitCheckpointedRun, cancelAndWait } from '../support/demo-pipeline';
import { config, flinkGet, paimonQuery, requireStack, until } from '../support/stack';
import { bundleWorkflows, unique } from '../support/temporal-env';

const RUN = `${process.pid}_${Date.now().toString(36)}`;
/** Our own database and job: the shared demo job and other tests' tables are never touched. */
const DB = `timeline_e2e_${RUN}`;
const JOB_NAME = `timeline-e2e-${RUN}`;
const TABLES: TableRef[] = [`${DB}.seq_a`, `${DB}.seq_b`];
const STACK_DOWN = "run 'bash scripts/stack.sh up' (npm test does)";

const deployment = (version: 'v1' | 'v2'): Deployment => ({
  kind: 'sql',
  version,
  script: `SET 'pipeline.name' = '${JOB_NAME}';
SET 'execution.checkpointing.interval' = '10s';
CREATE TEMPORARY TABLE timeline_sequence (id BIGINT) WITH (
  'connector' = 'datagen', 'rows-per-second' = '10',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '500000'
);
EXECUTE STATEMENT SET BEGIN
  INSERT INTO \`${config.paimon.catalog}\`.${DB}.seq_a SELECT id, CONCAT('${version}:', CAST(id AS STRING)) FROM timeline_sequence;
  INSERT INTO \`${config.paimon.catalog}\`.${DB}.seq_b SELECT id, CONCAT('${version}:', CAST(id AS STRING)) FROM timeline_sequence;
END;`,
});

const activities = createActivities(config);
const activityEnv = new MockActivityEnvironment(undefined, {
  logger: new DefaultLogger((process.env.TEST_LOG_LEVEL ?? 'ERROR') as LogLevel),
});
const listRestorePoints = (): Promise<RestorePoint[]> => activityEnv.run(activities.listRestorePoints, { jobName: JOB_NAME, tables: TABLES });

/** The highest checkpoint id (savepoints included) Flink has given out for the job, and whether one is running. */
async function checkpointIds(jobId: string): Promise<{ highest: number; inProgress: boolean }> {
  const stats = await flinkGet<{ counts: { in_progress: number }; history: { id: number }[] }>(`/jobs/${jobId}/checkpoints`);
  return { highest: Math.max(0, ...stats.history.map((h) => h.id)), inProgress: stats.counts.in_progress > 0 };
}

/**
 * Waits until checkpoint `id - 1` is the job's last one and none is running, so that what is
 * triggered next gets `id`. Returns false when the job is already past it.
 */
async function nextIdWillBe(jobId: string, id: number): Promise<boolean> {
  return until(`job ${jobId} to be at checkpoint ${id - 1}`, 120_000, async () => {
    const { highest, inProgress } = await checkpointIds(jobId);
    if (highest >= id) return false;
    return highest === id - 1 && !inProgress ? true : undefined;
  });
}

describe('the restore-point catalog across a restore on the real stack', () => {
  let client: Client;
  let worker: Worker | undefined;
  let workerRunning: Promise<void> | undefined;
  let nativeConnection: NativeConnection | undefined;
  const taskQueue = unique('e2e-timeline');
  const ourJobs: string[] = [];
  const savepointPaths: string[] = [];
  const store = new RestorePointStore(config.flink.savepointDir);

  const takeSavepoint = async (label: string): Promise<TakeSavepointResult> => {
    const result: TakeSavepointResult = await client.workflow.execute('takeSavepointWorkflow', {
      taskQueue,
      workflowId: unique('e2e-timeline-savepoint'),
      args: [{ job: { jobName: JOB_NAME }, tables: TABLES, options: { label, tagTimeout: '2m' } }],
    });
    savepointPaths.push(result.path);
    return result;
  };

  const restoreInput = (savepointId: number): RestoreInput => ({
    job: { jobName: JOB_NAME },
    deployment: deployment('v1'),
    sinkTables: TABLES,
    restorePoint: { savepointId },
    options: { approvers: ['ops-bob'], requestedBy: 'ops-alice', approvalTimeout: '5m', savepointTimeout: '3m', tagTimeout: '2m', healthTimeout: '3m' },
  });

  beforeAll(async () => {
    await requireStack();
    const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: '5s' }).catch((err: Error) => {
      throw new Error(`Temporal is not reachable at ${config.temporal.address} (${err.message}): ${STACK_DOWN}`);
    });
    client = new Client({ connection, namespace: config.temporal.namespace });
    Runtime.install({ logger: new DefaultLogger((process.env.TEST_LOG_LEVEL ?? 'WARN') as LogLevel) });

    const { catalog } = config.paimon;
    const table = (name: string) =>
      `CREATE TABLE IF NOT EXISTS \`${catalog}\`.${DB}.${name} (id BIGINT NOT NULL, payload STRING, PRIMARY KEY (id) NOT ENFORCED)
       WITH ('bucket' = '1', 'sink.savepoint.auto-tag' = 'true')`;
    await paimonQuery(`CREATE DATABASE IF NOT EXISTS \`${catalog}\`.${DB}`, table('seq_a'), table('seq_b'));

    const { jobId } = (await activityEnv.run(activities.deployJob, { deployment: deployment('v1'), deployToken: `e2e-timeline-${RUN}` })) as { jobId: string };
    ourJobs.push(jobId);
    await awaitCheckpointedRun(jobId);

    nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
    worker = await Worker.create({
      connection: nativeConnection,
      namespace: config.temporal.namespace,
      taskQueue,
      workflowBundle: await bundleWorkflows(),
      activities,
    });
    workerRunning = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await workerRunning?.catch(() => undefined);
    await nativeConnection?.close();
    for (const jobId of ourJobs) await cancelAndWait(jobId).catch(() => undefined);
    // What this test left in the shared savepoint dir and warehouse: savepoints, records (lost ones too), tables.
    for (const p of savepointPaths) await rm(localPath(p, 'savepoint'), { recursive: true, force: true }).catch(() => undefined);
    await rm(store.jobDir(JOB_NAME), { recursive: true, force: true });
    await paimonQuery(`DROP DATABASE IF EXISTS \`${config.paimon.catalog}\`.${DB} CASCADE`).catch(() => undefined);
    await client?.connection.close();
  });

  it('after a restore to A, savepoints and an upgrade that reuse B\'s and C\'s ids are recorded and restorable; B and C are kept as lost', { timeout: 900_000 }, async () => {
    // The first timeline: A, B, C, all recorded with their tags.
    const a = await takeSavepoint('timeline A');
    const b = await takeSavepoint('timeline B');
    const c = await takeSavepoint('timeline C');
    for (const p of [a, b, c]) expect(p).toMatchObject({ restorable: true, missingTags: [] });
    expect(b.savepointId).toBeGreaterThan(a.savepointId);
    expect(c.savepointId).toBeGreaterThan(b.savepointId);

    // Restore to A: the rollback deletes B's and C's tags (and today's), and the restore marks their records lost.
    const handle = await startRestore(client, restoreInput(a.savepointId), { taskQueue });
    const plan = await until('the restore to wait for approval', 120_000, async () => restorePlan(client, { jobName: JOB_NAME }).catch(() => undefined));
    for (const t of plan.tables) expect(t.restorePointsLost).toEqual(expect.arrayContaining([b.tag, c.tag]));
    await approveRestore(client, { jobName: JOB_NAME }, { approver: 'ops-bob', planVersion: plan.version });
    const restored: RestoreResult = await handle.result();
    ourJobs.push(restored.newJobId!);
    savepointPaths.push(restored.todaysSavepoint!.path);
    expect(restored.status).toBe('restored');
    expect(restored.restorePointsNotMarkedLost).toBeUndefined();
    expect(restored.restorePointsMarkedLost).toEqual([
      { savepointId: b.savepointId, path: b.path },
      { savepointId: c.savepointId, path: c.path },
    ]);
    const afterRestore = await listRestorePoints();
    expect(afterRestore.map((p) => [p.savepointId, p.path, p.restorable, p.lost?.reason ?? null])).toEqual([
      [a.savepointId, a.path, true, null],
      [c.savepointId, c.path, false, expect.stringContaining(`by rollback_to ${a.tag} by restore `)],
      [b.savepointId, b.path, false, expect.stringContaining(`by rollback_to ${a.tag} by restore `)],
    ]);

    // The restored run counts checkpoint ids on from A: a savepoint aimed at B's id gets it.
    const restoredJob = restored.newJobId!;
    expect(await nextIdWillBe(restoredJob, b.savepointId)).toBe(true);
    const b2 = await takeSavepoint('timeline B again');
    expect(b2.savepointId).toBe(b.savepointId); // if not, Flink took a checkpoint first: timing, not the catalog
    expect(b2).toMatchObject({ restorable: true, missingTags: [] });
    expect(b2.path).not.toBe(b.path);

    // And an upgrade whose stop-with-savepoint is aimed at C's id: it records its savepoint too.
    expect(await nextIdWillBe(restoredJob, c.savepointId)).toBe(true);
    const upgrade = await startUpgrade(
      client,
      { job: { jobName: JOB_NAME }, newVersion: deployment('v2'), oldVersion: deployment('v1'), sinkTables: TABLES, options: { healthTimeout: '3m', tagTimeout: '2m' } },
      { taskQueue },
    );
    const upgraded: UpgradeResult = await upgrade.result();
    if (upgraded.newJobId) ourJobs.push(upgraded.newJobId);
    if (upgraded.savepoint) savepointPaths.push(upgraded.savepoint.path);
    expect(upgraded).toMatchObject({ status: 'upgraded', restorePointRecorded: true });
    expect(upgraded.restorePointNotRecorded).toBeUndefined();
    expect(upgraded.savepoint!.id).toBe(c.savepointId);
    expect(upgraded.savepoint!.path).not.toBe(c.path);

    // Every point of the current timeline is recorded and restorable; the old B and C are lost, never restorable.
    const points = await listRestorePoints();
    const live = points.filter((p) => !p.lost);
    const lost = points.filter((p) => p.lost);
    expect(live.map((p) => [p.savepointId, p.path, p.recorded, p.restorable])).toEqual(
      expect.arrayContaining([
        [a.savepointId, a.path, true, true],
        [b.savepointId, b2.path, true, true],
        [c.savepointId, upgraded.savepoint!.path, true, true],
      ]),
    );
    expect(live.find((p) => p.savepointId === c.savepointId)).toMatchObject({ pinned: true, label: 'before upgrade to v2' });
    expect(lost.map((p) => [p.savepointId, p.path, p.restorable])).toEqual([
      [c.savepointId, c.path, false],
      [b.savepointId, b.path, false],
    ]);
    // Lost, not forgotten: the records stay under lost/, the savepoint files are untouched.
    expect((await readdir(store.lostDir(JOB_NAME))).length).toBe(2);
    for (const p of [b, c]) expect(existsSync(path.join(localPath(p.path, 'savepoint'), '_metadata'))).toBe(true);

    // A restore to the reused id plans with the new timeline's savepoint, not the old one's.
    const again = await startRestore(client, restoreInput(b.savepointId), { taskQueue });
    const againPlan = await until('the second restore to wait for approval', 120_000, async () =>
      restorePlan(client, { jobName: JOB_NAME }).catch(() => undefined),
    );
    expect(againPlan.restorePoint).toMatchObject({ savepointId: b.savepointId, path: b2.path, recorded: true });
    await rejectRestore(client, { jobName: JOB_NAME }, { approver: 'ops-bob', comment: 'plan checked' });
    expect(await again.result()).toMatchObject({ status: 'rejected' });
  });
});
