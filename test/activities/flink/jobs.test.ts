// checkFlinkCluster, resolveJob, getJob and cancelJob against the real stack, with two jobs of
// our own that share a name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flinkLine } from '../../../activities/compat';
import { requireStack, until } from '../../support/stack';
import { activities, cancelJobsNamed, expectFatal, jobState, run, runToken } from '../../support/flink-fixtures';

const PREFIX = 'flinktest-jobs';
const NAME = `${PREFIX}-${Date.now()}`;
const UNKNOWN = '0123456789abcdef0123456789abcdef';

// Datagen into blackhole: a job that runs and costs one slot, no Paimon involved.
const script = `
SET 'pipeline.name' = '${NAME}';
CREATE TEMPORARY TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '1');
CREATE TEMPORARY TABLE sink (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT id FROM src;
`;

describe('Flink job activities', () => {
  const flink = activities();
  let first: string;
  let twin: string;

  beforeAll(async () => {
    await requireStack();
    await cancelJobsNamed(PREFIX);
    const deploy = (token: string) =>
      run(flink.deployJob, { deployment: { kind: 'sql', version: 'v1', script }, deployToken: runToken(token) });
    first = (await deploy('first')).jobId;
    twin = (await deploy('twin')).jobId;
  });

  afterAll(async () => {
    await cancelJobsNamed(PREFIX);
  });

  it('checkFlinkCluster reports the cluster, of a supported line, with its task managers and free slots', async () => {
    const cluster = await run(flink.checkFlinkCluster, undefined);
    // npm test takes STACK_FLINK_VERSION from `stack.sh env`: the version the stack was assembled from.
    expect(cluster.flinkVersion).toBe(process.env.STACK_FLINK_VERSION ?? cluster.flinkVersion);
    expect(flinkLine(cluster.flinkVersion)).toBeDefined();
    expect(cluster.taskManagers).toBeGreaterThanOrEqual(1);
    expect(cluster.slotsAvailable).toBeGreaterThanOrEqual(0);
  });

  it('resolveJob by a name two live jobs share fails with JobNameAmbiguous naming both', async () => {
    const err = await expectFatal(run(flink.resolveJob, { job: { jobName: NAME } }), 'JobNameAmbiguous');
    expect(err.message).toContain(first);
    expect(err.message).toContain(twin);
  });

  it('cancelJob cancels a running job, and cancelling it again is a no-op', async () => {
    await run(flink.cancelJob, { jobId: twin });
    await until('the twin to be CANCELED', 30_000, async () => ((await jobState(twin)) === 'CANCELED' ? true : undefined));
    await expect(run(flink.cancelJob, { jobId: twin })).resolves.toBeUndefined();
    expect(await jobState(twin)).toBe('CANCELED');
  });

  it('resolveJob by name ignores terminated jobs and finds the one live job; by id too', async () => {
    const byName = await run(flink.resolveJob, { job: { jobName: NAME } });
    expect(byName).toMatchObject({ jobId: first, name: NAME });
    expect(['RUNNING', 'INITIALIZING', 'CREATED']).toContain(byName.state);
    const byId = await run(flink.resolveJob, { job: { jobId: twin } });
    expect(byId).toMatchObject({ jobId: twin, name: NAME, state: 'CANCELED' });
    expect(byId.startTime).toBeGreaterThan(0);
  });

  it('getJob returns the summary of a job', async () => {
    const job = await run(flink.getJob, { jobId: first });
    expect(job).toMatchObject({ jobId: first, name: NAME });
  });

  it('unknown jobs fail with JobNotFound, saying which job and what to check', async () => {
    const err = await expectFatal(run(flink.getJob, { jobId: UNKNOWN }), 'JobNotFound');
    expect(err.message).toContain(UNKNOWN);
    await expectFatal(run(flink.cancelJob, { jobId: UNKNOWN }), 'JobNotFound');
    await expectFatal(run(flink.resolveJob, { job: { jobId: UNKNOWN } }), 'JobNotFound');
    // The health gate reads the state from GET /jobs/:id/status, which says "unknown" with HTTP 500.
    const health = await expectFatal(run(flink.awaitHealthy, { jobId: UNKNOWN, since: 0, timeoutMs: 5_000 }), 'JobNotFound');
    expect(health.message).toContain(UNKNOWN);
    const byName = await expectFatal(run(flink.resolveJob, { job: { jobName: `${NAME}-nobody` } }), 'JobNotFound');
    expect(byName.message).toContain(`${NAME}-nobody`);
  });

  it('bad input fails with InvalidInput before Flink is asked', async () => {
    await expectFatal(run(flink.getJob, { jobId: 'zz' }), 'InvalidInput');
    await expectFatal(run(flink.cancelJob, { jobId: UNKNOWN.toUpperCase() }), 'InvalidInput');
    await expectFatal(run(flink.resolveJob, { job: { jobName: '' } }), 'InvalidInput');
    await expectFatal(run(flink.resolveJob, { job: { jobId: first, jobName: NAME } } as never), 'InvalidInput');
  });
});
