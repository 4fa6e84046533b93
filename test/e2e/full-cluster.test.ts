// Every slot of the production cluster taken by streaming jobs (#17 item 4): on the REAL stack, our
// own writer runs v1, and filler streaming jobs (datagen into blackhole) take every other free
// slot. With the reads cluster (PAIMON_READS_FLINK_REST_URL) a savepoint with retention, an
// upgrade and an approved restore still complete, and no Paimon read runs on the production
// cluster; the figures each Paimon activity took are printed. Without it (the gateway's own
// cluster), a read fails in seconds with NoFreeTaskSlot, before anything is stopped. Procedures and
// EXPLAIN complete on the full cluster: they need no slot. The fillers hold the slots only for this
// file (vitest runs test files one at a time) and are cancelled in afterAll, failed or not.
import { rm } from 'node:fs/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { RestorePointStore } from '../../activities/catalog/store';
import type { Activities } from '../../activities/contract';
import { READ_JOB_NAME, readClusterProperties } from '../../activities/paimon/read-cluster';
import { rowObjects, SqlGatewayClient } from '../../activities/sql-gateway/client';
import { restorePlan } from '../../src/client/approval';
import { startRestore } from '../../src/client/start-restore';
import { startUpgrade } from '../../src/client/start-upgrade';
import type { Config } from '../../src/config/config';
import type { TakeSavepointResult } from '../../src/domain/savepoint-input';
import { createClient } from '../../src/client/temporal-connection';
import { awaitCheckpointedRun, cancelAndWait, createSinkTables, demoScripts, jobState, liveJobsNamed } from '../support/demo-pipeline';
import { startInProcessWorker, type InProcessWorker } from '../support/in-process-worker';
import { config, flinkGet, requireStack, until } from '../support/stack';
import { unique } from '../support/temporal-env';
import { approveSigned } from '../support/approvals';

const RUN = `${process.pid}_${Date.now().toString(36)}`;
const DB = `fullcluster_${RUN}`;
const JOB_NAME = `full-cluster-e2e-${RUN}`;
const FILLER = `full-cluster-filler-${RUN}`;
const TABLES = ['fc_a', 'fc_b'];
const SINKS = TABLES.map((t) => `${DB}.${t}`);
const script = demoScripts(DB, { seq_a: TABLES[0]!, seq_b: TABLES[1]! });
const v1 = { kind: 'sql' as const, version: 'v1', scriptFile: script('pipeline-v1.sql', JOB_NAME) };
const v2 = { kind: 'sql' as const, version: 'v2', scriptFile: script('pipeline-v2.sql', JOB_NAME) };
const readsUrl = config.paimon.readsRestUrl;
const NO_READS_CLUSTER = 'needs a reads cluster (PAIMON_READS_FLINK_REST_URL; bash scripts/stack.sh up starts one)';

const gateway = new SqlGatewayClient({ url: config.sqlGateway.url, requestTimeoutMs: 30_000, statementTimeoutMs: 60_000 });
const overview = () => flinkGet<{ 'slots-total': number; 'slots-available': number }>('/overview');

/** A batch session with the Paimon catalog, on the reads cluster (`reads`) or the gateway's own one. */
async function session(reads: boolean, extra: Record<string, string> = {}): Promise<string> {
  const handle = await gateway.openSession(
    { 'execution.runtime-mode': 'batch', 'restart-strategy.type': 'none', ...(reads ? readClusterProperties(readsUrl) : {}), ...extra },
    `full-cluster-${reads ? 'reads' : 'main'}`,
  );
  await gateway.execute(handle, `CREATE CATALOG IF NOT EXISTS \`${config.paimon.catalog}\` WITH ('type' = 'paimon', 'warehouse' = '${config.paimon.warehouse}')`);
  await gateway.execute(handle, `USE CATALOG \`${config.paimon.catalog}\``);
  return handle;
}

/** Every id from 1 to the largest present exactly once, read on the reads cluster. */
async function idsContiguous(): Promise<{ table: string; rows: number; max: number }[]> {
  const s = await session(true);
  try {
    const rows = rowObjects(
      await gateway.execute(s, SINKS.map((t) => `SELECT '${t}' AS t, COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi FROM ${t}`).join(' UNION ALL ')),
    );
    return rows.map((r) => {
      expect({ table: r.t, min: Number(r.lo), rows: Number(r.n) }).toEqual({ table: r.t, min: 1, rows: Number(r.hi) });
      return { table: String(r.t), rows: Number(r.n), max: Number(r.hi) };
    });
  } finally {
    await gateway.closeSession(s).catch(() => undefined);
  }
}

/** How long each Paimon activity took, by name: the figures this file prints. */
const timings = new Map<string, number[]>();
const PAIMON_STEPS = ['describeSinkTables', 'listTags', 'listTagsOfTables', 'awaitTag', 'createTag', 'deleteTag', 'rollbackToTag', 'tableState', 'listConsumers', 'createBranch', 'recordRestorePoint', 'listRestorePoints'] as const;

function timed(activities: Activities): Activities {
  const wrapped = { ...activities } as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const name of PAIMON_STEPS) {
    const fn = wrapped[name];
    if (!fn) continue;
    wrapped[name] = async (...args) => {
      const started = performance.now();
      try {
        return await fn(...args);
      } finally {
        timings.set(name, [...(timings.get(name) ?? []), performance.now() - started]);
      }
    };
  }
  return wrapped as unknown as Activities;
}

function printTimings(): void {
  const lines = [...timings].map(([name, ms]) => {
    const sorted = [...ms].sort((a, b) => a - b);
    const p50 = sorted[Math.floor((sorted.length - 1) / 2)]!;
    return `  ${name.padEnd(20)} ${String(ms.length).padStart(3)} calls  p50 ${(p50 / 1000).toFixed(2)} s  max ${(sorted.at(-1)! / 1000).toFixed(2)} s`;
  });
  console.log(`Paimon activities with every production slot taken (reads on ${readsUrl}):\n${lines.join('\n')}`);
}

/** Read jobs (named by our sessions) the production cluster has seen: none may be there. */
async function readJobsOnProduction(): Promise<number> {
  const { jobs } = await flinkGet<{ jobs: { name: string }[] }>('/jobs/overview');
  return jobs.filter((j) => j.name === READ_JOB_NAME).length;
}

describe.skipIf(readsUrl === undefined)(`every slot of the production cluster taken (${NO_READS_CLUSTER})`, () => {
  let client: Client;
  let worker: InProcessWorker | undefined;
  const taskQueue = unique('full-cluster');
  const fillers: string[] = [];
  let fillerSession: string | undefined;
  let readJobsBefore = 0;
  let pointA: TakeSavepointResult;

  beforeAll(async () => {
    await requireStack();
    await createSinkTables(DB, TABLES);
    const activities = createActivities(config);
    const env = new MockActivityEnvironment();
    const { jobId } = (await env.run(activities.deployJob, { deployment: v1, deployToken: `${JOB_NAME}/v1` })) as { jobId: string };
    await awaitCheckpointedRun(jobId);

    // Streaming fillers, one slot each (parallelism 1), until no slot is free.
    fillerSession = await gateway.openSession({ 'execution.runtime-mode': 'streaming', 'pipeline.name': FILLER, 'parallelism.default': '1' }, FILLER);
    await gateway.execute(fillerSession, `CREATE TEMPORARY TABLE filler_src (x INT) WITH ('connector' = 'datagen', 'rows-per-second' = '1')`);
    await gateway.execute(fillerSession, `CREATE TEMPORARY TABLE filler_sink (x INT) WITH ('connector' = 'blackhole')`);
    for (let free = (await overview())['slots-available']; free > 0; free--) {
      const { jobId: filler } = await gateway.execute(fillerSession, 'INSERT INTO filler_sink SELECT x FROM filler_src');
      fillers.push(filler!);
    }
    await until('every production slot to be taken', 60_000, async () => ((await overview())['slots-available'] === 0 ? true : undefined));
    readJobsBefore = await readJobsOnProduction();

    client = await createClient(config);
    worker = await startInProcessWorker(config, taskQueue, timed(activities));
  }, 300_000);

  afterAll(async () => {
    await worker?.stop();
    for (const jobId of fillers) await cancelAndWait(jobId).catch(() => undefined);
    if (fillerSession) await gateway.closeSession(fillerSession).catch(() => undefined);
    for (const job of await liveJobsNamed(JOB_NAME).catch(() => [])) await cancelAndWait(job.jid).catch(() => undefined);
    await rm(new RestorePointStore(config.flink.savepointDir).jobDir(JOB_NAME), { recursive: true, force: true }).catch(() => undefined);
    const s = await session(true).catch(() => undefined);
    if (s) await gateway.execute(s, `DROP DATABASE IF EXISTS \`${DB}\` CASCADE`).catch(() => undefined);
    await client?.connection.close();
    await gateway.close();
    if (timings.size > 0) printTimings();
  }, 300_000);

  it('a scheduled savepoint with retention completes', async () => {
    const started = Date.now();
    pointA = await client.workflow.execute('takeSavepointWorkflow', {
      taskQueue,
      workflowId: unique('full-cluster-savepoint'),
      args: [{ job: { jobName: JOB_NAME }, tables: SINKS, options: { tagTimeout: '2m' }, retention: { keepLast: 5 } }],
    });
    console.log(`savepoint with retention: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(pointA).toMatchObject({ restorable: true, missingTags: [] });
    expect((pointA as { retention?: unknown }).retention).toBeDefined();
    expect((await overview())['slots-available']).toBe(0);
  }, 300_000);

  it('an upgrade completes: v2 from the stop savepoint, every id once', async () => {
    const started = Date.now();
    const handle = await startUpgrade(
      client,
      { job: { jobName: JOB_NAME }, newVersion: v2, oldVersion: v1, sinkTables: SINKS, options: { healthTimeout: '90s', tagTimeout: '2m' } },
      { taskQueue },
    );
    const result = await handle.result();
    console.log(`upgrade: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(result.status).toBe('upgraded');
    expect(await jobState(result.newJobId!)).toBe('RUNNING');
    await idsContiguous();
  }, 300_000);

  it('a restore to the savepoint completes once approved; the job resumes with every id once', async () => {
    const started = Date.now();
    const handle = await startRestore(
      client,
      {
        job: { jobName: JOB_NAME },
        deployment: v1,
        sinkTables: SINKS,
        restorePoint: { savepointId: pointA.savepointId },
        options: { approvers: ['ops-bob'], requestedBy: 'ops-alice', approvalTimeout: '5m', tagTimeout: '2m', healthTimeout: '2m' },
      },
      { taskQueue },
    );
    // The plan is a query, answered while the restore waits: the workflow stays queryable.
    const plan = await until('the restore to wait for approval', 180_000, async () => restorePlan(client, { jobName: JOB_NAME }).catch(() => undefined));
    await approveSigned(client, { jobName: JOB_NAME }, { approver: 'ops-bob', planVersion: plan.version });
    const result = await handle.result();
    console.log(`restore (approval included): ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(result.status).toBe('restored');
    await awaitCheckpointedRun(result.newJobId!);
    const before = await idsContiguous();
    await until('both tables to grow after the restore', 60_000, async () => {
      const now = await idsContiguous();
      return now.every((t, i) => t.max > before[i]!.max) ? true : undefined;
    });
  }, 400_000);

  it('ran no Paimon read on the production cluster', async () => {
    expect(await readJobsOnProduction()).toBe(readJobsBefore);
  });

  it('procedures and EXPLAIN need no slot: they complete on the full production cluster', async () => {
    // A table of its own, written on the reads cluster (an INSERT is a job too).
    const probe = `${DB}.probe`;
    // dml-sync: each INSERT returns once its job has committed, not once it is submitted.
    const reads = await session(true, { 'table.dml-sync': 'true' });
    try {
      await gateway.execute(reads, `CREATE TABLE ${probe} (id BIGINT NOT NULL, PRIMARY KEY (id) NOT ENFORCED) WITH ('bucket' = '1')`);
      await gateway.execute(reads, `INSERT INTO ${probe} VALUES (1), (2)`);
      await gateway.execute(reads, `INSERT INTO ${probe} VALUES (3)`);
    } finally {
      await gateway.closeSession(reads).catch(() => undefined);
    }
    expect((await overview())['slots-available']).toBe(0);
    const s = await session(false);
    try {
      const started = Date.now();
      for (const statement of [
        `CALL sys.create_tag(\`table\` => '${probe}', tag => 'probe_tag', snapshot_id => 1)`,
        `CALL sys.create_branch(\`table\` => '${probe}', branch => 'probe_branch', tag => 'probe_tag')`,
        `CALL sys.rollback_to(\`table\` => '${probe}', tag => 'probe_tag')`,
        `CALL sys.delete_tag(\`table\` => '${probe}', tag => 'probe_tag')`,
        `EXPLAIN SELECT COUNT(*) FROM ${probe}`,
      ]) {
        const result = await gateway.execute(s, statement);
        expect(result.jobId).toBeUndefined();
      }
      console.log(`create_tag, create_branch, rollback_to, delete_tag and EXPLAIN on the full cluster: ${((Date.now() - started) / 1000).toFixed(2)} s`);
    } finally {
      await gateway.closeSession(s).catch(() => undefined);
    }
    // The rollback took effect: the table is back at snapshot 1's two rows (read on the reads cluster).
    const check = await session(true);
    try {
      expect(rowObjects(await gateway.execute(check, `SELECT COUNT(*) AS n FROM ${probe}`))).toEqual([{ n: 2 }]);
    } finally {
      await gateway.closeSession(check).catch(() => undefined);
    }
  }, 120_000);

  it('without the reads cluster a savepoint fails in seconds with NoFreeTaskSlot, before any savepoint', async () => {
    expect((await overview())['slots-available']).toBe(0);
    // The old topology: reads go to the gateway's own cluster, the full production one.
    const gatewayReads: Config = { ...config, paimon: { ...config.paimon, readsRestUrl: undefined } };
    const oldQueue = unique('full-cluster-gateway-reads');
    const oldWorker = await startInProcessWorker(gatewayReads, oldQueue, createActivities(gatewayReads));
    const checkpointsBefore = await flinkGet<{ counts: { completed: number } }>(`/jobs/${(await liveJobsNamed(JOB_NAME))[0]!.jid}/checkpoints`);
    try {
      const started = Date.now();
      const failure = await client.workflow
        .execute('takeSavepointWorkflow', { taskQueue: oldQueue, workflowId: unique('full-cluster-no-slot'), args: [{ job: { jobName: JOB_NAME }, tables: SINKS }] })
        .catch((err: unknown) => err);
      const took = Date.now() - started;
      // WorkflowFailedError -> ActivityFailure -> ApplicationFailure (the activity's own).
      let cause = failure as { cause?: unknown; type?: string; message?: string } | undefined;
      while (cause && cause.type === undefined) cause = cause.cause as typeof cause;
      console.log(`savepoint with reads on the full production cluster failed after ${(took / 1000).toFixed(1)} s: ${cause?.message}`);
      expect(cause).toMatchObject({ type: 'NoFreeTaskSlot' });
      expect(cause?.message).toMatch(/no free task slot on the Flink cluster at .*PAIMON_READS_FLINK_REST_URL/s);
      expect(took).toBeLessThan(30_000);
    } finally {
      await oldWorker.stop();
    }
    // The table check comes before the savepoint: none was triggered.
    const jobId = (await liveJobsNamed(JOB_NAME))[0]!.jid;
    const after = await flinkGet<{ counts: { completed: number }; history: { is_savepoint: boolean; trigger_timestamp: number }[] }>(`/jobs/${jobId}/checkpoints`);
    expect(after.counts.completed).toBeGreaterThanOrEqual(checkpointsBefore.counts.completed);
    expect(after.history.filter((c) => c.is_savepoint)).toEqual([]);
  }, 120_000);
});
