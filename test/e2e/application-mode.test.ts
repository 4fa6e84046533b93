// Application mode on REAL processes: every version of the job runs in a Flink cluster of its own
// (a standalone application cluster, JobManager + TaskManager, started by a launcher), as the Flink
// Kubernetes Operator or YARN application mode run jobs. The workflows run in an in-process worker
// with the real activities; they find each version's cluster through its launch, never through
// FLINK_REST_URL. One job, the shapes pipeline (demo/sql/shapes: a primary-key table with updates,
// one with deletes, partial-update and aggregation merge engines, an append table):
//   0. versions that fail the checks before the stop (an unknown column, a missing script) refused, v1 untouched;
//   1. an upgrade v1 -> v2 through the local launcher: v2 starts in a new cluster from v1's stop savepoint;
//   2. a failed upgrade v2 -> broken through the command launcher (scripts/launchers/local-command.sh):
//      the broken version crash-loops, the compensation rolls the tables back and starts v2's
//      cluster again from the same savepoint;
//   3. a restore with a signed approval to an intermediate savepoint, through the local launcher;
//   4. the restored job stopped with a savepoint, and nothing launched after it.
// After each, the clusters of the replaced versions are gone (no process, no port); after 4 the
// last cluster stops itself within a bounded wait. Whenever a version starts on rolled-back or
// stopped tables, every table (read by the worker right before the deploy) equals its tag row by
// row, and the restore's tables have the tag's snapshot, schema and record count. At the end every
// table holds exactly what ids 1..max give, v1's up to the upgrade's savepoint and v2's after.
import { readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import type { Activities } from '../../activities/contract';
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
import { appModeFixture, COMMAND, ENDED_GRACE_S, LAUNCHER, LOCAL } from '../support/app-mode';
import { approveSigned } from '../support/approvals';
import { startInProcessWorker, type InProcessWorker } from '../support/in-process-worker';
import {
  createShapeTables,
  expectedFor,
  maxIdOf,
  maxIdsOf,
  readShapes,
  shapeMetadata,
  SHAPE_NAMES,
  shapeScripts,
  withoutVersion,
  type TableRows,
} from '../support/shapes-pipeline';
import { config, requireStack, until } from '../support/stack';
import { connectStackClient } from '../support/stack-client';
import { unique } from '../support/temporal-env';

const fixture = appModeFixture('appmode');
const { db: DB, job: JOB, launches, launchOf, checkpointed, savepoints, expectGone, leftovers } = fixture;
// The command launcher, driving the local one.
process.env.APP_LAUNCH_COMMAND = `bash ${path.join(repoRoot(), 'scripts', 'launchers', 'local-command.sh')}`;
process.env.APP_REAP_COMMAND = `bash ${LAUNCHER} reap`;

const TABLES: TableRef[] = SHAPE_NAMES.map((s) => `${DB}.${s}`);
const script = shapeScripts(DB, JOB);
const version = (name: string, file: string) => ({ kind: 'sql' as const, version: name, scriptFile: script(file) });
const v1 = version('v1', 'pipeline-v1.sql');
const v2 = version('v2', 'pipeline-v2.sql');
// Accepted by the planner, fails on its first row: crash-loops and never completes a checkpoint.
const broken = version('broken', 'pipeline-broken.sql');
const scriptDir = path.dirname(v1.scriptFile);

/** v2 with one column that does not exist: refused when compiled against the live catalog. */
function unknownColumnVersion(): Deployment {
  const text = readFileSync(v2.scriptFile, 'utf8');
  const changed = text.replace(`CONCAT('v2:', CAST(id AS STRING))`, `CONCAT('v2:', CAST(no_such_column AS STRING))`);
  expect(changed).not.toBe(text);
  const scriptFile = path.join(scriptDir, 'v2-unknown-column.sql');
  writeFileSync(scriptFile, changed);
  return { kind: 'sql', version: 'v2-unknown-column', scriptFile };
}

const activities = createActivities(config);
/** Every table as the worker found it right before each deploy from a savepoint, in call order. */
const beforeDeploy: { version: string; savepointPath?: string; rows: TableRows }[] = [];
/** The real activities, except that deployJob first reads every table: nothing writes them then. */
const observed: Activities = {
  ...activities,
  deployJob: async (input) => {
    // The broken version starts on the tables as the stop left them; only what follows a stop or a rollback is compared.
    if (input.deployment.version !== broken.version && input.savepointPath !== undefined) {
      beforeDeploy.push({ version: input.deployment.version, savepointPath: input.savepointPath, rows: await readShapes(DB) });
    }
    return activities.deployJob(input);
  },
};

/** The read before the deploy of `v` from `savepointPath` (the first: a retried deploy reads again, with the job perhaps started). */
function readBeforeDeploy(savepointPath: string, v: string): TableRows {
  const found = beforeDeploy.filter((d) => d.savepointPath === savepointPath && d.version === v);
  expect(found.length, `deploys of ${v} from ${savepointPath}`).toBeGreaterThan(0);
  return found[0]!.rows;
}

/** A savepoint's tag: every table written up to the same id, each id exactly once. */
function expectOneCheckpoint(rows: TableRows, v1UpTo: number): void {
  const max = maxIdOf(rows);
  expect(maxIdsOf(rows)).toEqual(Object.fromEntries(SHAPE_NAMES.map((s) => [s, max])));
  expect(withoutVersion(rows)).toEqual(expectedFor(rows, v1UpTo));
}

/** The tables read equal the tag's read, row by row, on every table; and the tag holds ids 1..max exactly once. */
async function expectEqualsTag(rows: TableRows, tag: string, v1UpTo: number): Promise<TableRows> {
  const atTag = await readShapes(DB, tag);
  for (const s of SHAPE_NAMES) {
    expect(atTag[s].length, `${s} at ${tag}`).toBeGreaterThan(0);
    expect(rows[s], `${s} vs ${tag}`).toEqual(atTag[s]);
  }
  expectOneCheckpoint(atTag, v1UpTo);
  return atTag;
}

async function jobOn(restUrl: string, jobId: string): Promise<{ state: string }> {
  const res = await fetch(`${restUrl}/jobs/${jobId}/status`);
  return { state: ((await res.json()) as { status: string }).status };
}

async function restoredFrom(restUrl: string, jobId: string): Promise<string | undefined> {
  const body = (await (await fetch(`${restUrl}/jobs/${jobId}/checkpoints`)).json()) as { latest: { restored?: { external_path: string } | null } };
  return body.latest.restored?.external_path;
}

describe('application mode on real standalone application clusters', () => {
  let client: Client;
  let worker: InProcessWorker | undefined;
  const taskQueue = unique('e2e-appmode');
  const upgrade = (newVersion: Deployment, oldVersion: Deployment, target: DeploymentTarget, healthTimeout: string) =>
    startUpgrade(
      client,
      { job: { jobName: JOB }, newVersion, oldVersion, sinkTables: TABLES, target, options: { healthTimeout, tagTimeout: '2m' } },
      { taskQueue },
    );

  beforeAll(async () => {
    await requireStack();
    await createShapeTables(DB);
    client = await connectStackClient();
    worker = await startInProcessWorker(config, taskQueue, observed);
  });

  afterAll(async () => {
    await worker?.stop();
    await fixture.cleanUp();
    await rm(scriptDir, { recursive: true, force: true });
    await client?.connection.close();
  });

  it('upgrades, fails an upgrade back, and restores with approval, each version in a cluster of its own; every shape rolled back to its tag exactly, every id once', async () => {
    const started = Date.now();
    // v1, started the way the workflows start a version in application mode.
    const first = await run(activities.deployJob, { deployment: v1, deployToken: `appmode-v1-${fixture.run}`, target: LOCAL, jobName: JOB });
    expect(first.restUrl).toBeDefined();
    expect(first.restUrl).not.toBe(config.flink.restUrl);
    await checkpointed(first.jobId);

    // 0. The checks before the stop hold for an application target: a version whose SQL names a column
    // that does not exist (compiled against the live catalog through the session SQL gateway) and one
    // whose script is missing are refused, and v1 runs on in its cluster under the same id.
    const missing: Deployment = { kind: 'sql', version: 'v2-missing', scriptFile: path.join(scriptDir, 'missing.sql') };
    for (const newVersion of [unknownColumnVersion(), missing]) {
      const refused = await refusalOf((await upgrade(newVersion, v1, LOCAL, '3m')).result());
      expect(refused.type, refused.message).toBe('DeploymentCheckFailed');
      expect(refused.message).toContain(newVersion.version === 'v2-missing' ? 'missing.sql' : 'no_such_column');
      expect((await jobOn(first.restUrl!, first.jobId)).state).toBe('RUNNING');
    }
    expect((await launches()).map((l) => l.version)).toEqual(['v1']);
    await until('v1 to write 20 ids into every table', 90_000, async () => (Math.min(...Object.values(maxIdsOf(await readShapes(DB)))) > 20 ? true : undefined));

    // 1. Upgrade through the local launcher.
    const upgraded: UpgradeResult = await (await upgrade(v2, v1, LOCAL, '3m')).result();
    if (upgraded.savepoint) savepoints.push(upgraded.savepoint.path);
    expect(upgraded).toMatchObject({ status: 'upgraded', oldJobId: first.jobId });
    const v2Launch = await launchOf(upgraded.newJobId!);
    expect(v2Launch).toMatchObject({ jobName: JOB, launcher: 'local', version: 'v2' });
    expect(v2Launch.restUrl).not.toBe(first.restUrl);
    expect((await jobOn(v2Launch.restUrl, upgraded.newJobId!)).state).toBe('RUNNING');
    // v2 started from the stop's savepoint, in its own cluster, on exactly the stop's tag; v1's cluster is gone.
    expect(await restoredFrom(v2Launch.restUrl, upgraded.newJobId!)).toBe(upgraded.savepoint!.path);
    await expectGone(await launchOf(first.jobId));
    const atUpgrade = await expectEqualsTag(readBeforeDeploy(upgraded.savepoint!.path, 'v2'), upgraded.tag!, Number.MAX_SAFE_INTEGER);
    const v1UpTo = maxIdOf(atUpgrade);
    await checkpointed(upgraded.newJobId!);

    // 2. A failed upgrade through the command launcher: the compensation rolls every table back to the
    // stop's tag and starts v2 again from the same savepoint. The health timeout is also the old
    // version's, started again: a cluster of its own takes a while to checkpoint.
    const failed: UpgradeResult = await (await upgrade(broken, v2, COMMAND, '2m')).result();
    if (failed.savepoint) savepoints.push(failed.savepoint.path);
    expect(failed.status).toBe('rolled-back');
    const brokenLaunch = (await launches()).find((l) => l.version === 'broken')!;
    expect(brokenLaunch).toMatchObject({ launcher: 'command', jobName: JOB });
    const again = await launchOf(failed.restoredJobId!);
    expect(again).toMatchObject({ launcher: 'command', version: 'v2' });
    expect(await restoredFrom(again.restUrl, again.jobId)).toBe(failed.savepoint!.path);
    await expectGone(v2Launch);
    await expectGone(brokenLaunch);
    await expectEqualsTag(readBeforeDeploy(failed.savepoint!.path, 'v2'), failed.tag!, v1UpTo);
    await checkpointed(again.jobId);

    // 3. Restore point A (an intermediate savepoint on v2's cluster, found by the job's name), rows past it, then a restore to A.
    const pointA: TakeSavepointResult = await client.workflow.execute('takeSavepointWorkflow', {
      taskQueue,
      workflowId: unique('e2e-appmode-savepoint'),
      args: [{ job: { jobName: JOB }, tables: TABLES, options: { label: 'appmode A', tagTimeout: '2m' } }],
    });
    savepoints.push(pointA.path);
    expect(pointA).toMatchObject({ restorable: true, missingTags: [] });
    const atA = await readShapes(DB, pointA.tag);
    expectOneCheckpoint(atA, v1UpTo);
    await until('rows past A', 90_000, async () => (Math.min(...Object.values(maxIdsOf(await readShapes(DB)))) > maxIdOf(atA) + 20 ? true : undefined));
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
    expect(await restoredFrom(restoredLaunch.restUrl, restored.newJobId!)).toBe(pointA.path);
    await expectGone(again);
    // Every table rolled back to A's tag: by Paimon's metadata (the tag's snapshot and record count,
    // records as Paimon counts them in data files, as the plan showed them) ...
    expect(restored.tables!.map((t) => [t.table, t.rolledBack])).toEqual(TABLES.map((t) => [t, true]));
    const meta = await shapeMetadata(DB);
    for (const s of SHAPE_NAMES) {
      const tag = meta[s].tags.find((t) => t.tag === pointA.tag)!;
      const planned = plan.tables.find((t) => t.table === `${DB}.${s}`)!;
      expect({ table: s, snapshotId: planned.tagSnapshotId, records: planned.recordsAtTag }).toEqual({ table: s, snapshotId: tag.snapshotId, records: tag.records });
      expect(restored.tables!.find((r) => r.table === `${DB}.${s}`)).toMatchObject({ snapshotId: tag.snapshotId, schemaId: planned.tagSchemaId, records: tag.records });
    }
    // ... and by content: what the restored job started on equals the tag, row by row.
    await expectEqualsTag(readBeforeDeploy(pointA.path, 'v2'), pointA.tag, v1UpTo);
    await checkpointed(restored.newJobId!);

    // 4. The end: the restored job stopped with a savepoint over its own cluster, and nothing launched
    // after it: its cluster stops itself, ENDED_GRACE_S after the job ended.
    const end = await run(activities.stopWithSavepoint, { jobId: restored.newJobId!, triggerId: 'e'.repeat(32), drain: false });
    savepoints.push(end.path);
    const stoppedAt = Date.now();
    const endTag = `savepoint-${end.savepointId}`;
    expect(await run(activities.awaitTag, { tables: TABLES, tag: endTag, timeoutMs: 120_000 })).toEqual({ missing: [] });
    await until('the restored version\'s cluster to stop itself', (ENDED_GRACE_S + 90) * 1000, async () => {
      const left = await leftovers(restoredLaunch);
      return left.processes.length === 0 && !left.port ? true : undefined;
    });
    console.info(`application mode: the last cluster stopped itself ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s after its job's stop (grace ${ENDED_GRACE_S} s)`);
    for (const launch of await launches()) await expectGone(launch);

    // Exactly once across five clusters, at the end's tag: every shape holds what ids 1..max give.
    const atEnd = await readShapes(DB, endTag);
    expect(maxIdOf(atEnd)).toBeGreaterThan(maxIdOf(atA));
    expectOneCheckpoint(atEnd, v1UpTo);
    console.info(`application mode (shapes): one pass in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 1_800_000);
});
