// The restore workflow on the REAL stack (scripts/stack.sh): our own demo-like job writes ids
// 1, 2, 3, ... into our own two Paimon tables (auto-tag on). We take restore point A (an
// intermediate savepoint, recorded by takeSavepointWorkflow once its tag is on both tables), let
// more rows in, and restore to A through an in-process worker with the real activities, approved
// through src/client/approval.ts. Then a rejected restore, with no writer running, changes nothing.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { localPath, RestorePointStore } from '../../activities/catalog/store';
import { restorePlan } from '../../src/client/approval';
import { startRestore } from '../../src/client/start-restore';
import type { Deployment, TableRef } from '../../src/domain/model';
import type { TakeSavepointResult } from '../../src/domain/savepoint-input';
import type { RestoreInput } from '../../workflows/restore-input';
import type { RestorePlan, RestoreResult } from '../../workflows/restore-messages';
import { startInProcessWorker, type InProcessWorker } from '../support/in-process-worker';
import { awaitCheckpointedRun, cancelAndWait, jobState, ensureSinkTables } from '../support/demo-pipeline';
import { activityEnv as testActivityEnv } from '../support/activity-calls';
import { config, flinkGet, paimonQuery, requireStack, until } from '../support/stack';
import { connectStackClient } from '../support/stack-client';
import { unique } from '../support/temporal-env';
import { approveByHandAsReadmeSays, rejectSigned } from '../support/approvals';

const RUN = `${process.pid}_${Date.now().toString(36)}`;
/** Our own database and job: the shared demo job and its tables are never touched. */
const DB = `restoretest_${RUN}`;
const JOB_NAME = `restore-e2e-${RUN}`;
const TABLES: TableRef[] = [`${DB}.seq_a`, `${DB}.seq_b`];

/** The demo pipeline (demo/sql/pipeline-v1.sql) on our tables and under our job name. */
const deployment: Deployment = {
  kind: 'sql',
  version: 'e2e-v1',
  script: `SET 'pipeline.name' = '${JOB_NAME}';
CREATE TEMPORARY TABLE restore_sequence (id BIGINT) WITH (
  'connector' = 'datagen', 'rows-per-second' = '10',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '500000'
);
EXECUTE STATEMENT SET BEGIN
  INSERT INTO \`${config.paimon.catalog}\`.${DB}.seq_a SELECT id, CONCAT('v1:', CAST(id AS STRING)) FROM restore_sequence;
  INSERT INTO \`${config.paimon.catalog}\`.${DB}.seq_b SELECT id, CONCAT('v1:', CAST(id AS STRING)) FROM restore_sequence;
END;`,
};

const activities = createActivities(config);
const activityEnv = testActivityEnv();

const sql = (table: TableRef) => {
  const [db, name] = table.split('.');
  return { table: `\`${db}\`.\`${name}\``, system: (kind: string) => `\`${db}\`.\`${name}$${kind}\`` };
};

type At = { tag: string } | { snapshotId: number };
type Ids = { rows: number; min: number; max: number };

const hint = (at?: At): string =>
  at === undefined
    ? ''
    : 'tag' in at
      ? ` /*+ OPTIONS('scan.tag-name' = '${at.tag}') */`
      : ` /*+ OPTIONS('scan.snapshot-id' = '${at.snapshotId}') */`;

/**
 * COUNT, MIN and MAX of the ids of both tables in one query (each query is a Flink job that
 * needs a free slot on the shared cluster), optionally as of a tag or a snapshot per table.
 */
async function ids(at?: (table: TableRef) => At | undefined): Promise<Map<TableRef, Ids>> {
  const rows = await paimonQuery(
    TABLES.map(
      (table) =>
        `SELECT '${table}' AS t, COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi FROM ${sql(table).table}${hint(at?.(table))}`,
    ).join(' UNION ALL '),
  );
  return new Map(
    rows.map((r) => [String(r.t), { rows: Number(r.n), min: Number(r.lo ?? 0), max: Number(r.hi ?? 0) }]),
  );
}

/** Latest snapshot id and tags of both tables, in one query each. */
async function snapshotsAndTags(): Promise<Map<TableRef, { latest: number; tags: { tag: string; snapshotId: number; records: number }[] }>> {
  const latest = await paimonQuery(
    TABLES.map((table) => `SELECT '${table}' AS t, MAX(snapshot_id) AS s FROM ${sql(table).system('snapshots')}`).join(' UNION ALL '),
  );
  const tags = await paimonQuery(
    TABLES.map(
      (table) => `SELECT '${table}' AS t, tag_name, snapshot_id, record_count FROM ${sql(table).system('tags')}`,
    ).join(' UNION ALL '),
  );
  return new Map(
    TABLES.map((table) => [
      table,
      {
        latest: Number(latest.find((r) => r.t === table)!.s),
        tags: tags
          .filter((r) => r.t === table)
          .map((r) => ({ tag: String(r.tag_name), snapshotId: Number(r.snapshot_id), records: Number(r.record_count) }))
          .sort((a, b) => a.snapshotId - b.snapshotId || a.tag.localeCompare(b.tag)),
      },
    ]),
  );
}

/** The plan, once the restore waits for approval. */
async function awaitPlan(client: Client): Promise<RestorePlan> {
  return until('the restore to wait for approval', 120_000, async () => restorePlan(client, { jobName: JOB_NAME }).catch(() => undefined));
}

describe('restore to a tag on the real stack', () => {
  let client: Client;
  let worker: InProcessWorker | undefined;
  const taskQueue = unique('e2e-restore');
  /** every job this test started (its own writer and the restored ones): cancelled in afterAll */
  const ourJobs: string[] = [];
  const savepointPaths: string[] = [];

  const restoreInput = (savepointId: number): RestoreInput => ({
    job: { jobName: JOB_NAME },
    deployment,
    sinkTables: TABLES,
    restorePoint: { savepointId },
    options: {
      approvers: ['ops-bob'],
      requestedBy: 'ops-alice',
      approvalTimeout: '5m',
      savepointTimeout: '3m',
      tagTimeout: '2m',
      healthTimeout: '3m',
    },
  });

  beforeAll(async () => {
    await requireStack();
    client = await connectStackClient();
    Runtime.install({ logger: new DefaultLogger((process.env.TEST_LOG_LEVEL ?? 'WARN') as LogLevel) });

    await ensureSinkTables(DB, ['seq_a', 'seq_b']);

    // The writer, deployed the way the restore will redeploy it.
    const { jobId } = (await activityEnv.run(activities.deployJob, { deployment, deployToken: `e2e-restore-${RUN}` })) as { jobId: string };
    ourJobs.push(jobId);
    await awaitCheckpointedRun(jobId);

    worker = await startInProcessWorker(config, taskQueue, activities);
  });

  afterAll(async () => {
    await worker?.stop();
    for (const jobId of ourJobs) await cancelAndWait(jobId).catch(() => undefined);
    // What this test left in the shared savepoint dir and warehouse.
    for (const p of savepointPaths) await rm(localPath(p, 'savepoint'), { recursive: true, force: true }).catch(() => undefined);
    await rm(new RestorePointStore(config.flink.savepointDir).jobDir(JOB_NAME), { recursive: true, force: true });
    await paimonQuery(`DROP DATABASE IF EXISTS \`${config.paimon.catalog}\`.${DB} CASCADE`).catch(() => undefined);
    await client?.connection.close();
  });

  let pointA: TakeSavepointResult;
  let restored: RestoreResult | undefined;
  /** the rows the undo branch kept (up to today's savepoint) */
  const keptByBranch = new Map<TableRef, number>();
  const atA = new Map<TableRef, { rows: number; max: number; snapshotId: number }>();

  it('restores both tables to savepoint A, approved by an approver; the job resumes from A with contiguous ids', async () => {
    // Restore point A: an intermediate savepoint, recorded once its tag is on both tables.
    pointA = await client.workflow.execute('takeSavepointWorkflow', {
      taskQueue,
      workflowId: unique('e2e-restore-savepoint'),
      args: [{ job: { jobName: JOB_NAME }, tables: TABLES, options: { label: 'restore-e2e A', tagTimeout: '2m' } }],
    });
    savepointPaths.push(pointA.path);
    expect(pointA).toMatchObject({ restorable: true, missingTags: [] });
    const tagged = await snapshotsAndTags();
    const idsAtA = await ids(() => ({ tag: pointA.tag }));
    for (const table of TABLES) {
      const tag = tagged.get(table)!.tags.find((t) => t.tag === pointA.tag)!;
      const at = idsAtA.get(table)!;
      expect(at).toMatchObject({ rows: tag.records, min: 1, max: tag.records }); // ids 1..n at the tag
      atA.set(table, { rows: at.rows, max: at.max, snapshotId: tag.snapshotId });
    }
    // More rows after A: what the restore will take away.
    await until('rows past A in both tables', 60_000, async () => {
      const now = await ids();
      return TABLES.every((t) => now.get(t)!.max > atA.get(t)!.max + 30) ? true : undefined;
    });

    const handle = await startRestore(client, restoreInput(pointA.savepointId), { taskQueue });
    const plan = await awaitPlan(client);
    expect(plan.restorePoint).toMatchObject({ savepointId: pointA.savepointId, tag: pointA.tag, path: pointA.path, recorded: true });
    expect(plan.writer).toMatchObject({ jobId: ourJobs[0], action: 'stop-with-savepoint' });
    for (const t of plan.tables) {
      // An insert-only table: its tag's records are its rows (checked above), so both figures grow with the ids.
      expect(t).toMatchObject({ tagSnapshotId: atA.get(t.table)!.snapshotId, recordsAtTag: atA.get(t.table)!.rows });
      expect(t.recordsNow).toBeGreaterThan(t.recordsAtTag!);
      expect(t.snapshotsDeleted).toBeGreaterThan(0);
    }
    expect(plan.irreversible).toContain("today's savepoint");

    // Approved the way README shows for the Temporal UI and CLI: signed by hand with ssh-keygen,
    // sent with `temporal workflow update execute`.
    expect(plan.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const printed = await approveByHandAsReadmeSays({
      workflowId: handle.workflowId,
      approver: 'ops-bob',
      planVersion: plan.version,
      planDigest: plan.digest!,
      temporalCli: path.join(config.stackHome, 'bin', 'temporal'),
    });
    expect(printed).toContain('proceeding');
    const result: RestoreResult = await handle.result();
    restored = result;
    ourJobs.push(result.newJobId!);
    savepointPaths.push(result.todaysSavepoint!.path);

    expect(result).toMatchObject({ status: 'restored', approval: { approver: 'ops-bob', via: 'update', planVersion: plan.version, proof: { kind: 'ssh-signature', planDigest: plan.digest } } });
    expect(await jobState(ourJobs[0])).toBe('FINISHED'); // stopped with today's savepoint
    const todays = result.todaysSavepoint!;
    expect(todays.savepointId).toBeGreaterThan(pointA.savepointId);

    const idsAfterRollback = await ids((table) => ({ snapshotId: atA.get(table)!.snapshotId }));
    const tagsAfter = await snapshotsAndTags();
    for (const table of TABLES) {
      const a = atA.get(table)!;
      // Right after the rollback, checked by the workflow and again here: exactly the rows up to A's tag.
      const rolled = result.tables!.find((t) => t.table === table)!;
      expect(rolled).toEqual({
        table,
        rolledBack: true,
        snapshotId: a.snapshotId,
        schemaId: expect.any(Number),
        records: a.rows,
        // What rollback_to deleted, counted as it ran: every snapshot after A's, today's tag among the tags.
        previousSnapshotId: expect.any(Number),
        snapshotsDeleted: expect.any(Number),
        tagsDeleted: expect.arrayContaining([todays.tag]),
      });
      expect(rolled.snapshotsDeleted).toBeGreaterThan(0);
      expect(rolled.snapshotsDeleted).toBeLessThanOrEqual(rolled.previousSnapshotId! - a.snapshotId);
      expect(idsAfterRollback.get(table)).toEqual({ rows: a.rows, min: 1, max: a.max });
      // rollback_to deleted today's tag (newer than A); A's tag stays.
      const tags = tagsAfter.get(table)!.tags.map((t) => t.tag);
      expect(tags).toContain(pointA.tag);
      expect(tags).not.toContain(todays.tag);
      // The undo branch survived the rollback and holds the rows up to today's savepoint.
      const branch = await paimonQuery(`SELECT branch_name FROM ${sql(table).system('branches')}`);
      expect(branch.map((r) => r.branch_name)).toContain(result.undo!.branch);
      const kept = await paimonQuery(
        `SELECT COUNT(*) AS n, MAX(id) AS hi FROM ${sql(table).system(`branch_${result.undo!.branch}`)}`,
      );
      expect(Number(kept[0]!.n)).toBe(Number(kept[0]!.hi));
      expect(Number(kept[0]!.hi)).toBeGreaterThan(a.max + 30);
      keptByBranch.set(table, Number(kept[0]!.hi));
    }

    // The job resumes from A: new ids continue right after A's last one, with no gap and no
    // duplicate (a job resumed from today's savepoint would leave a gap after A's ids).
    await awaitCheckpointedRun(result.newJobId!);
    const resumed = await until('new rows after the restore in both tables', 90_000, async () => {
      const r = await ids();
      return TABLES.every((t) => r.get(t)!.max > atA.get(t)!.max + 20) ? r : undefined;
    });
    for (const table of TABLES) {
      const now = resumed.get(table)!;
      expect(now.min).toBe(1);
      expect(now.rows).toBe(now.max - now.min + 1);
    }
    const later = await until('both tables to keep growing', 60_000, async () => {
      const r = await ids();
      return TABLES.every((t) => r.get(t)!.max > resumed.get(t)!.max) ? r : undefined;
    });
    for (const table of TABLES) expect(later.get(table)).toMatchObject({ min: 1, rows: later.get(table)!.max });
  });

  it('a rejected restore changes no table: same snapshot ids, rows and tags', async () => {
    expect(pointA).toBeDefined();
    // No writer, so nothing but the restore could move the tables.
    for (const jobId of ourJobs) await cancelAndWait(jobId);
    const before = { tables: await snapshotsAndTags(), ids: await ids() };

    const handle = await startRestore(client, restoreInput(pointA.savepointId), { taskQueue });
    const plan = await awaitPlan(client);
    expect(plan.writer.action).toBe('none'); // no live job of that name: nothing to stop
    await rejectSigned(client, { jobName: JOB_NAME }, { approver: 'ops-bob', comment: 'not now' });
    const result: RestoreResult = await handle.result();
    expect(result).toMatchObject({ status: 'rejected', rejection: { rejectedBy: 'ops-bob', comment: 'not now' } });

    expect({ tables: await snapshotsAndTags(), ids: await ids() }).toEqual(before);
    for (const table of TABLES) expect(before.tables.get(table)!.tags.map((t) => t.tag)).toContain(pointA.tag);
    const { jobs } = await flinkGet<{ jobs: { name: string; state: string }[] }>('/jobs/overview');
    expect(jobs.filter((j) => j.name === JOB_NAME && j.state === 'RUNNING')).toEqual([]);
  });

  it("the undo the plan describes works: the branch's rows copied back, $snapshots still readable", async () => {
    expect(restored?.undo).toBeDefined();
    const branch = restored!.undo!.branch;
    // The writer is stopped (previous test); copy each table back from its undo branch.
    for (const table of TABLES) {
      await paimonQuery(
        "SET 'table.dml-sync' = 'true'",
        `INSERT OVERWRITE ${sql(table).table} SELECT * FROM ${sql(table).system(`branch_${branch}`)}`,
      );
    }
    const back = await ids();
    for (const table of TABLES) {
      expect(back.get(table)).toEqual({ rows: keptByBranch.get(table), min: 1, max: keptByBranch.get(table) });
    }
    // Unlike fast_forward (docs/paimon-rollback.md), the copy leaves main's snapshots readable.
    const after = await snapshotsAndTags();
    for (const table of TABLES) expect(after.get(table)!.latest).toBeGreaterThan(0);
  });
});
