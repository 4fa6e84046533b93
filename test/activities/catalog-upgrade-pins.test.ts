// The lifecycle of the savepoints upgrades pin, on the REAL stack: our own job is upgraded three
// times (v1 -> v2, v2 -> a crash-looping version that ends rolled back, v2 -> v1) and a person pins a
// savepoint in between. The catalog lists each point newest first with the version whose state it
// holds and a label that says where the upgrade went (a failed one's says so); retention keeps what a
// person pinned, the latest upgrade's point, and a point a waiting restore plans to use, and lets
// go of the older upgrades' points once enough successful upgrades came after them.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { localPath, RestorePointStore } from '../../activities/catalog/store';
import { startRestore } from '../../src/client/start-restore';
import { startUpgrade } from '../../src/client/start-upgrade';
import { main } from '../../src/cli/main';
import type { RestorePoint } from '../../src/domain/restore-points';
import type { RetentionResult } from '../../src/domain/retention-input';
import type { TakeSavepointResult } from '../../src/domain/savepoint-input';
import type { UpgradeResult } from '../../workflows/messages';
import { activities as flinkActivities, run } from '../support/flink-fixtures';
import { awaitCheckpointedRun, cancelJobsNamed, createSinkTables, demoScripts, tagNames } from '../support/demo-pipeline';
import { startWorkerAndClient, type WorkerAndClient } from '../support/in-process-worker';
import { config, flinkGet, flinkPost, paimonQuery, requireStack, until } from '../support/stack';
import { unique } from '../support/temporal-env';
import { rejectSigned } from '../support/approvals';

const RUN = Date.now().toString(36);
const DATABASE = `h5_pins_${RUN}`;
// Table names of our own: Flink's plan names a Paimon writer by table name only, so another test's
// job writing a seq_a anywhere would count as another writer of ours.
const TABLES = [`h5pins_a_${RUN}`, `h5pins_b_${RUN}`];
const SINKS = TABLES.map((t) => `${DATABASE}.${t}`);
const JOB = `h5-pins-${RUN}`;
const taskQueue = unique('h5-pins');
const script = demoScripts(DATABASE, { seq_a: TABLES[0]!, seq_b: TABLES[1]! });
const version = (v: string, file: string) => ({ kind: 'sql' as const, version: v, scriptFile: script(file, JOB) });

describe('retention over the savepoints upgrades pin, on the real stack', () => {
  let client: Client;
  let running: WorkerAndClient | undefined;
  const savepointPaths: string[] = [];

  beforeAll(async () => {
    await requireStack();
    await cancelJobsNamed(JOB);
    await createSinkTables(DATABASE, TABLES);
    running = await startWorkerAndClient(config, taskQueue, createActivities(config));
    client = running.client;
  });

  afterAll(async () => {
    await cancelJobsNamed(JOB);
    await running?.stop();
    const store = new RestorePointStore(config.flink.savepointDir);
    for (const p of savepointPaths) await rm(localPath(p, 'savepoint'), { recursive: true, force: true });
    await rm(store.jobDir(JOB), { recursive: true, force: true });
    await paimonQuery(`DROP DATABASE IF EXISTS \`${config.paimon.catalog}\`.${DATABASE} CASCADE`).catch(() => undefined);
  });

  async function upgrade(from: [string, string], to: [string, string], healthTimeout = '90s'): Promise<UpgradeResult> {
    const handle = await startUpgrade(
      client,
      { job: { jobName: JOB }, newVersion: version(...to), oldVersion: version(...from), sinkTables: SINKS, options: { healthTimeout, tagTimeout: '90s' } },
      { taskQueue },
    );
    const result = await handle.result();
    if (result.savepoint) savepointPaths.push(result.savepoint.path);
    // The next operation needs a recent checkpoint of whichever version runs now.
    await awaitCheckpointedRun((result.restoredJobId ?? result.newJobId)!, 180_000);
    return result;
  }

  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main([...args, '--task-queue', taskQueue], { out: (l = '') => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('keeps a person pin, the latest upgrade\'s point and one a waiting restore uses; deletes the older upgrades\' points', { timeout: 900_000 }, async () => {
    const { jobId } = await run(flinkActivities().deployJob, { deployment: version('v1', 'pipeline-v1.sql'), deployToken: `${JOB}/v1` });
    await awaitCheckpointedRun(jobId, 180_000);

    const first = await upgrade(['v1', 'pipeline-v1.sql'], ['v2', 'pipeline-v2.sql']);
    expect(first).toMatchObject({ status: 'upgraded', restorePointRecorded: true });

    const pinned: TakeSavepointResult = await client.workflow.execute('takeSavepointWorkflow', {
      taskQueue,
      workflowId: unique('h5-pins-person'),
      args: [{ job: { jobName: JOB }, tables: SINKS, options: { pinned: true, label: 'before the release', deploymentVersion: 'v2', tagTimeout: '90s' } }],
    });
    savepointPaths.push(pinned.path);
    expect(pinned.restorable).toBe(true);

    const failed = await upgrade(['v2', 'pipeline-v2.sql'], ['v2-broken', 'pipeline-broken.sql'], '60s');
    expect(failed).toMatchObject({ status: 'rolled-back', restorePointRecorded: true });
    const last = await upgrade(['v2', 'pipeline-v2.sql'], ['v1', 'pipeline-v1.sql']);
    expect(last).toMatchObject({ status: 'upgraded', restorePointRecorded: true });
    const [a, b, c] = [first, failed, last].map((r) => r.savepoint!.id);

    // Newest first; VERSION is the version that was running (the state the savepoint holds).
    const listed = JSON.parse((await cli('restore-points', JOB, '--json')).out) as RestorePoint[];
    expect(listed.map((p) => [p.savepointId, p.deploymentVersion, p.label, p.pinnedBy, p.upgrade?.outcome ?? null, p.restorable])).toEqual([
      [c, 'v2', 'before upgrade to v1', 'upgrade', 'succeeded', true],
      [b, 'v2', 'before failed upgrade to v2-broken', 'upgrade', 'failed', true],
      [pinned.savepointId, 'v2', 'before the release', 'person', null, true],
      [a, 'v1', 'before upgrade to v2', 'upgrade', 'succeeded', true],
    ]);
    const table = await cli('restore-points', JOB);
    expect(table.out).toMatch(new RegExp(`^${b}\\s+savepoint-${b}\\s+\\S+\\s+v2\\s+before failed upgrade to v2-broken\\s+upgrade\\s+yes`, 'm'));

    // A restore to A waits for approval: A is the point it will use.
    await startRestore(
      client,
      {
        job: { jobName: JOB },
        deployment: version('v1', 'pipeline-v1.sql'),
        sinkTables: SINKS,
        restorePoint: { savepointId: a },
        options: { approvers: ['alice'], requestedBy: 'bob', approvalTimeout: '10m' },
      },
      { taskQueue },
    );
    const policy = ['--max-age', '1s', '--upgrade-keep-after', '1', '--upgrade-min-age', '0s'];
    const dryRun = async () => {
      const r = await cli('retention', JOB, ...policy, '--json');
      expect(r.code).toBe(0);
      const dry = JSON.parse(r.out) as RetentionResult;
      expect(Object.fromEntries(dry.decisions.map((d) => [d.savepointId, `${d.action}:${d.reason}`]))).toEqual({
        [c]: 'keep:upgrade-pin',
        [b]: 'delete:upgrade-pin-expired',
        [pinned.savepointId]: 'keep:pinned',
        [a]: 'keep:in-use',
      });
      expect(dry.decisions.find((d) => d.savepointId === a)?.detail).toBe(`restoreWorkflow flink-job/${JOB}`);
    };
    // While it plans (its input names A) and once its plan waits for approval (the plan names A).
    await dryRun();
    const restore = client.workflow.getHandle(`flink-job/${JOB}`);
    await until('the restore to wait for approval', 180_000, async () =>
      ((await restore.query('status').catch(() => undefined)) as { step?: string } | undefined)?.step === 'awaiting-approval' ? true : undefined,
    );
    await dryRun();

    await rejectSigned(client, { jobName: JOB }, { approver: 'alice', comment: 'test over' });
    await restore.result();

    const applied = await cli('retention', JOB, ...policy, '--apply');
    expect(applied.err).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.out).toMatch(new RegExp(`^${a}\\s+delete\\s+pinned by an upgrade, released`, 'm'));
    expect(applied.out).toMatch(new RegExp(`^deleted: ${a}, ${b}$`, 'm'));
    for (const t of TABLES) {
      const tags = await tagNames(DATABASE, t);
      expect(tags).toEqual(expect.arrayContaining([`savepoint-${c}`, `savepoint-${pinned.savepointId}`]));
      expect(tags).not.toContain(`savepoint-${a}`);
      expect(tags).not.toContain(`savepoint-${b}`);
    }
    expect(existsSync(localPath(first.savepoint!.path, 'savepoint'))).toBe(false);
    expect(existsSync(localPath(failed.savepoint!.path, 'savepoint'))).toBe(false);
    const after = JSON.parse((await cli('restore-points', JOB, '--json')).out) as RestorePoint[];
    expect(after.map((p) => [p.savepointId, p.restorable])).toEqual([
      [c, true],
      [pinned.savepointId, true],
    ]);

    // A savepoint taken with Flink's own CLI (`flink savepoint JOB DIR` is POST /jobs/:id/savepoints)
    // has no record: it is listed by when its files were written, so first, as the newest.
    const before = Date.now();
    const runningJob = last.newJobId!;
    const { 'request-id': trigger } = await flinkPost<{ 'request-id': string }>(`/jobs/${runningJob}/savepoints`, { 'target-directory': config.flink.savepointDir, 'cancel-job': false });
    const location = await until('the savepoint Flink was asked for', 180_000, async () => {
      const { status, operation } = await flinkGet<{ status: { id: string }; operation?: { location?: string } }>(`/jobs/${runningJob}/savepoints/${trigger}`);
      return status.id === 'COMPLETED' ? operation?.location : undefined;
    });
    savepointPaths.push(location);
    // Its tag comes with the next checkpoint (an intermediate savepoint commits nothing itself).
    const known = new Set([`savepoint-${c}`, `savepoint-${pinned.savepointId}`]);
    const cliTag = await until('the tag of the CLI savepoint on both tables', 180_000, async () => {
      const [x, y] = await Promise.all(TABLES.map((t) => tagNames(DATABASE, t)));
      return x!.find((tag) => !known.has(tag) && y!.includes(tag));
    });
    const withCli = JSON.parse((await cli('restore-points', JOB, '--json')).out) as RestorePoint[];
    expect(withCli.map((p) => [p.tag, p.recorded, p.restorable])).toEqual([
      [cliTag, false, true],
      [`savepoint-${c}`, true, true],
      [`savepoint-${pinned.savepointId}`, true, true],
    ]);
    expect(Date.parse(withCli[0]!.createdAt!)).toBeGreaterThanOrEqual(before - 1000);
    expect(withCli[0]!.path).toBe(location);
  });
});
