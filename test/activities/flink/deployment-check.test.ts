// checkDeployments and requireRecentCheckpoint against the real stack (own database
// flinktest_checks, own job): what passes, what is refused and in which words, that the check
// changes nothing, and what each costs (printed: the figures the upgrade's preflight adds).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/model';
import { awaitCheckpointedRun, deployableDir } from '../../support/demo-pipeline';
import { repoRoot } from '../../../src/config/repo-root';
import { flinkGet, liveJobNamed, paimonQuery, requireStack } from '../../support/stack';
import { activities, cancelJobsNamed, config, createSinkTables, demoScript, expectFatal, run, runToken } from '../../support/flink-fixtures';

const DATABASE = 'flinktest_checks';
const SINKS = [`${DATABASE}.seq_a`, `${DATABASE}.seq_b`];
const JOB_PREFIX = 'flinktest-checks-';
const jobName = `${JOB_PREFIX}${Date.now().toString(36)}`;
let dir: string;
let v1: Deployment;
let v2: Deployment;
let jobId: string;

const write = (name: string, text: string): Deployment => {
  const scriptFile = path.join(dir, name);
  writeFileSync(scriptFile, text);
  return { kind: 'sql', version: name.replace(/\.sql$/, ''), scriptFile };
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('the checks before anything is stopped, on the real stack', () => {
  beforeAll(async () => {
    await requireStack();
    await cancelJobsNamed(JOB_PREFIX);
    await createSinkTables(DATABASE, ['seq_a', 'seq_b']);
    dir = deployableDir('flinktest-checks-');
    v1 = write('v1.sql', demoScript('pipeline-v1.sql', DATABASE, jobName));
    v2 = write('v2.sql', demoScript('pipeline-v2.sql', DATABASE, jobName));
    ({ jobId } = await run(activities().deployJob, { deployment: v1, deployToken: runToken('checks-v1') }));
    await awaitCheckpointedRun(jobId);
  });

  afterAll(async () => {
    await cancelJobsNamed(JOB_PREFIX);
    await paimonQuery(`DROP DATABASE IF EXISTS \`${DATABASE}\` CASCADE`).catch(() => undefined);
  });

  it('passes the demo v1 and v2: each compiles to one job writing exactly the sink tables', async () => {
    const times: number[] = [];
    let checked;
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      ({ checked } = await run(activities().checkDeployments, { deployments: [v2, v1], sinkTables: SINKS }));
      times.push(performance.now() - started);
    }
    const sinks = SINKS.map((t) => `${config.paimon.catalog}.${t}`);
    expect(checked).toMatchObject([
      { version: 'v2', kind: 'sql', file: (v2 as { scriptFile: string }).scriptFile, sinks },
      { version: 'v1', kind: 'sql', file: (v1 as { scriptFile: string }).scriptFile, sinks },
    ]);
    console.log(`checkDeployments of v2 and v1: ${times.map((t) => t.toFixed(0)).join(', ')} ms (median ${median(times).toFixed(0)} ms)`);
  });

  it('names every version that fails, each with its file and problem, in one refusal', async () => {
    const badColumn = write('v2-bad-column.sql', demoScript('pipeline-v2.sql', DATABASE, jobName).replace('CAST(id AS STRING)', 'CAST(nope AS STRING)'));
    const twoJobs: Deployment = {
      kind: 'sql',
      version: 'inline',
      script: `INSERT INTO paimon.${SINKS[0]} SELECT 1, 'a'; INSERT INTO paimon.${SINKS[1]} SELECT 1, 'b';`,
    };
    const failure = await expectFatal(
      run(activities().checkDeployments, {
        deployments: [badColumn, { kind: 'sql', version: 'v0', scriptFile: '/etc/hostname' }, twoJobs, v1],
        sinkTables: SINKS,
      }),
      'DeploymentCheckFailed',
    );
    const file = (badColumn as { scriptFile: string }).scriptFile;
    expect(failure.message).toContain(`v2-bad-column (${file}): SqlValidatorException: Column 'nope' not found in any table`);
    expect(failure.message).toContain(`v0 (/etc/hostname): it resolves to /etc/hostname, outside the deployments root ${config.deployments.root}`);
    expect(failure.message).toContain('inline (inline script): the script must start exactly one job');
    expect(failure.message).not.toContain('v1 (');
  });

  it('refuses a script that sets what the operation owns (copied from a manual restore), before compiling it', async () => {
    const manualRestore = write(
      'v2-manual-restore.sql',
      `SET 'execution.state-recovery.path' = 'file:/old/savepoint-1';\n${demoScript('pipeline-v2.sql', DATABASE, jobName)}`,
    );
    const failure = await expectFatal(run(activities().checkDeployments, { deployments: [manualRestore, v1], sinkTables: SINKS }), 'DeploymentCheckFailed');
    expect(failure.message).toContain(
      `v2-manual-restore (${(manualRestore as { scriptFile: string }).scriptFile}): it sets 'execution.state-recovery.path' = 'file:/old/savepoint-1': ` +
        "the operation starts the job from the savepoint that matches the tables' tag; remove this SET",
    );
    expect(failure.message).not.toContain('v1 (');
    // The deploy refuses it too (the file changed after the check), before it opens a session.
    await expectFatal(run(activities().deployJob, { deployment: manualRestore, deployToken: runToken('checks-owned') }), 'InvalidInput');
  });

  it('does not run a statement that would change the catalog, and says so', async () => {
    const table = `made_by_check_${randomBytes(3).toString('hex')}`;
    const withDdl = write(
      'v2-with-ddl.sql',
      `CREATE TABLE IF NOT EXISTS paimon.${DATABASE}.${table} (id BIGINT);\n${demoScript('pipeline-v2.sql', DATABASE, jobName)}`,
    );
    const { checked } = await run(activities().checkDeployments, { deployments: [withDdl], sinkTables: SINKS });
    expect(checked[0]!.notRun).toEqual([`CREATE TABLE IF NOT EXISTS paimon.${DATABASE}.${table} (id BIGINT)`]);
    const tables = await paimonQuery(`SHOW TABLES IN \`${DATABASE}\``);
    expect(tables.map((r) => Object.values(r)[0])).not.toContain(table);
  });

  it('a jar: uploaded, its entry class planned without running, the upload deleted; a missing class or bad arguments refused', async () => {
    execFileSync('bash', [path.join(repoRoot(), 'scripts', 'build-demo-jar.sh')], { stdio: 'ignore' });
    // Under $STACK_HOME, inside the repository (the deployments root) with the default stack.
    const jarFile = path.join(config.stackHome, 'demo', 'demo-job.jar');
    const name = `${jobName}-jar`;
    const args = ['--version', 'v1', '--database', DATABASE, '--warehouse', config.paimon.warehouse, '--name', name];
    const jars = async () => (await flinkGet<{ files: { id: string }[] }>('/jars')).files.map((f) => f.id).sort();
    const jarsBefore = await jars();

    const started = performance.now();
    const { checked } = await run(activities().checkDeployments, {
      deployments: [{ kind: 'jar', version: 'v1', jarFile, entryClass: 'demo.DemoJob', args }],
      sinkTables: SINKS,
    });
    console.log(`checkDeployments of the demo jar: ${(performance.now() - started).toFixed(0)} ms`);
    expect(checked).toMatchObject([{ version: 'v1', kind: 'jar', file: jarFile, jobName: name }]);
    expect(checked[0]!.sinks).toBeUndefined();
    expect(await liveJobNamed(name)).toBeUndefined();

    const failure = await expectFatal(
      run(activities().checkDeployments, {
        deployments: [
          { kind: 'jar', version: 'no-class', jarFile, entryClass: 'demo.NoSuchJob', args },
          { kind: 'jar', version: 'no-args', jarFile, entryClass: 'demo.DemoJob', args: ['--version', 'v1'] },
        ],
        sinkTables: SINKS,
      }),
      'DeploymentCheckFailed',
    );
    expect(failure.message).toContain(`no-class (jar ${jarFile}): its entry class demo.NoSuchJob does not build a job: `);
    expect(failure.message).toMatch(/ClassNotFoundException|NoSuchJob/);
    expect(failure.message).toContain(`no-args (jar ${jarFile}): its entry class demo.DemoJob does not build a job: `);
    expect(failure.message).toContain('missing --database');
    expect(await jars()).toEqual(jarsBefore);
  });

  it('requireRecentCheckpoint passes a checkpointing job and refuses one whose latest checkpoint is older than the limit', async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const recent = await run(activities().requireRecentCheckpoint, { jobId });
      times.push(performance.now() - started);
      expect(recent.jobId).toBe(jobId);
      expect(recent.checkpointId).toBeGreaterThan(0);
    }
    console.log(`requireRecentCheckpoint: ${times.map((t) => t.toFixed(0)).join(', ')} ms (median ${median(times).toFixed(0)} ms)`);
    const stale = await expectFatal(run(activities({ checkpointMaxAgeMs: 1 }).requireRecentCheckpoint, { jobId }), 'NoRecentCheckpoint');
    expect(stale.message).toMatch(new RegExp(`job '${jobName}' \\(${jobId}\\) has no recent completed checkpoint: its latest completed checkpoint, \\d+, completed at .*, more than 1 ms ago`));
    await expectFatal(run(activities().requireRecentCheckpoint, { jobId: randomBytes(16).toString('hex') }), 'JobNotFound');
  });
});
