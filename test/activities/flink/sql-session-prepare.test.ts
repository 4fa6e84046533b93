// A SQL version's gateway session prepared before the stop (prepareVersion on the session cluster),
// against the real stack: the deploy runs only the rest of the script in it, restores from the
// savepoint it is given after the stop, and starts afresh when the gateway lost the session, the
// session was prepared for another script, or it was kept past its TTL.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEPLOY_ID_KEY, deployIdOf, deployJob, settingsChanged } from '../../../activities/flink/deploy';
import { FlinkClient } from '../../../activities/flink/client';
import { sameLocation } from '../../../activities/flink/savepoint-metadata';
import { PREPARED_SESSION_TTL_MS, type PreparedSession, PreparedSessions, sessionOnlyPrefix } from '../../../activities/flink/sql-session-prepare';
import { SqlGatewayClient } from '../../../activities/sql-gateway/client';
import { splitSqlScript } from '../../../activities/sql-gateway/script';
import { checkpointedAndRunning } from '../../support/demo-pipeline';
import { flinkGet, requireStack, until } from '../../support/stack';
import { activities, activityEnv, cancelJobsNamed, config, createSinkTables, demoScript, run, runToken } from '../../support/flink-fixtures';

const PREFIX = 'flinktest-prepared';
const DB = 'flinktest_prepared_sql';
const NAME = `${PREFIX}-${Date.now()}`;
const hex32 = () => Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');

describe('the session-only prefix of a script', () => {
  it('takes SET, USE and temporary tables and functions up to the first statement that touches a catalog table', () => {
    const script = [
      "SET 'pipeline.name' = 'orders'",
      'USE CATALOG paimon',
      "CREATE TEMPORARY TABLE src (id BIGINT) WITH ('connector' = 'datagen')",
      "CREATE TEMPORARY FUNCTION f AS 'com.example.F'",
      'CREATE TABLE IF NOT EXISTS paimon.db.sink (id BIGINT)',
      "SET 'parallelism.default' = '2'",
      'INSERT INTO paimon.db.sink SELECT id FROM src',
    ];
    expect(sessionOnlyPrefix(script)).toBe(4);
  });

  it('stops at a temporary view, a temporary table defined from a catalog table or filled by a query, at ALTER and at the job', () => {
    expect(sessionOnlyPrefix(["SET 'a' = 'b'", 'CREATE TEMPORARY TABLE t LIKE paimon.db.sink', 'INSERT INTO x SELECT 1'])).toBe(1);
    expect(sessionOnlyPrefix(['CREATE TEMPORARY TABLE t AS SELECT * FROM paimon.db.sink'])).toBe(0);
    expect(sessionOnlyPrefix(["ALTER TABLE paimon.db.sink SET ('bucket' = '4')", "SET 'a' = 'b'"])).toBe(0);
    expect(sessionOnlyPrefix(['INSERT INTO x SELECT 1'])).toBe(0);
    expect(sessionOnlyPrefix(["SET 'a' = 'b'", 'CREATE TEMPORARY VIEW v AS SELECT * FROM paimon.db.sink', "SET 'c' = 'd'"])).toBe(1);
    expect(sessionOnlyPrefix(["SET 'a' = 'b'", "ADD JAR '/jars/udf.jar'", 'RESET'])).toBe(3);
  });

  it('turns a prepared session\'s config into the deploy\'s with SET and RESET only where they differ', () => {
    const prepared = { marker: 'm', 'parallelism.default': '2' };
    expect(settingsChanged(prepared, { marker: 'm', 'parallelism.default': '2' })).toEqual([]);
    expect(
      settingsChanged(prepared, { marker: 'm', 'execution.state-recovery.path': "/sp/it's", 'execution.state-recovery.ignore-unclaimed-state': 'false' }),
    ).toEqual(["SET 'execution.state-recovery.path' = '/sp/it''s'", "RESET 'parallelism.default'"]);
    expect(settingsChanged({}, { 'execution.state-recovery.ignore-unclaimed-state': 'true' })).toEqual([
      "SET 'execution.state-recovery.ignore-unclaimed-state' = 'true'",
    ]);
  });
});

/** Prepared sessions of their own, with their own clients, so a test can reach into them. */
function apart() {
  const gateway = new SqlGatewayClient({ url: config.sqlGateway.url, requestTimeoutMs: 30_000 });
  return { gateway, client: new FlinkClient(config.flink), sessions: new PreparedSessions(gateway), env: activityEnv() };
}

describe('a SQL version prepared before the stop, on the real stack', () => {
  const flink = activities();
  const v1 = { kind: 'sql' as const, version: 'v1', script: demoScript('pipeline-v1.sql', DB, NAME) };
  const v2 = { kind: 'sql' as const, version: 'v2', script: demoScript('pipeline-v2.sql', DB, NAME) };
  let first: string;

  beforeAll(async () => {
    await requireStack();
    await cancelJobsNamed(PREFIX);
    await createSinkTables(DB, ['seq_a', 'seq_b']);
  });

  afterAll(async () => {
    await cancelJobsNamed(PREFIX);
  });

  it('the deploy of the same token runs the rest of the script in the prepared session: named, marked, running', async () => {
    const deployToken = runToken('prepared-v1');
    expect(await run(flink.prepareVersion, { deployment: v1, deployToken })).toEqual({ prepared: true });
    const deployed = await run(flink.deployJob, { deployment: v1, deployToken });
    expect(deployed.preparedSession).toBe(true);
    first = deployed.jobId;
    const jobConfig = await flinkGet(`/jobs/${first}/config`);
    expect(jobConfig.name).toBe(NAME);
    expect(jobConfig['execution-config']['user-config'][DEPLOY_ID_KEY]).toBe(deployIdOf(deployToken));
    // A retry of that deploy takes no prepared session: it finds the job by its marker.
    expect(await run(flink.deployJob, { deployment: v1, deployToken })).toEqual({ jobId: first });
  });

  it('prepared before the stop, given the savepoint after it: the new version restores from that savepoint', async () => {
    await until(`a completed checkpoint of ${first}`, 60_000, async () => ((await checkpointedAndRunning(first)) ? true : undefined));
    const deployToken = runToken('prepared-v2');
    const preparing = run(flink.prepareVersion, { deployment: v2, deployToken, parallelism: { graphParallelism: 1, overrides: {} } });
    const savepoint = await run(flink.stopWithSavepoint, { jobId: first, triggerId: hex32(), drain: false });
    expect(await preparing).toEqual({ prepared: true });
    const deployed = await run(flink.deployJob, { deployment: v2, deployToken, savepointPath: savepoint.path });
    expect(deployed.preparedSession).toBe(true);
    await until(`a completed checkpoint of ${deployed.jobId}`, 60_000, async () => ((await checkpointedAndRunning(deployed.jobId)) ? true : undefined));
    const stats = await flinkGet<{ latest: { restored: { external_path: string; is_savepoint: boolean } | null } }>(`/jobs/${deployed.jobId}/checkpoints`);
    expect(stats.latest.restored?.is_savepoint).toBe(true);
    expect(sameLocation(stats.latest.restored!.external_path, savepoint.path)).toBe(true);
    const jobConfig = await flinkGet(`/jobs/${deployed.jobId}/config`);
    expect(jobConfig['execution-config']['user-config'][DEPLOY_ID_KEY]).toBe(deployIdOf(deployToken));
    await run(flink.cancelJob, { jobId: deployed.jobId });
  });

  it('a prepared session the gateway no longer has: the deploy starts a fresh one and runs the whole script', async () => {
    const { gateway, client, sessions, env } = apart();
    const deployToken = runToken('prepared-gone');
    const prepared: PreparedSession = await env.run(() => sessions.prepare(deployIdOf(deployToken), {}, [], splitSqlScript(v1.script)));
    expect(prepared.ran.length).toBeGreaterThan(0);
    await gateway.closeSession(prepared.session);
    const deployed: Awaited<ReturnType<typeof deployJob>> = await env.run(() => deployJob(client, gateway, config.paimon, { deployment: v1, deployToken }, undefined, sessions));
    expect(deployed.preparedSession).toBeUndefined();
    expect((await flinkGet(`/jobs/${deployed.jobId}/config`)).name).toBe(NAME);
    await run(flink.cancelJob, { jobId: deployed.jobId });
    await gateway.close();
  });

  it('a session prepared for another script under the same token is closed unused', async () => {
    const { gateway, client, sessions, env } = apart();
    const deployToken = runToken('prepared-other');
    const prepared: PreparedSession = await env.run(() => sessions.prepare(deployIdOf(deployToken), {}, [], ["SET 'pipeline.name' = 'another'"]));
    const deployed: Awaited<ReturnType<typeof deployJob>> = await env.run(() => deployJob(client, gateway, config.paimon, { deployment: v1, deployToken }, undefined, sessions));
    expect(deployed.preparedSession).toBeUndefined();
    expect((await flinkGet(`/jobs/${deployed.jobId}/config`)).name).toBe(NAME);
    await expect(gateway.execute(prepared.session, "SET 'a' = 'b'")).rejects.toThrow(/does not exist/);
    await run(flink.cancelJob, { jobId: deployed.jobId });
    await gateway.close();
  });

  it('a session kept past its TTL (the gateway\'s idle timeout) is closed, not taken', async () => {
    const { gateway, sessions, env } = apart();
    const deployId = deployIdOf(runToken('prepared-old'));
    const statements = splitSqlScript(v1.script);
    const prepared: PreparedSession = await env.run(() => sessions.prepare(deployId, {}, [], statements));
    const later = prepared.preparedAt + PREPARED_SESSION_TTL_MS + 1;
    const now = vi.spyOn(Date, 'now').mockReturnValue(later);
    try {
      expect(await sessions.take(deployId, statements)).toBeUndefined();
    } finally {
      now.mockRestore();
    }
    await expect(gateway.execute(prepared.session, "SET 'a' = 'b'")).rejects.toThrow(/does not exist/);
    // Taken once: the same deploy id finds nothing now.
    expect(await sessions.take(deployId, statements)).toBeUndefined();
    await gateway.close();
  });

  it('released before its deploy (the stop failed): the session is closed and the deploy starts afresh', async () => {
    const deployToken = runToken('prepared-released');
    expect(await run(flink.prepareVersion, { deployment: v1, deployToken })).toEqual({ prepared: true });
    await run(flink.releaseVersion, { deployToken });
    const deployed = await run(flink.deployJob, { deployment: v1, deployToken });
    expect(deployed.preparedSession).toBeUndefined();
    await run(flink.cancelJob, { jobId: deployed.jobId });
  });
});
