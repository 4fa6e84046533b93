// deployJob against the real stack: the demo pipeline as SQL (fresh, again with the same token,
// restored from a savepoint as v2) and as the demo jar (same), and the ways a deploy is refused.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_ID_KEY, deployIdOf } from '../../../activities/flink/deploy';
import { sameLocation } from '../../../activities/flink/savepoint-metadata';
import type { Savepoint } from '../../../src/domain/model';
import { Secret } from '../../../src/config/config';
import { createFlinkActivities } from '../../../activities/flink/activities';
import { repoRoot } from '../../../src/config/repo-root';
import { checkpointedAndRunning } from '../../support/demo-pipeline';
import { flinkGet, paimonQuery, requireStack, until } from '../../support/stack';
import {
  activities,
  cancelJobsNamed,
  config,
  createSinkTables,
  demoScript,
  expectFatal,
  expectRetryable,
  run,
  runToken,
} from '../../support/flink-fixtures';

const PREFIX = 'flinktest-deploy';
const SQL_DB = 'flinktest_deploy_sql';
const JAR_DB = 'flinktest_deploy_jar';
const SQL_NAME = `${PREFIX}-sql-${Date.now()}`;
const JAR_NAME = `${PREFIX}-jar-${Date.now()}`;
const JAR = path.join(config.stackHome, 'demo', 'demo-job.jar');
const hex32 = () => Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');

const liveJobsNamed = async (name: string) =>
  (await flinkGet<{ jobs: { jid: string; name: string; state: string }[] }>('/jobs/overview')).jobs.filter(
    (j) => j.name === name && !['FINISHED', 'CANCELED', 'FAILED'].includes(j.state),
  );

async function firstCheckpoint(jobId: string): Promise<void> {
  await until(`a completed checkpoint of ${jobId}, every task running`, 60_000, async () =>
    (await checkpointedAndRunning(jobId)) ? true : undefined,
  );
}

async function restoredFrom(jobId: string): Promise<{ external_path: string; is_savepoint: boolean } | null> {
  const stats = await flinkGet<{ latest: { restored: { external_path: string; is_savepoint: boolean } | null } }>(
    `/jobs/${jobId}/checkpoints`,
  );
  return stats.latest.restored;
}

/** The smallest id a version wrote: 1 for a fresh start, after the savepoint's last id for a restore. */
async function firstIdOf(db: string, version: string): Promise<number> {
  const [row] = await paimonQuery(`SELECT MIN(id) AS lo FROM \`${db}\`.seq_a WHERE payload LIKE '${version}:%'`);
  return Number(row?.lo ?? 0);
}

describe('deployJob', () => {
  const flink = activities();

  beforeAll(async () => {
    await requireStack();
    await cancelJobsNamed(PREFIX);
    await createSinkTables(SQL_DB, ['seq_a', 'seq_b']);
    await createSinkTables(JAR_DB, ['seq_a', 'seq_b']);
    execFileSync('bash', [path.join(repoRoot(), 'scripts', 'build-demo-jar.sh')], { stdio: 'ignore' });
  });

  afterAll(async () => {
    await cancelJobsNamed(PREFIX);
  });

  describe('a SQL script through the SQL gateway', () => {
    const token = runToken('sql-v1');
    let v1: string;
    let savepoint: Savepoint;

    it('starts the job, marked with the deploy id in its user config', async () => {
      ({ jobId: v1 } = await run(flink.deployJob, {
        deployment: { kind: 'sql', version: 'v1', script: demoScript('pipeline-v1.sql', SQL_DB, SQL_NAME) },
        deployToken: token,
      }));
      const jobConfig = await flinkGet(`/jobs/${v1}/config`);
      expect(jobConfig.name).toBe(SQL_NAME);
      expect(jobConfig['execution-config']['user-config'][DEPLOY_ID_KEY]).toBe(deployIdOf(token));
    });

    it('a retry with the same deploy token finds that job instead of starting a second', async () => {
      const again = await run(flink.deployJob, {
        deployment: { kind: 'sql', version: 'v1', script: demoScript('pipeline-v1.sql', SQL_DB, SQL_NAME) },
        deployToken: token,
      });
      expect(again.jobId).toBe(v1);
      expect((await liveJobsNamed(SQL_NAME)).map((j) => j.jid)).toEqual([v1]);
    });

    it('deploys v2 restoring from v1 stop-with-savepoint: state restored, ids continue', async () => {
      await firstCheckpoint(v1);
      savepoint = await run(flink.stopWithSavepoint, { jobId: v1, triggerId: hex32(), drain: false });
      const { jobId: v2 } = await run(flink.deployJob, {
        deployment: { kind: 'sql', version: 'v2', script: demoScript('pipeline-v2.sql', SQL_DB, SQL_NAME) },
        deployToken: runToken('sql-v2'),
        savepointPath: savepoint.path,
      });
      expect(v2).not.toBe(v1);
      await firstCheckpoint(v2);
      const restored = await restoredFrom(v2);
      expect(restored?.is_savepoint).toBe(true);
      expect(sameLocation(restored!.external_path, savepoint.path)).toBe(true);
      // A fresh datagen sequence starts at 1; a restored one after the last id v1 emitted.
      expect(await firstIdOf(SQL_DB, 'v1')).toBe(1);
      expect(await firstIdOf(SQL_DB, 'v2')).toBeGreaterThan(1);
      await run(flink.cancelJob, { jobId: v2 });
    });

    it('a version that drops operators restores only with allowNonRestoredState', async () => {
      // Datagen into blackhole: none of v1's operators (and their state) exist in this job.
      const other = (token: string, allowNonRestoredState: boolean) => ({
        deployment: {
          kind: 'sql' as const,
          version: 'v3',
          script: `SET 'pipeline.name' = '${SQL_NAME}';
            CREATE TEMPORARY TABLE s (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '1');
            CREATE TEMPORARY TABLE b (id BIGINT) WITH ('connector' = 'blackhole');
            INSERT INTO b SELECT id FROM s;`,
        },
        deployToken: runToken(token),
        savepointPath: savepoint.path,
        allowNonRestoredState,
      });
      const refused = await expectFatal(run(flink.deployJob, other('v3-strict', false)), 'DeployFailed');
      expect(refused.message).toMatch(/Cannot map checkpoint\/savepoint state/);
      const { jobId } = await run(flink.deployJob, other('v3-lenient', true));
      await firstCheckpoint(jobId);
      expect(sameLocation((await restoredFrom(jobId))!.external_path, savepoint.path)).toBe(true);
      await run(flink.cancelJob, { jobId });
    });
  });

  describe('a SQL script that does not name its job (Flink names it insert-into_...)', () => {
    // Not a Paimon job: a second writer would disturb the tables of the tests above.
    const script = [
      `CREATE TEMPORARY TABLE numbers (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '1')`,
      `CREATE TEMPORARY TABLE nowhere (id BIGINT) WITH ('connector' = 'blackhole')`,
      'INSERT INTO nowhere SELECT id FROM numbers',
    ].join(';\n');
    const request = { deployment: { kind: 'sql' as const, version: 'unnamed', script }, deployToken: runToken('unnamed') };
    let jobId: string | undefined;

    afterAll(async () => {
      if (jobId) await run(flink.cancelJob, { jobId });
    });

    it('a retry with the same deploy token still finds the job its first attempt started', async () => {
      ({ jobId } = await run(flink.deployJob, request));
      const again = await run(flink.deployJob, request);
      expect(again.jobId).toBe(jobId);
      const jobConfig = await flinkGet(`/jobs/${jobId}/config`);
      expect(jobConfig['execution-config']['user-config'][DEPLOY_ID_KEY]).toBe(deployIdOf(request.deployToken));
      const live = (await flinkGet<{ jobs: { jid: string; state: string }[] }>('/jobs/overview')).jobs.filter(
        (j) => j.state !== 'CANCELED' && j.state !== 'FINISHED' && j.state !== 'FAILED',
      );
      const configs = await Promise.all(live.map((j) => flinkGet(`/jobs/${j.jid}/config`).catch(() => undefined)));
      const marked = configs.filter((c) => c?.['execution-config']?.['user-config']?.[DEPLOY_ID_KEY] === deployIdOf(request.deployToken));
      expect(marked.map((c) => c.jid)).toEqual([jobId]);
    });
  });

  describe('a SQL script that sets job parameters of its own', () => {
    // Not a Paimon job either. A SET in the script outranks the session's config, where the marker is.
    const script = [
      `SET 'pipeline.name' = '${PREFIX}-params-${Date.now()}'`,
      "SET 'pipeline.global-job-parameters' = 'env:prod'",
      `CREATE TEMPORARY TABLE numbers (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '1')`,
      `CREATE TEMPORARY TABLE nowhere (id BIGINT) WITH ('connector' = 'blackhole')`,
      'INSERT INTO nowhere SELECT id FROM numbers',
    ].join(';\n');
    const deployment = { kind: 'sql' as const, version: 'params', script };
    const started: string[] = [];

    afterAll(async () => {
      for (const jobId of started) await run(flink.cancelJob, { jobId });
    });

    it('keeps them and adds the marker, so a retry still finds the job; in a session prepared before the stop too', async () => {
      for (const prepared of [false, true]) {
        const deployToken = runToken(prepared ? 'params-prepared' : 'params');
        if (prepared) expect(await run(flink.prepareVersion, { deployment, deployToken })).toEqual({ prepared: true });
        const deployed = await run(flink.deployJob, { deployment, deployToken });
        started.push(deployed.jobId);
        expect(deployed.preparedSession).toBe(prepared ? true : undefined);
        const userConfig = (await flinkGet(`/jobs/${deployed.jobId}/config`))['execution-config']['user-config'];
        expect(userConfig).toMatchObject({ env: 'prod', [DEPLOY_ID_KEY]: deployIdOf(deployToken) });
        expect((await run(flink.deployJob, { deployment, deployToken })).jobId).toBe(deployed.jobId);
      }
    });
  });

  describe('the demo jar through /jars', () => {
    const token = runToken('jar-v1');
    const args = (version: string) =>
      ['--version', version, '--database', JAR_DB, '--warehouse', config.paimon.warehouse, '--name', JAR_NAME];
    let v1: string;

    it('uploads and runs the jar under a job id derived from the deploy token', async () => {
      ({ jobId: v1 } = await run(flink.deployJob, {
        deployment: { kind: 'jar', version: 'v1', jarFile: JAR, args: args('v1') },
        deployToken: token,
      }));
      expect(v1).toBe(deployIdOf(token));
      expect((await flinkGet(`/jobs/${v1}`)).name).toBe(JAR_NAME);
    });

    it('a retry with the same deploy token returns the same job and starts no other', async () => {
      const again = await run(flink.deployJob, {
        deployment: { kind: 'jar', version: 'v1', jarFile: JAR, args: args('v1') },
        deployToken: token,
      });
      expect(again.jobId).toBe(v1);
      expect((await liveJobsNamed(JAR_NAME)).map((j) => j.jid)).toEqual([v1]);
    });

    it('deploys v2 of the jar from v1 savepoint: state restored, ids continue', async () => {
      await firstCheckpoint(v1);
      const savepoint = await run(flink.stopWithSavepoint, { jobId: v1, triggerId: hex32(), drain: false });
      const { jobId: v2 } = await run(flink.deployJob, {
        deployment: { kind: 'jar', version: 'v2', jarFile: JAR, args: args('v2') },
        deployToken: runToken('jar-v2'),
        savepointPath: savepoint.path,
      });
      await firstCheckpoint(v2);
      expect(sameLocation((await restoredFrom(v2))!.external_path, savepoint.path)).toBe(true);
      expect(await firstIdOf(JAR_DB, 'v2')).toBeGreaterThan(1);
      await run(flink.cancelJob, { jobId: v2 });
    });

    it('a jar whose main method fails is DeployFailed, with the cause', async () => {
      const err = await expectFatal(
        run(flink.deployJob, {
          deployment: { kind: 'jar', version: 'v1', jarFile: JAR, args: ['--version', 'v1'] },
          deployToken: runToken('jar-bad-args'),
        }),
        'DeployFailed',
      );
      expect(err.message).toContain('missing --database');
    });
  });

  describe('refusals', () => {
    const sql = (script: string) => ({ deployment: { kind: 'sql' as const, version: 'vX', script }, deployToken: runToken('bad') });

    it('SQL the planner rejects is DeployFailed, naming the problem', async () => {
      const err = await expectFatal(
        run(flink.deployJob, sql(`INSERT INTO paimon.${SQL_DB}.no_such_table SELECT 1, 'x'`)),
        'DeployFailed',
      );
      expect(err.message).toMatch(/no_such_table/);
    });

    it('a script that would start no job or several is InvalidInput, and nothing runs', async () => {
      const ddl = `CREATE TEMPORARY TABLE s (id BIGINT) WITH ('connector' = 'datagen')`;
      await expectFatal(run(flink.deployJob, sql(ddl)), 'InvalidInput');
      const two = `${ddl};\nINSERT INTO paimon.${SQL_DB}.seq_a SELECT id, 'a' FROM s;\nINSERT INTO paimon.${SQL_DB}.seq_b SELECT id, 'b' FROM s;`;
      const err = await expectFatal(run(flink.deployJob, sql(two)), 'InvalidInput');
      expect(err.message).toMatch(/exactly one job.*has 2/);
      await expectFatal(run(flink.deployJob, sql('EXECUTE STATEMENT SET BEGIN INSERT INTO t SELECT 1;')), 'InvalidInput');
    });

    it('missing files, a missing savepoint and bad input fail before anything is submitted', async () => {
      await expectFatal(
        run(flink.deployJob, { deployment: { kind: 'sql', version: 'v', scriptFile: '/nonexistent/x.sql' }, deployToken: 't' }),
        'InvalidInput',
      );
      await expectFatal(
        run(flink.deployJob, { deployment: { kind: 'jar', version: 'v', jarFile: '/nonexistent/x.jar', args: [] }, deployToken: 't' }),
        'InvalidInput',
      );
      const missing = await expectFatal(
        run(flink.deployJob, { ...sql('SELECT 1'), savepointPath: `${config.flink.savepointDir}/savepoint-000000-nothere` }),
        'SavepointNotFound',
      );
      expect(missing.message).toContain('savepoint-000000-nothere');
      await expectFatal(run(flink.deployJob, { ...sql('SELECT 1'), deployToken: '' }), 'InvalidInput');
      await expectFatal(run(flink.deployJob, { deployment: { kind: 'zip' }, deployToken: 't' } as never), 'InvalidInput');
    });

    it('catalog credentials never reach the failure message', async () => {
      const leaky = createFlinkActivities({
        ...config,
        paimon: {
          ...config.paimon,
          catalog: 'flinktest_badcat',
          warehouse: 'nosuchscheme://bucket/warehouse',
          catalogOptions: new Secret({ 's3.secret-key': 'hunter2-do-not-print' }),
        },
      });
      const err = await expectFatal(run(leaky.deployJob, sql('SELECT 1')), 'DeployFailed');
      expect(err.message).toMatch(/CREATE CATALOG/);
      expect(err.message).not.toContain('hunter2-do-not-print');
    });

    it('an unreachable Flink is a retryable error', async () => {
      const offline = activities({ restUrl: 'http://127.0.0.1:1' });
      await expectRetryable(run(offline.deployJob, sql('SELECT 1')));
    });
  });
});
