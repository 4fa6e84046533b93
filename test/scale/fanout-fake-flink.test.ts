// A small fan-out against the FAKE Flink REST API and SQL gateway of bench/ (fake-flink-server.ts),
// through the benchmark's own phases (bench/p4-phases.ts): tens of scheduled savepoints, then a few
// concurrent upgrades, on the production worker (createWorker) and a private Temporal dev server.
// Nothing here checks Flink or Paimon behaviour, and no timing is asserted: it checks that every
// run ends as it would on a real stack (restorable, upgraded) and that the fake answered every call
// today's workflows make, so that P4 cannot silently measure refusals again (issue 29: since the
// checks before the stop arrived, every P4 run had failed NotTheWriter and nothing noticed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeFlink } from '../../bench/fake-flink-server';
import { fanOutPhase, upgradePhase, type Phase } from '../../bench/p4-phases';
import { scaleBenchProblems } from '../../bench/p4-scale';
import { loadConfig } from '../../src/config/config';
import { createWorker } from '../../src/worker/worker';
import { createTestEnv, unique } from '../support/temporal-env';

const SAVEPOINTS = 24;
const UPGRADES = 8;

describe('fan-out against the FAKE Flink (bench P4): every run ends restorable or upgraded', () => {
  let env: TestWorkflowEnvironment;
  let fake: Awaited<ReturnType<typeof startFakeFlink>>;
  let connection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let phase: Omit<Phase, 'n'>;
  const tmp = mkdtempSync(path.join(tmpdir(), 'fanout-fake-flink-'));

  beforeAll(async () => {
    [env, fake] = await Promise.all([createTestEnv(), startFakeFlink()]);
    const taskQueue = unique('fanout-fake-flink');
    const config = loadConfig({
      ...process.env,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
      FLINK_REST_URL: `http://127.0.0.1:${fake.restPort}`,
      SQL_GATEWAY_URL: `http://127.0.0.1:${fake.gatewayPort}`,
      FLINK_SAVEPOINT_DIR: `file://${tmp}/savepoints`,
      PAIMON_WAREHOUSE: 's3://bench-fake/warehouse',
    });
    connection = await NativeConnection.connect({ address: env.address });
    worker = await createWorker(config, connection);
    running = worker.run();
    phase = { client: env.client, taskQueue, fakePort: fake.restPort };
  });

  afterAll(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await connection?.close();
    await fake?.close();
    await env?.teardown();
    rmSync(tmp, { recursive: true, force: true });
  });

  it(`${SAVEPOINTS} scheduled savepoints triggered at once all end restorable`, async () => {
    const fanOut = await fanOutPhase({ ...phase, n: SAVEPOINTS }, 'schedule', 150_000);
    expect(scaleBenchProblems({ fanOut })).toEqual([]);
    expect(fanOut.restorable).toBe(SAVEPOINTS);
    expect(fanOut.fakeRequests['POST /jobs/:id/savepoints']).toBe(SAVEPOINTS);
  });

  it(`${UPGRADES} concurrent upgrades all end upgraded`, async () => {
    const upgrades = await upgradePhase({ ...phase, n: UPGRADES }, 150_000);
    expect(scaleBenchProblems({ upgrades })).toEqual([]);
    expect(upgrades.upgraded).toBe(UPGRADES);
    expect(upgrades.fakeRequests['POST /jobs/:id/stop']).toBe(UPGRADES);
  });
});
