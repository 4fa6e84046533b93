// Application mode on REAL processes: every version of the job runs in a Flink cluster of its own
// (a standalone application cluster, JobManager + TaskManager, started by a launcher), as the Flink
// Kubernetes Operator or YARN application mode run jobs. The workflows run in an in-process worker
// with the real activities; they find each version's cluster through its launch, never through
// FLINK_REST_URL. One job, writing ids into a primary-key table and an append table:
//   0. versions that fail the checks before the stop (an unknown column, a missing script) refused, v1 untouched;
//   1. an upgrade v1 -> v2 through the local launcher: v2 starts in a new cluster from v1's stop savepoint;
//   2. a failed upgrade v2 -> broken through the command launcher (scripts/launchers/local-command.sh):
//      the broken version crash-loops, the compensation rolls the tables back and starts v2's
//      cluster again from the same savepoint;
//   3. a restore with a signed approval to an intermediate savepoint, through the local launcher.
// After each, the clusters of the replaced versions are gone (no process, no port), and at the end
// every id is in each table exactly once, v1's payload up to the upgrade's savepoint and v2's after.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { localPath, RestorePointStore } from '../../activities/catalog/store';
import type { LaunchRecord } from '../../activities/targets/registry';
import { restorePlan } from '../../src/client/approval';
import { startRestore } from '../../src/client/start-restore';
import { startUpgrade } from '../../src/client/start-upgrade';
import { repoRoot } from '../../src/config/repo-root';
import type { DeploymentTarget } from '../../src/domain/deployment-target';
import type { Deployment, TableRef } from '../../src/domain/model';
import type { TakeSavepointResult } from '../../src/domain/savepoint-input';
import type { RestoreResult } from '../../workflows/restore-messages';
import type { UpgradeResult } from '../../workflows/messages';
import { run } from '../support/activity-calls';
import { refusalOf } from '../bad-input/refusal';
import { portOpen, processesOf as processesIn } from '../support/app-cluster-leftovers';
import { approveSigned } from '../support/approvals';
import { launchRegistry } from '../support/app-launches';
import { deployableDir } from '../support/demo-pipeline';
import { startInProcessWorker, type InProcessWorker } from '../support/in-process-worker';
import { freshDatabase } from '../support/paimon-fixtures';
import { config, paimonQuery, requireStack, until } from '../support/stack';
import { connectStackClient } from '../support/stack-client';
import { unique } from '../support/temporal-env';

const exec = promisify(execFile);
const RUN = `${process.pid}_${Date.now().toString(36)}`;
const DB = `appmode_${RUN}`;
const JOB = `appmode-${RUN}`;
const TABLES: TableRef[] = [`${DB}.keyed`, `${DB}.appended`];
const LAUNCHER = path.join(repoRoot(), 'scripts', 'app-cluster.sh');
const APPS = path.join(config.stackHome, 'apps');
// This test's own launch registry, and the command launcher driving the local one.
const REGISTRY = mkdtempSync(path.join(os.tmpdir(), 'appmode-registry-'));
process.env.APP_REGISTRY_DIR = REGISTRY;
process.env.APP_LAUNCH_COMMAND = `bash ${path.join(repoRoot(), 'scripts', 'launchers', 'local-command.sh')}`;
process.env.APP_REAP_COMMAND = `bash ${LAUNCHER} reap`;

const LOCAL: DeploymentTarget = { kind: 'application', launcher: 'local' };
const COMMAND: DeploymentTarget = { kind: 'application', launcher: 'command' };

const versionSql = (payload: string) => `-- ${payload} of the application-mode test's pipeline
SET 'pipeline.name' = '${JOB}';
CREATE TEMPORARY TABLE ids (id BIGINT) WITH (
  'connector' = 'datagen', 'rows-per-second' = '10',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '1000000'
);
EXECUTE STATEMENT SET BEGIN
  INSERT INTO paimon.${DB}.keyed SELECT id, ${payload} FROM ids;
  INSERT INTO paimon.${DB}.appended SELECT id, ${payload} FROM ids;
END;
`;

const dir = deployableDir('appmode-');
const version = (name: string, payload: string): Deployment => {
  const scriptFile = path.join(dir, `${name}.sql`);
  writeFileSync(scriptFile, versionSql(payload));
  return { kind: 'sql', version: name, scriptFile };
};
const v1 = version('v1', `CONCAT('v1:', CAST(id AS STRING))`);
const v2 = version('v2', `CONCAT('v2:', CAST(id AS STRING))`);
// Accepted by the planner, fails on its first row: crash-loops and never completes a checkpoint.
const broken = version('broken', `CAST(CAST(id AS INT) / 0 AS STRING)`);

const { launches, launchOf, checkpointed } = launchRegistry(REGISTRY);

const processesOf = (launch: LaunchRecord) => processesIn(path.join(APPS, launch.deployId));

async function expectGone(launch: LaunchRecord): Promise<void> {
  expect({ version: launch.version, processes: await processesOf(launch), port: await portOpen(launch.restUrl) }).toEqual({
    version: launch.version,
    processes: [],
    port: false,
  });
}

async function jobOn(restUrl: string, jobId: string): Promise<{ state: string }> {
  const res = await fetch(`${restUrl}/jobs/${jobId}/status`);
  return { state: ((await res.json()) as { status: string }).status };
}

async function maxAtTag(table: TableRef, tag: string): Promise<number> {
  const [db, name] = table.split('.');
  const [row] = await paimonQuery(`SELECT MAX(id) AS hi FROM \`${db}\`.\`${name}\` /*+ OPTIONS('scan.tag-name' = '${tag}') */`);
  return Number(row!.hi);
}

describe('application mode on real standalone application clusters', () => {
  let client: Client;
  let worker: InProcessWorker | undefined;
  const taskQueue = unique('e2e-appmode');
  const activities = createActivities(config);
  /** the savepoints this test made in the shared savepoint dir: removed in afterAll */
  const savepoints: string[] = [];
  const upgrade = (newVersion: Deployment, oldVersion: Deployment, target: DeploymentTarget, healthTimeout: string) =>
    startUpgrade(
      client,
      { job: { jobName: JOB }, newVersion, oldVersion, sinkTables: TABLES, target, options: { healthTimeout, tagTimeout: '2m' } },
      { taskQueue },
    );

  beforeAll(async () => {
    await requireStack();
    await freshDatabase(DB);
    await paimonQuery(
      `CREATE TABLE \`${DB}\`.keyed (id BIGINT NOT NULL, payload STRING, PRIMARY KEY (id) NOT ENFORCED) ` +
        `WITH ('bucket' = '2', 'sink.savepoint.auto-tag' = 'true')`,
      `CREATE TABLE \`${DB}\`.appended (id BIGINT, payload STRING) WITH ('bucket' = '-1', 'sink.savepoint.auto-tag' = 'true')`,
    );
    client = await connectStackClient();
    worker = await startInProcessWorker(config, taskQueue, activities);
  });

  afterAll(async () => {
    await worker?.stop();
    for (const launch of await launches().catch(() => [])) {
      await exec('bash', [LAUNCHER, 'stop', '--token', launch.deployId], { env: { ...process.env, STACK_HOME: config.stackHome } }).catch(() => undefined);
    }
    for (const p of savepoints) await rm(localPath(p, 'savepoint'), { recursive: true, force: true }).catch(() => undefined);
    await rm(new RestorePointStore(config.flink.savepointDir).jobDir(JOB), { recursive: true, force: true });
    await paimonQuery(`DROP DATABASE IF EXISTS \`${config.paimon.catalog}\`.${DB} CASCADE`).catch(() => undefined);
    await rm(REGISTRY, { recursive: true, force: true });
    await client?.connection.close();
  });

  it('upgrades, fails an upgrade back, and restores with approval, each version in a cluster of its own; every id lands once', async () => {
    // v1, started the way the workflows start a version in application mode.
    const first = await run(activities.deployJob, { deployment: v1, deployToken: `appmode-v1-${RUN}`, target: LOCAL, jobName: JOB });
    expect(first.restUrl).toBeDefined();
    expect(first.restUrl).not.toBe(config.flink.restUrl);
    await checkpointed(first.jobId);

    // 0. The checks before the stop hold for an application target: a version whose SQL names a column
    // that does not exist (compiled against the live catalog through the session SQL gateway) and one
    // whose script is missing are refused, and v1 runs on in its cluster under the same id.
    const unknownColumn = version('v2-unknown-column', `CONCAT('v2:', CAST(no_such_column AS STRING))`);
    const missing: Deployment = { kind: 'sql', version: 'v2-missing', scriptFile: path.join(dir, 'missing.sql') };
    for (const newVersion of [unknownColumn, missing]) {
      const refused = await refusalOf((await upgrade(newVersion, v1, LOCAL, '3m')).result());
      expect(refused.type, refused.message).toBe('DeploymentCheckFailed');
      expect(refused.message).toContain(newVersion.version === 'v2-missing' ? 'missing.sql' : 'no_such_column');
      expect((await jobOn(first.restUrl!, first.jobId)).state).toBe('RUNNING');
    }
    expect((await launches()).map((l) => l.version)).toEqual(['v1']);

    // 1. Upgrade through the local launcher.
    const upgraded: UpgradeResult = await (await upgrade(v2, v1, LOCAL, '3m')).result();
    if (upgraded.savepoint) savepoints.push(upgraded.savepoint.path);
    expect(upgraded).toMatchObject({ status: 'upgraded', oldJobId: first.jobId });
    const v2Launch = await launchOf(upgraded.newJobId!);
    expect(v2Launch).toMatchObject({ jobName: JOB, launcher: 'local', version: 'v2' });
    expect(v2Launch.restUrl).not.toBe(first.restUrl);
    expect((await jobOn(v2Launch.restUrl, upgraded.newJobId!)).state).toBe('RUNNING');
    // v2 started from the stop's savepoint, in its own cluster; v1's cluster is gone.
    const restoredFrom = await (await fetch(`${v2Launch.restUrl}/jobs/${upgraded.newJobId}/checkpoints`)).json() as { latest: { restored?: { external_path: string } | null } };
    expect(restoredFrom.latest.restored?.external_path).toBe(upgraded.savepoint!.path);
    await expectGone(await launchOf(first.jobId));
    const lastV1 = await maxAtTag(TABLES[0]!, upgraded.tag!);
    expect(await maxAtTag(TABLES[1]!, upgraded.tag!)).toBe(lastV1);
    await checkpointed(upgraded.newJobId!);

    // 2. A failed upgrade through the command launcher: the compensation starts v2 again from the same savepoint.
    // The health timeout is also the old version's, started again: a cluster of its own takes a while to checkpoint.
    const failed: UpgradeResult = await (await upgrade(broken, v2, COMMAND, '2m')).result();
    if (failed.savepoint) savepoints.push(failed.savepoint.path);
    expect(failed.status).toBe('rolled-back');
    const brokenLaunch = (await launches()).find((l) => l.version === 'broken')!;
    expect(brokenLaunch).toMatchObject({ launcher: 'command', jobName: JOB });
    const again = await launchOf(failed.restoredJobId!);
    expect(again).toMatchObject({ launcher: 'command', version: 'v2' });
    const againFrom = await (await fetch(`${again.restUrl}/jobs/${again.jobId}/checkpoints`)).json() as { latest: { restored?: { external_path: string } | null } };
    expect(againFrom.latest.restored?.external_path).toBe(failed.savepoint!.path);
    await expectGone(v2Launch);
    await expectGone(brokenLaunch);
    await checkpointed(again.jobId);

    // 3. Restore point A (an intermediate savepoint on v2's cluster, found by the job's name), rows past it, then a restore to A.
    const pointA: TakeSavepointResult = await client.workflow.execute('takeSavepointWorkflow', {
      taskQueue,
      workflowId: unique('e2e-appmode-savepoint'),
      args: [{ job: { jobName: JOB }, tables: TABLES, options: { label: 'appmode A', tagTimeout: '2m' } }],
    });
    savepoints.push(pointA.path);
    expect(pointA).toMatchObject({ restorable: true, missingTags: [] });
    const atA = await maxAtTag(TABLES[0]!, pointA.tag);
    await until('rows past A', 90_000, async () => {
      const [row] = await paimonQuery(`SELECT MAX(id) AS hi FROM \`${DB}\`.keyed`);
      return Number(row!.hi) > atA + 20 ? true : undefined;
    });
    const handle = await startRestore(
      client,
      {
        job: { jobName: JOB },
        deployment: v2,
        sinkTables: TABLES,
        restorePoint: { savepointId: pointA.savepointId },
        target: LOCAL,
        options: { approvers: ['ops-bob'], requestedBy: 'ops-alice', approvalTimeout: '5m', savepointTimeout: '3m', tagTimeout: '2m', healthTimeout: '3m' },
      },
      { taskQueue },
    );
    const plan = await until('the restore to wait for approval', 180_000, async () => restorePlan(client, { jobName: JOB }).catch(() => undefined));
    expect(plan.writer).toMatchObject({ jobId: again.jobId, action: 'stop-with-savepoint' });
    await approveSigned(client, { jobName: JOB }, { approver: 'ops-bob', planVersion: plan.version });
    const restored: RestoreResult = await handle.result();
    if (restored.todaysSavepoint) savepoints.push(restored.todaysSavepoint.path);
    expect(restored.status).toBe('restored');
    const restoredLaunch = await launchOf(restored.newJobId!);
    expect(restoredLaunch).toMatchObject({ launcher: 'local', version: 'v2' });
    const restoredFromA = await (await fetch(`${restoredLaunch.restUrl}/jobs/${restored.newJobId}/checkpoints`)).json() as { latest: { restored?: { external_path: string } | null } };
    expect(restoredFromA.latest.restored?.external_path).toBe(pointA.path);
    await expectGone(again);
    await checkpointed(restored.newJobId!);

    // The end: the restored job stopped with a savepoint over its own cluster; its cluster reaped; nothing of this test left.
    const end = await run(activities.stopWithSavepoint, { jobId: restored.newJobId!, triggerId: 'e'.repeat(32), drain: false });
    savepoints.push(end.path);
    await until('the end tag on both tables', 120_000, async () => {
      const tags = await paimonQuery(TABLES.map((t) => `SELECT tag_name FROM \`${t.split('.')[0]}\`.\`${t.split('.')[1]}$tags\``).join(' UNION ALL '));
      return tags.filter((r) => r.tag_name === `savepoint-${end.savepointId}`).length === 2 ? true : undefined;
    });
    await exec('bash', [LAUNCHER, 'reap'], { env: { ...process.env, STACK_HOME: config.stackHome } });
    for (const launch of await launches()) await expectGone(launch);

    // Exactly once across five clusters, compared like with like (merged keys; appended rows), at the end's tag.
    const endTag = `/*+ OPTIONS('scan.tag-name' = 'savepoint-${end.savepointId}') */`;
    const [keyed] = await paimonQuery(
      `SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi, SUM(CASE WHEN payload = CONCAT('v1:', CAST(id AS STRING)) THEN 1 ELSE 0 END) AS v1, ` +
        `SUM(CASE WHEN payload = CONCAT('v2:', CAST(id AS STRING)) THEN 1 ELSE 0 END) AS v2 FROM \`${DB}\`.keyed ${endTag}`,
    );
    const [appended] = await paimonQuery(`SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS ids, MAX(id) AS hi FROM \`${DB}\`.appended ${endTag}`);
    const hi = Number(keyed!.hi);
    expect(hi).toBeGreaterThan(atA);
    expect({ n: Number(keyed!.n), lo: Number(keyed!.lo), v1: Number(keyed!.v1), v2: Number(keyed!.v2) }).toEqual({ n: hi, lo: 1, v1: lastV1, v2: hi - lastV1 });
    expect({ n: Number(appended!.n), ids: Number(appended!.ids), hi: Number(appended!.hi) }).toEqual({ n: hi, ids: hi, hi });
  }, 1_800_000);
});
