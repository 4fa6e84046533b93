// awaitHealthy against the real stack: the demo pipeline (healthy once a checkpoint completes),
// demo/sql/pipeline-broken.sql (crash-loops: unhealthy with the restarts and the exception), a
// cancelled job, and cancellation of the wait itself.
import { CancelledFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveJobNamed, requireStack } from '../../support/stack';
import {
  activities,
  activityEnv,
  cancelJobsNamed,
  createSinkTables,
  demoScript,
  expectFatal,
  failureOf,
  run,
  runToken,
} from '../../support/flink-fixtures';

const DB = 'flinktest_health';
const PREFIX = 'flinktest-health';
const UNKNOWN = '0123456789abcdef0123456789abcdef';

describe('awaitHealthy', () => {
  const flink = activities();
  const jobName = (name: string) => `${PREFIX}-${name}-${process.pid}`;
  const deploy = async (file: string, name: string) =>
    (
      await run(flink.deployJob, {
        deployment: { kind: 'sql', version: name, script: demoScript(file, DB, jobName(name)) },
        deployToken: runToken(name),
      })
    ).jobId;

  beforeAll(async () => {
    await requireStack();
    await cancelJobsNamed(PREFIX);
    await createSinkTables(DB, ['seq_a', 'seq_b']);
  });

  afterAll(async () => {
    await cancelJobsNamed(PREFIX);
  });

  it('reports a job healthy once a checkpoint completed after the deploy', async () => {
    const since = Date.now();
    const jobId = await deploy('pipeline-v1.sql', 'good');
    const report = await run(flink.awaitHealthy, { jobId, since, timeoutMs: 60_000 });
    expect(report).toMatchObject({ healthy: true, jobId, state: 'RUNNING' });
    expect(report.checkpointId).toBeGreaterThanOrEqual(1);
    expect(report.reason).toBeUndefined();

    // the same job, cancelled: unhealthy at once, without waiting out the timeout
    await run(flink.cancelJob, { jobId });
    const started = Date.now();
    const after = await run(flink.awaitHealthy, { jobId, since: Date.now(), timeoutMs: 60_000 });
    expect(after.healthy).toBe(false);
    expect(['CANCELLING', 'CANCELED']).toContain(after.state);
    if (after.state === 'CANCELED') expect(Date.now() - started).toBeLessThan(10_000);
    expect(after.reason).toMatch(/is CANCEL/);
  });

  it('reports a crash-looping job unhealthy after the timeout, with restarts and the last exception', async () => {
    const since = Date.now();
    const jobId = await deploy('pipeline-broken.sql', 'broken');
    const heartbeats: unknown[] = [];
    const env = activityEnv();
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    const started = Date.now();
    const report = await run(flink.awaitHealthy, { jobId, since, timeoutMs: 12_000 }, env);
    const waited = Date.now() - started;
    expect(report.healthy).toBe(false);
    expect(report.checkpointId).toBeUndefined();
    expect(report.reason).toMatch(/no checkpoint completed since .* within 12s/);
    expect(report.reason).toMatch(/restarted [1-9]\d* times; last exception: .*(ArithmeticException|by zero)/);
    expect(waited).toBeGreaterThanOrEqual(12_000);
    expect(waited).toBeLessThan(30_000);
    expect(heartbeats.length).toBeGreaterThan(3);
    expect(heartbeats[0]).toMatchObject({ jobId });
  });

  it('stops waiting when the activity is cancelled', async () => {
    const broken = await liveJobNamed(jobName('broken'));
    expect(broken, 'the crash-looping job of the previous test').toBeDefined();
    const env = activityEnv();
    const started = Date.now();
    const waiting = run(flink.awaitHealthy, { jobId: broken!.jid, since: Date.now(), timeoutMs: 120_000 }, env);
    setTimeout(() => env.cancel(), 1_500);
    expect(await failureOf(waiting)).toBeInstanceOf(CancelledFailure);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('fails for good on an unknown job or bad input', async () => {
    await expectFatal(run(flink.awaitHealthy, { jobId: UNKNOWN, since: 0, timeoutMs: 1_000 }), 'JobNotFound');
    await expectFatal(run(flink.awaitHealthy, { jobId: UNKNOWN, since: 0, timeoutMs: 0 }), 'InvalidInput');
    await expectFatal(run(flink.awaitHealthy, { jobId: UNKNOWN, since: -5, timeoutMs: 1_000 }), 'InvalidInput');
  });
});
