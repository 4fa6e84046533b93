// The worker's Prometheus endpoint on the real stack (docs/metrics.md): the Temporal runtime's own
// metrics and ours, scraped after a savepoint and a restore that is rejected. Runs in its own
// process (vitest's forks pool), so the runtime installed here is this file's alone.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../activities';
import { localPath, RestorePointStore } from '../activities/catalog/store';
import { restorePlan } from '../src/client/approval';
import { createSavepointSchedule, deleteSavepointSchedule, describeSavepointSchedule, triggerSavepointSchedule } from '../src/client/schedules';
import { startRestore } from '../src/client/start-restore';
import type { Deployment } from '../src/domain/model';
import type { TakeSavepointResult } from '../src/domain/savepoint-input';
import { installMetrics } from '../src/worker/worker';
import type { Client } from '@temporalio/client';
import { awaitCheckpointedRun, cancelAndWait } from './support/demo-pipeline';
import { startWorkerAndClient, type WorkerAndClient } from './support/in-process-worker';
import { config, paimonQuery, requireStack, until } from './support/stack';
import { unique } from './support/temporal-env';
import { MockActivityEnvironment } from '@temporalio/testing';
import { rejectSigned } from './support/approvals';
import { freePort } from '../bench/p4-support';

const RUN = `${process.pid}_${Date.now().toString(36)}`;
const DB = `metricstest_${RUN}`;
const JOB_NAME = `metrics-${RUN}`;
// Table names no other test's job writes: the restore refuses tables of a name another job writes.
const TABLES = [`${DB}.metrics_a`, `${DB}.metrics_b`];
const deployment: Deployment = {
  kind: 'sql',
  version: 'm-v1',
  script: `SET 'pipeline.name' = '${JOB_NAME}';
CREATE TEMPORARY TABLE metrics_sequence (id BIGINT) WITH (
  'connector' = 'datagen', 'rows-per-second' = '10', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '500000'
);
EXECUTE STATEMENT SET BEGIN
  INSERT INTO \`${config.paimon.catalog}\`.${DB}.metrics_a SELECT id, CAST(id AS STRING) FROM metrics_sequence;
  INSERT INTO \`${config.paimon.catalog}\`.${DB}.metrics_b SELECT id, CAST(id AS STRING) FROM metrics_sequence;
END;`,
};

/** `name{labels} value` lines of the scrape whose name and labels match. */
function samples(text: string, name: string, labels: Record<string, string> = {}): number[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
    .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
}

describe('Prometheus endpoint of the worker (real stack)', () => {
  const activities = createActivities(config);
  const taskQueue = unique('metrics');
  let port: number;
  let running: WorkerAndClient | undefined;
  let client: Client;
  let jobId: string | undefined;
  const savepoints: string[] = [];

  beforeAll(async () => {
    await requireStack();
    port = await freePort();
    installMetrics({ metrics: { prometheusAddress: `127.0.0.1:${port}` } });
    const table = (name: string) =>
      `CREATE TABLE IF NOT EXISTS \`${DB}\`.\`${name}\` (id BIGINT NOT NULL, payload STRING, PRIMARY KEY (id) NOT ENFORCED) ` +
      "WITH ('bucket' = '1', 'sink.savepoint.auto-tag' = 'true')";
    await paimonQuery(`CREATE DATABASE IF NOT EXISTS \`${DB}\``, table('metrics_a'), table('metrics_b'));
    ({ jobId } = (await new MockActivityEnvironment().run(activities.deployJob, { deployment, deployToken: `metrics-${RUN}` })) as { jobId: string });
    await awaitCheckpointedRun(jobId!);
    running = await startWorkerAndClient(config, taskQueue, activities);
    client = running.client;
  });

  afterAll(async () => {
    await running?.stop();
    if (jobId) await cancelAndWait(jobId).catch(() => undefined);
    for (const p of savepoints) await rm(localPath(p, 'savepoint'), { recursive: true, force: true }).catch(() => undefined);
    await rm(new RestorePointStore(config.flink.savepointDir).jobDir(JOB_NAME), { recursive: true, force: true });
    await paimonQuery(`DROP DATABASE IF EXISTS \`${DB}\` CASCADE`).catch(() => undefined);
  });

  it("serves the SDK's metrics and ours: operations by outcome, step durations, restore points per job", async () => {
    const before = Date.now();
    const taken: TakeSavepointResult = await client.workflow.execute('takeSavepointWorkflow', {
      taskQueue,
      workflowId: unique('metrics-savepoint'),
      args: [{ job: { jobName: JOB_NAME }, tables: TABLES, options: { tagTimeout: '90s' } }],
    });
    savepoints.push(taken.path);
    expect(taken.restorable).toBe(true);

    const handle = await startRestore(
      client,
      {
        job: { jobName: JOB_NAME },
        deployment,
        sinkTables: TABLES,
        restorePoint: { savepointId: taken.savepointId },
        options: { approvers: ['alice'], requestedBy: 'bob', approvalTimeout: '5m' },
      },
      { taskQueue },
    );
    await until('the restore to wait for approval', 120_000, async () => restorePlan(client, { jobName: JOB_NAME }).catch(() => undefined));
    // While the restore holds the job: a scheduled savepoint is skipped, one typed into the UI refused.
    await createSavepointSchedule(client, { savepoint: { job: { jobName: JOB_NAME }, tables: TABLES }, cron: '0 3 * * *', paused: true }, { taskQueue });
    try {
      await triggerSavepointSchedule(client, JOB_NAME);
      const action = await until('the scheduled run', 60_000, async () => (await describeSavepointSchedule(client, JOB_NAME)).recentActions[0]);
      expect(await client.workflow.getHandle(action.workflowId, action.runId).result()).toHaveProperty('skipped');
    } finally {
      await deleteSavepointSchedule(client, JOB_NAME);
    }
    await expect(
      client.workflow.execute('takeSavepointWorkflow', { taskQueue, workflowId: unique('metrics-ui-savepoint'), args: [{ job: { jobName: JOB_NAME }, tables: TABLES }] }),
    ).rejects.toThrow();
    await rejectSigned(client, { jobName: JOB_NAME }, { approver: 'alice', comment: 'metrics test' });
    expect((await handle.result()).status).toBe('rejected');

    // The exporter answers from the runtime's last collection: read until our series are there.
    const text = await until('our series on /metrics', 30_000, async () => {
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return samples(body, 'flink_paimon_operations_total', { operation: 'restoreWorkflow' }).length > 0 ? body : undefined;
    });
    expect(samples(text, 'flink_paimon_operations_total', { operation: 'takeSavepointWorkflow', outcome: 'restorable' })).toEqual([1]);
    expect(samples(text, 'flink_paimon_operations_total', { operation: 'restoreWorkflow', outcome: 'rejected' })).toEqual([1]);
    expect(samples(text, 'flink_paimon_operations_total', { operation: 'takeSavepointWorkflow', outcome: 'skipped' })).toEqual([1]);
    expect(samples(text, 'flink_paimon_operations_total', { operation: 'takeSavepointWorkflow', outcome: 'refused' })).toEqual([1]);
    expect(samples(text, 'flink_paimon_step_duration_count', { operation: 'restoreWorkflow', step: 'planning' })).toEqual([1]);
    expect(samples(text, 'flink_paimon_step_duration_count', { operation: 'restoreWorkflow', step: 'awaiting-approval' })).toEqual([1]);
    const [newest] = samples(text, 'flink_paimon_newest_restorable_savepoint_timestamp_seconds', { job: JOB_NAME });
    expect(newest! * 1000).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(newest! * 1000).toBeLessThanOrEqual(Date.now());
    expect(samples(text, 'flink_paimon_restore_points', { job: JOB_NAME })[0]).toBeGreaterThanOrEqual(1);
    // The SDK's own: completed workflows by type, on our task queue: the savepoint run started under
    // its own id, its child under flink-job/<job> that took the savepoint, and the skipped scheduled run.
    expect(samples(text, 'temporal_workflow_completed_total', { workflow_type: 'takeSavepointWorkflow', task_queue: taskQueue })).toEqual([3]);
    expect(samples(text, 'temporal_workflow_failed_total', { workflow_type: 'takeSavepointWorkflow', task_queue: taskQueue })).toEqual([1]);
  });
});
