// End to end on the real stack: the upgrade workflow, run by a real worker with the real
// activities, moves a demo pipeline from v1 to v2 — and a broken v2 ends rolled back — without
// losing or duplicating a single id in either Paimon table.
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpgrade } from '../../src/client/start-upgrade';
import { createClient, connectWorker } from '../../src/client/temporal-connection';
import { createWorker } from '../../src/worker/worker';
import type { UpgradeResult } from '../../workflows/messages';
import { run } from '../support/activity-calls';
import { activities } from '../support/flink-activities';
import { cancelJobsNamed, createSinkTables, demoScripts, jobState } from '../support/demo-pipeline';
import { config, paimonQuery, requireStack, until } from '../support/stack';

const DATABASE = 'upgrade_e2e';
const TABLES = ['seq_a', 'seq_b'];
const SINKS = TABLES.map((t) => `${DATABASE}.${t}`);
const JOB_PREFIX = 'upgrade-e2e';
const taskQueue = `upgrade-e2e-${Date.now()}`;

let workerConnection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let client: Client;
const script = demoScripts(DATABASE);

/** Every id from 1 to the largest present exactly once, and the payload each version writes. */
async function checkIds(table: string, v1UpTo: number, expectV2After: boolean) {
  const [row] = await paimonQuery(
    `SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi, ` +
      `SUM(CASE WHEN id <= ${v1UpTo} AND payload <> CONCAT('v1:', CAST(id AS STRING)) THEN 1 ` +
      `WHEN id > ${v1UpTo} AND payload <> CONCAT('${expectV2After ? 'v2' : 'v1'}:', CAST(id AS STRING)) THEN 1 ELSE 0 END) AS wrong ` +
      `FROM \`${DATABASE}\`.\`${table}\``,
  );
  const n = Number(row!.n);
  expect({ table, rows: n, min: Number(row!.lo), wrongPayloads: Number(row!.wrong ?? 0) }).toEqual({ table, rows: Number(row!.hi), min: 1, wrongPayloads: 0 });
  return Number(row!.hi);
}

/** The largest id in the table as of a tag: what the savepoint's state had emitted. */
async function maxIdAtTag(table: string, tag: string): Promise<number> {
  const [row] = await paimonQuery(`SELECT MAX(id) AS hi FROM \`${DATABASE}\`.\`${table}\` /*+ OPTIONS('scan.tag-name' = '${tag}') */`);
  return Number(row!.hi);
}

async function growsPast(table: string, id: number): Promise<void> {
  await until(`${table} to grow past id ${id}`, 60_000, async () => {
    const [row] = await paimonQuery(`SELECT MAX(id) AS hi FROM \`${DATABASE}\`.\`${table}\``);
    return Number(row!.hi) > id + 20 ? true : undefined;
  });
}

async function startV1(jobName: string): Promise<string> {
  const { jobId } = await run(activities().deployJob, {
    deployment: { kind: 'sql', version: 'v1', scriptFile: script('pipeline-v1.sql', jobName) },
    deployToken: `${jobName}/${Date.now()}`,
  });
  for (const table of TABLES) await growsPast(table, 30);
  return jobId;
}

describe('upgrade workflow on the real stack', () => {
  beforeAll(async () => {
    await requireStack();
    await cancelJobsNamed(JOB_PREFIX);
    await createSinkTables(DATABASE, TABLES);
    const workerConfig = { ...config, temporal: { ...config.temporal, taskQueue } };
    workerConnection = await connectWorker(workerConfig);
    worker = await createWorker(workerConfig, workerConnection);
    running = worker.run();
    client = await createClient(config);
  });

  afterAll(async () => {
    await cancelJobsNamed(JOB_PREFIX);
    worker?.shutdown();
    await running;
    await workerConnection?.close();
    await client?.connection.close();
  });

  it('upgrades v1 to v2 from the stop savepoint: ids contiguous, each once, v1 up to the tag and v2 after', async () => {
    const jobName = `${JOB_PREFIX}-ok`;
    const v1JobId = await startV1(jobName);
    for (const table of TABLES) await checkIds(table, Number.MAX_SAFE_INTEGER, false);

    const handle = await startUpgrade(
      client,
      {
        job: { jobName },
        newVersion: { kind: 'sql', version: 'v2', scriptFile: script('pipeline-v2.sql', jobName) },
        oldVersion: { kind: 'sql', version: 'v1', scriptFile: script('pipeline-v1.sql', jobName) },
        sinkTables: SINKS,
        options: { healthTimeout: '90s', tagTimeout: '60s' },
      },
      { taskQueue },
    );
    const result: UpgradeResult = await handle.result();

    expect(result.status).toBe('upgraded');
    expect(result.oldJobId).toBe(v1JobId);
    expect(await jobState(v1JobId)).toBe('FINISHED');
    expect(await jobState(result.newJobId!)).toBe('RUNNING');
    expect(result.tag).toBe(`savepoint-${result.savepoint!.id}`);

    for (const table of TABLES) {
      const atTag = await maxIdAtTag(table, result.tag!);
      expect(atTag).toBeGreaterThan(30);
      await growsPast(table, atTag);
      // v1 wrote exactly the ids up to the savepoint, v2 every id after it: none lost, none twice.
      await checkIds(table, atTag, true);
    }
  });

  it('a v2 that crash-loops ends rolled back: v1 runs again from the savepoint, no id lost or duplicated', async () => {
    const jobName = `${JOB_PREFIX}-broken`;
    // Fresh tables for this case; the first case's v2 must be gone before they are dropped.
    await cancelJobsNamed(JOB_PREFIX);
    await createSinkTables(DATABASE, TABLES);
    const v1JobId = await startV1(jobName);

    const handle = await startUpgrade(
      client,
      {
        job: { jobName },
        newVersion: { kind: 'sql', version: 'v2-broken', scriptFile: script('pipeline-broken.sql', jobName) },
        oldVersion: { kind: 'sql', version: 'v1', scriptFile: script('pipeline-v1.sql', jobName) },
        sinkTables: SINKS,
        options: { healthTimeout: '20s', tagTimeout: '60s' },
      },
      { taskQueue },
    );
    const result: UpgradeResult = await handle.result();

    expect(result.status).toBe('rolled-back');
    expect(result.reason).toMatch(/not healthy/);
    expect(await jobState(v1JobId)).toBe('FINISHED');
    expect(['CANCELED', 'FAILED']).toContain(await jobState(result.newJobId!));
    expect(await jobState(result.restoredJobId!)).toBe('RUNNING');

    for (const table of TABLES) {
      const atTag = await maxIdAtTag(table, result.tag!);
      await growsPast(table, atTag);
      // Only v1 ever wrote: the broken version committed nothing, and v1 went on from the savepoint.
      await checkIds(table, Number.MAX_SAFE_INTEGER, false);
    }
  });
});
