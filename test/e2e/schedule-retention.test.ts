// Scheduled savepoints and retention on the REAL stack (scripts/stack.sh): our own streaming job
// writes into our own Paimon tables (auto-tag on), a worker runs in-process with the real
// activities, the job's Temporal Schedule takes two savepoints, both tags appear on both tables,
// and retention with keepLast 1 deletes the older restore point — its tag on both tables, its
// savepoint directory and its record — while the newer stays restorable.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { localPath, RestorePointStore } from '../../activities/catalog/store';
import { SqlGatewayClient } from '../../activities/sql-gateway/client';
import {
  createSavepointSchedule,
  deleteSavepointSchedule,
  describeSavepointSchedule,
  triggerSavepointSchedule,
} from '../../src/client/schedules';
import type { TableRef } from '../../src/domain/model';
import { retentionWorkflowId } from '../../src/domain/job-name';
import type { RestorePoint } from '../../src/domain/restore-points';
import type { RetentionResult } from '../../src/domain/retention-input';
import type { TakeSavepointResult } from '../../src/domain/savepoint-input';
import { startInProcessWorker, type InProcessWorker } from '../support/in-process-worker';
import { awaitCheckpointedRun, tagNames, ensureSinkTables } from '../support/demo-pipeline';
import { activityEnv as testActivityEnv } from '../support/activity-calls';
import { config, flinkGet, paimonQuery, requireStack, until } from '../support/stack';
import { connectStackClient } from '../support/stack-client';
import { unique } from '../support/temporal-env';

const RUN = `${process.pid}_${Date.now().toString(36)}`;
/** Our own database and job, so the shared demo job and its tables are never touched. */
const DB = `sched_e2e_${RUN}`;
const JOB_NAME = `schedule-e2e-${RUN}`;
const TABLES: TableRef[] = [`${DB}.seq_a`, `${DB}.seq_b`];

const activities = createActivities(config);
const activityEnv = testActivityEnv();
const tagsOf = (table: TableRef) => tagNames(...(table.split('.') as [string, string]));
const listRestorePoints = (): Promise<RestorePoint[]> =>
  activityEnv.run(activities.listRestorePoints, { jobName: JOB_NAME, tables: TABLES });

/** Starts the demo pipeline's SQL against our tables through the SQL gateway; returns the job id. */
async function startOwnJob(): Promise<string> {
  const gateway = new SqlGatewayClient({ url: config.sqlGateway.url, requestTimeoutMs: 30_000 });
  const session = await gateway.openSession({ 'pipeline.name': JOB_NAME });
  try {
    const { catalog, warehouse } = config.paimon;
    await gateway.execute(session, `CREATE CATALOG IF NOT EXISTS \`${catalog}\` WITH ('type' = 'paimon', 'warehouse' = '${warehouse}')`);
    await gateway.execute(
      session,
      `CREATE TEMPORARY TABLE e2e_sequence (id BIGINT) WITH (
        'connector' = 'datagen', 'rows-per-second' = '10',
        'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '500000')`,
    );
    const result = await gateway.execute(
      session,
      `EXECUTE STATEMENT SET BEGIN
        INSERT INTO \`${catalog}\`.${DB}.seq_a SELECT id, CONCAT('e2e:', CAST(id AS STRING)) FROM e2e_sequence;
        INSERT INTO \`${catalog}\`.${DB}.seq_b SELECT id, CONCAT('e2e:', CAST(id AS STRING)) FROM e2e_sequence;
      END`,
    );
    if (!result.jobId) throw new Error('the SQL gateway reported no job id for our pipeline');
    return result.jobId;
  } finally {
    await gateway.closeSession(session).catch(() => undefined);
    await gateway.close();
  }
}

describe('scheduled savepoints and retention on the real stack', () => {
  let jobId: string | undefined;
  let client: Client;
  let worker: InProcessWorker | undefined;
  const taskQueue = unique('e2e-schedule');
  const taken: TakeSavepointResult[] = [];

  beforeAll(async () => {
    await requireStack();
    client = await connectStackClient();
    Runtime.install({ logger: new DefaultLogger((process.env.TEST_LOG_LEVEL ?? 'WARN') as LogLevel) });

    await ensureSinkTables(DB, ['seq_a', 'seq_b']);

    jobId = await startOwnJob();
    await awaitCheckpointedRun(jobId);

    worker = await startInProcessWorker(config, taskQueue, activities);
  });

  afterAll(async () => {
    await deleteSavepointSchedule(client, JOB_NAME).catch(() => undefined);
    await worker?.stop();
    if (jobId) {
      // Only the job this test started.
      await fetch(`${config.flink.restUrl}/jobs/${jobId}?mode=cancel`, { method: 'PATCH' }).catch(() => undefined);
      await until(`job ${jobId} to be cancelled`, 60_000, async () =>
        ['CANCELED', 'FAILED', 'FINISHED'].includes((await flinkGet<{ state: string }>(`/jobs/${jobId}`)).state) ? true : undefined,
      ).catch(() => undefined);
    }
    // What this test left in the shared savepoint dir and warehouse: its savepoints, records, tables.
    const store = new RestorePointStore(config.flink.savepointDir);
    for (const t of taken) await rm(localPath(t.path, 'savepoint'), { recursive: true, force: true });
    await rm(store.jobDir(JOB_NAME), { recursive: true, force: true });
    await paimonQuery(`DROP DATABASE IF EXISTS \`${config.paimon.catalog}\`.${DB} CASCADE`).catch(() => undefined);
    await client?.connection.close();
  });

  /** Triggers the schedule and waits for that run's result. */
  async function takeScheduledSavepoint(): Promise<TakeSavepointResult> {
    const before = (await describeSavepointSchedule(client, JOB_NAME)).recentActions.length;
    await triggerSavepointSchedule(client, JOB_NAME);
    const action = await until('the schedule to start a savepoint run', 30_000, async () =>
      (await describeSavepointSchedule(client, JOB_NAME)).recentActions[before],
    );
    const result: TakeSavepointResult = await client.workflow.getHandle(action.workflowId, action.runId).result();
    taken.push(result);
    return result;
  }

  // Two savepoints, each waiting for a checkpoint to tag it: slow when other tests load the cluster.
  it('takes two savepoints by schedule; retention keepLast 1 deletes the older one everywhere', { timeout: 360_000 }, async () => {
    await createSavepointSchedule(
      client,
      {
        savepoint: { job: { jobName: JOB_NAME }, tables: TABLES, options: { label: 'e2e', tagTimeout: '90s' } },
        every: '1h',
        paused: true, // the test triggers it; the interval never fires during the test
      },
      { taskQueue },
    );

    const older = await takeScheduledSavepoint();
    const newer = await takeScheduledSavepoint();
    for (const sp of [older, newer]) {
      expect(sp).toMatchObject({ jobName: JOB_NAME, jobId, restorable: true, missingTags: [] });
      expect(existsSync(path.join(localPath(sp.path, 'savepoint'), '_metadata'))).toBe(true);
    }
    expect(newer.savepointId).toBeGreaterThan(older.savepointId);
    for (const table of TABLES) {
      expect(await tagsOf(table)).toEqual(expect.arrayContaining([older.tag, newer.tag]));
    }

    const before = await listRestorePoints();
    expect(before.map((p) => [p.savepointId, p.restorable, p.recorded])).toEqual([
      [newer.savepointId, true, true],
      [older.savepointId, true, true],
    ]);
    expect(before[0]).toMatchObject({
      jobId,
      label: 'e2e',
      path: newer.path,
      savepointPresent: true,
      tables: Object.fromEntries(TABLES.map((t) => [t, 'present'])),
    });

    // Dry run first: the decision, and nothing changed.
    const dry: RetentionResult = await client.workflow.execute('retentionWorkflow', {
      taskQueue,
      workflowId: `${retentionWorkflowId(JOB_NAME)}-dry`,
      args: [{ jobName: JOB_NAME, policy: { keepLast: 1 }, dryRun: true }],
    });
    expect(dry.decisions).toEqual([
      { savepointId: newer.savepointId, action: 'keep', reason: 'newest-restorable' },
      { savepointId: older.savepointId, action: 'delete', reason: 'expired' },
    ]);
    expect(dry.deleted).toEqual([]);
    expect((await listRestorePoints()).map((p) => p.savepointId)).toEqual([newer.savepointId, older.savepointId]);

    const retention: RetentionResult = await client.workflow.execute('retentionWorkflow', {
      taskQueue,
      workflowId: retentionWorkflowId(JOB_NAME),
      args: [{ jobName: JOB_NAME, policy: { keepLast: 1 } }],
    });
    expect(retention).toMatchObject({ deleted: [older.savepointId], failed: [] });

    for (const table of TABLES) {
      const tags = await tagsOf(table);
      expect(tags).not.toContain(older.tag);
      expect(tags).toContain(newer.tag);
    }
    expect(existsSync(localPath(older.path, 'savepoint'))).toBe(false);
    expect(existsSync(path.join(localPath(newer.path, 'savepoint'), '_metadata'))).toBe(true);
    const store = new RestorePointStore(config.flink.savepointDir);
    expect(existsSync(store.recordFile(JOB_NAME, older.savepointId))).toBe(false);

    const after = await listRestorePoints();
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ savepointId: newer.savepointId, restorable: true, recorded: true, problems: [] });
  });
});
