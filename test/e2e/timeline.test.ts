// The restore-point catalog follows the table's timeline, on the REAL stack (scripts/stack.sh).
// Our own job writes ids into our own two Paimon tables (auto-tag on). We record restore point A
// and four later points, restore to A (rollback_to deletes the later points' tags, and the restore
// marks their records lost), and the restored run counts checkpoint ids on from A, so its next
// savepoints take those ids again: a scheduled-style savepoint and an upgrade's stop-with-savepoint,
// each aimed at such an id. Each is recorded and restorable; the old points are kept as lost.
//
// The job checkpoints every 20 s (not the stack's 3 s), so that the test can trigger a savepoint
// right after checkpoint <id - 1> and have Flink give it exactly the id it aims at (mostly: on a busy
// machine a periodic checkpoint may come first, and the test aims at the next id a lost point had).
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { localPath, RestorePointStore } from '../../activities/catalog/store';
import { restorePlan } from '../../src/client/approval';
import { startRestore } from '../../src/client/start-restore';
import { startUpgrade } from '../../src/client/start-upgrade';
import type { Deployment, TableRef } from '../../src/domain/model';
import type { RestorePoint } from '../../src/domain/restore-points';
import type { TakeSavepointResult } from '../../src/domain/savepoint-input';
import type { UpgradeResult } from '../../workflows/messages';
import type { RestoreInput } from '../../workflows/restore-input';
import type { RestoreResult } from '../../workflows/restore-messages';
import { startInProcessWorker, type InProcessWorker } from '../support/in-process-worker';
import { awaitCheckpointedRun, cancelAndWait, ensureSinkTables } from '../support/demo-pipeline';
import { activityEnv as testActivityEnv } from '../support/activity-calls';
import { config, flinkGet, paimonQuery, requireStack, until } from '../support/stack';
import { connectStackClient } from '../support/stack-client';
import { unique } from '../support/temporal-env';
import { approveSigned, rejectSigned } from '../support/approvals';

const RUN = `${process.pid}_${Date.now().toString(36)}`;
/** Our own database and job: the shared demo job and other tests' tables are never touched. */
const DB = `timeline_e2e_${RUN}`;
const JOB_NAME = `timeline-e2e-${RUN}`;
// Table names of our own too: Flink's plan names a Paimon writer by table name only, so the restore
// refuses to roll back tables whose names other tests' running jobs also write.
const NAMES = [`tl_a_${RUN}`, `tl_b_${RUN}`] as const;
const TABLES: TableRef[] = NAMES.map((name) => `${DB}.${name}`);

const deployment = (version: 'v1' | 'v2'): Deployment => ({
  kind: 'sql',
  version,
  script: `SET 'pipeline.name' = '${JOB_NAME}';
SET 'execution.checkpointing.interval' = '20s';
CREATE TEMPORARY TABLE timeline_sequence (id BIGINT) WITH (
  'connector' = 'datagen', 'rows-per-second' = '10',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '500000'
);
EXECUTE STATEMENT SET BEGIN
${TABLES.map((t) => `  INSERT INTO \`${config.paimon.catalog}\`.${t} SELECT id, CONCAT('${version}:', CAST(id AS STRING)) FROM timeline_sequence;`).join('\n')}
END;`,
});

const activities = createActivities(config);
const activityEnv = testActivityEnv();
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
  let worker: InProcessWorker | undefined;
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
    client = await connectStackClient();
    Runtime.install({ logger: new DefaultLogger((process.env.TEST_LOG_LEVEL ?? 'WARN') as LogLevel) });

    await ensureSinkTables(DB, NAMES);

    const { jobId } = (await activityEnv.run(activities.deployJob, { deployment: deployment('v1'), deployToken: `e2e-timeline-${RUN}` })) as { jobId: string };
    ourJobs.push(jobId);
    await awaitCheckpointedRun(jobId);

    worker = await startInProcessWorker(config, taskQueue, activities);
  });

  afterAll(async () => {
    await worker?.stop();
    for (const jobId of ourJobs) await cancelAndWait(jobId).catch(() => undefined);
    // What this test left in the shared savepoint dir and warehouse: savepoints, records (lost ones too), tables.
    for (const p of savepointPaths) await rm(localPath(p, 'savepoint'), { recursive: true, force: true }).catch(() => undefined);
    await rm(store.jobDir(JOB_NAME), { recursive: true, force: true });
    await paimonQuery(`DROP DATABASE IF EXISTS \`${config.paimon.catalog}\`.${DB} CASCADE`).catch(() => undefined);
    await client?.connection.close();
  });

  it('after a restore to A, a savepoint and an upgrade that reuse the ids of lost points are recorded and restorable; the old points are kept as lost', { timeout: 1_500_000 }, async () => {
    // The first timeline: A, then four more points, all recorded with their tags.
    const a = await takeSavepoint('timeline A');
    const later: TakeSavepointResult[] = [];
    for (let i = 1; i <= 4; i++) later.push(await takeSavepoint(`timeline ${i}`));
    for (const p of [a, ...later]) expect(p).toMatchObject({ restorable: true, missingTags: [] });
    const oldIds = later.map((p) => p.savepointId);
    expect(oldIds[0]).toBeGreaterThan(a.savepointId);
    const oldById = new Map(later.map((p) => [p.savepointId, p]));

    // Restore to A: the rollback deletes the later points' tags (and today's), and the restore marks their records lost.
    const handle = await startRestore(client, restoreInput(a.savepointId), { taskQueue });
    const plan = await until('the restore to wait for approval', 120_000, async () => restorePlan(client, { jobName: JOB_NAME }).catch(() => undefined));
    for (const t of plan.tables) expect(t.restorePointsLost).toEqual(expect.arrayContaining(later.map((p) => p.tag)));
    await approveSigned(client, { jobName: JOB_NAME }, { approver: 'ops-bob', planVersion: plan.version });
    const restored: RestoreResult = await handle.result();
    ourJobs.push(restored.newJobId!);
    savepointPaths.push(restored.todaysSavepoint!.path);
    expect(restored.status).toBe('restored');
    expect(restored.restorePointsNotMarkedLost).toBeUndefined();
    expect(restored.restorePointsMarkedLost).toEqual(later.map((p) => ({ savepointId: p.savepointId, path: p.path })));
    const afterRestore = await listRestorePoints();
    expect(afterRestore.map((p) => [p.savepointId, p.path, p.restorable, p.lost?.reason ?? null])).toEqual([
      [a.savepointId, a.path, true, null],
      ...[...later].reverse().map((p) => [p.savepointId, p.path, false, expect.stringContaining(`by rollback_to ${a.tag} by restore `)]),
    ]);

    // The restored run counts checkpoint ids on from A. Aim at the next id a lost point had: wait
    // for the checkpoint before it, then trigger (a periodic checkpoint may still come first: aim again).
    let jobId = restored.newJobId!;
    const aim = async (): Promise<number | undefined> => {
      for (const id of oldIds) if ((await checkpointIds(jobId)).highest < id && (await nextIdWillBe(jobId, id))) return id;
      return undefined;
    };
    const taken: TakeSavepointResult[] = [];
    while (!taken.some((p) => oldById.has(p.savepointId)) && (await aim()) !== undefined) {
      const sp = await takeSavepoint('timeline again');
      expect(sp).toMatchObject({ restorable: true, missingTags: [] });
      taken.push(sp);
    }
    const reused = taken.find((p) => oldById.has(p.savepointId));
    expect(reused, `no savepoint of the restored run got one of the ids ${oldIds.join(', ')}: ${taken.map((p) => p.savepointId).join(', ')}`).toBeDefined();

    // Upgrades (v1 -> v2 -> v1 ...) whose stop-with-savepoint is aimed the same way: each records its savepoint.
    const upgrades: UpgradeResult[] = [];
    let from: 'v1' | 'v2' = 'v1';
    while (!upgrades.some((u) => oldById.has(u.savepoint!.id)) && (await aim()) !== undefined) {
      const to: 'v1' | 'v2' = from === 'v1' ? 'v2' : 'v1';
      const upgrade = await startUpgrade(
        client,
        { job: { jobName: JOB_NAME }, newVersion: deployment(to), oldVersion: deployment(from), sinkTables: TABLES, options: { healthTimeout: '3m', tagTimeout: '2m' } },
        { taskQueue },
      );
      const upgraded: UpgradeResult = await upgrade.result();
      if (upgraded.newJobId) ourJobs.push(upgraded.newJobId);
      if (upgraded.savepoint) savepointPaths.push(upgraded.savepoint.path);
      expect(upgraded).toMatchObject({ status: 'upgraded', restorePointRecorded: true });
      expect(upgraded.restorePointNotRecorded).toBeUndefined();
      upgrades.push(upgraded);
      jobId = upgraded.newJobId!;
      from = to;
    }
    const reusedByUpgrade = upgrades.find((u) => oldById.has(u.savepoint!.id));
    expect(reusedByUpgrade, `no upgrade stopped at one of the ids ${oldIds.join(', ')}: ${upgrades.map((u) => u.savepoint!.id).join(', ')}`).toBeDefined();

    // Every point of the current timeline is recorded and restorable; the old ones are lost, never restorable.
    const points = await listRestorePoints();
    const live = points.filter((p) => !p.lost);
    const lost = points.filter((p) => p.lost);
    const current = [
      { savepointId: a.savepointId, path: a.path },
      ...taken.map((p) => ({ savepointId: p.savepointId, path: p.path })),
      ...upgrades.map((u) => ({ savepointId: u.savepoint!.id, path: u.savepoint!.path })),
    ];
    expect(live.map((p) => [p.savepointId, p.path, p.recorded, p.restorable])).toEqual(
      expect.arrayContaining(current.map((p) => [p.savepointId, p.path, true, true])),
    );
    expect(live.find((p) => p.savepointId === reusedByUpgrade!.savepoint!.id)).toMatchObject({ pinned: true, path: reusedByUpgrade!.savepoint!.path });
    expect(lost.map((p) => [p.savepointId, p.path, p.restorable])).toEqual([...later].reverse().map((p) => [p.savepointId, p.path, false]));
    // Lost, not forgotten: the records stay under lost/, the savepoint files are untouched.
    expect((await readdir(store.lostDir(JOB_NAME))).length).toBe(later.length);
    for (const p of later) expect(existsSync(path.join(localPath(p.path, 'savepoint'), '_metadata'))).toBe(true);
    const b = oldById.get(reused!.savepointId)!;
    const b2 = reused!;
    expect(b2.path).not.toBe(b.path);

    // A restore to the reused id plans with the new timeline's savepoint, not the old one's.
    const again = await startRestore(client, restoreInput(b.savepointId), { taskQueue });
    const againPlan = await until('the second restore to wait for approval', 120_000, async () =>
      restorePlan(client, { jobName: JOB_NAME }).catch(() => undefined),
    );
    expect(againPlan.restorePoint).toMatchObject({ savepointId: b.savepointId, path: b2.path, recorded: true });
    await rejectSigned(client, { jobName: JOB_NAME }, { approver: 'ops-bob', comment: 'plan checked' });
    expect(await again.result()).toMatchObject({ status: 'rejected' });
  });
});
