// savepointctl end to end on the real stack: a person takes a savepoint, lists restore points,
// starts a restore, is refused as a wrong approver, approves, and reads the status — all through
// the CLI's own entry point, against a real worker with the real activities.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { operationWorkflowId } from '../../workflows/messages';
import type { RestoreResult } from '../../workflows/restore-messages';
import { connectWorker, createClient } from '../../src/client/temporal-connection';
import { createWorker } from '../../src/worker/worker';
import { run } from '../support/activity-calls';
import { activities } from '../support/flink-activities';
import { cancelJobsNamed, createSinkTables, demoScript, deployableDir } from '../support/demo-pipeline';
import { testApprovers } from '../support/approvals';
import { config, flinkGet, paimonQuery, requireStack, until } from '../support/stack';

const DATABASE = 'cli_e2e';
const TABLES = ['seq_a', 'seq_b'].map((t) => `${DATABASE}.${t}`);
const JOB = `cli-e2e-${Date.now().toString(36)}`;
const taskQueue = `cli-e2e-${Date.now()}`;
const scripts = deployableDir('cli-e2e-');
const v1Script = path.join(scripts, 'pipeline-v1.sql');

let workerConnection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let client: Client;

/** Runs `savepointctl ...args` on our task queue; returns its exit code and what it printed. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [command, ...rest] = args;
  const code = await main(command === undefined ? [] : [command, ...rest, '--task-queue', taskQueue], {
    out: (line = '') => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/**
 * Live jobs not of this file (other suites, the demo) that write tables named seq_a/seq_b in their
 * own databases: named as not writers (Flink's plan names a Paimon writer by table name only), so the
 * stack shared with other suites does not refuse the restore as OtherWriters.
 */
async function otherLiveJobs(): Promise<string[]> {
  const { jobs } = await flinkGet<{ jobs: { jid: string; name: string; state: string }[] }>('/jobs/overview');
  return jobs.filter((j) => !['CANCELED', 'FINISHED', 'FAILED'].includes(j.state) && j.name !== JOB).map((j) => j.jid);
}

describe('savepointctl on the real stack', () => {
  beforeAll(async () => {
    await requireStack();
    await cancelJobsNamed('cli-e2e');
    await createSinkTables(DATABASE, ['seq_a', 'seq_b']);
    writeFileSync(v1Script, demoScript('pipeline-v1.sql', DATABASE, JOB));
    const workerConfig = { ...config, temporal: { ...config.temporal, taskQueue } };
    workerConnection = await connectWorker(workerConfig);
    worker = await createWorker(workerConfig, workerConnection);
    running = worker.run();
    client = await createClient(config);
    await run(activities().deployJob, { deployment: { kind: 'sql', version: 'v1', scriptFile: v1Script }, deployToken: JOB });
    await until('rows in both tables', 60_000, async () => {
      const rows = await paimonQuery(`SELECT COUNT(*) AS n FROM \`${DATABASE}\`.\`seq_b\``);
      return Number(rows[0]!.n) > 20 ? true : undefined;
    });
  });

  afterAll(async () => {
    await cancelJobsNamed('cli-e2e');
    worker?.shutdown();
    await running;
    await workerConnection?.close();
    await client?.connection.close();
  });

  it('refuses bad arguments with exit code 2 and a one-line reason naming the flag', async () => {
    expect(await cli('savepoint', '--job-name', JOB)).toMatchObject({ code: 2, err: expect.stringContaining('--table is required') });
    expect(await cli('upgrade', '--tabel', 'x')).toMatchObject({ code: 2, err: expect.stringContaining("Unknown option '--tabel'") });
    expect(await cli('frobnicate')).toMatchObject({ code: 2, err: expect.stringContaining("unknown command 'frobnicate'") });
    const badAddress = await cli('status', 'x', '--temporal-address', 'not an address');
    expect(badAddress).toMatchObject({ code: 2, err: expect.stringContaining('--temporal-address') });
    const badTable = await cli('savepoint', '--job-name', JOB, '--table', 'no-dot');
    expect(badTable.code).toBe(2);
    expect(badTable.err).toMatch(/tables\[0\]: a sink table is written 'database.table'/);
    expect(badTable.err.split('\n')).toHaveLength(1);
    // A run typed into the UI that failed before it could answer a query: status says how it ended.
    const id = `cli-e2e-bad-savepoint-${Date.now()}`;
    await client.workflow
      .execute('takeSavepointWorkflow', { taskQueue, workflowId: id, args: [{ job: { jobName: JOB }, tables: ['no-dot'] }] })
      .catch(() => undefined);
    const failed = await cli('status', id);
    expect(failed.code).toBe(0);
    expect(failed.out).toContain(`takeSavepointWorkflow ${id}: FAILED`);
    expect(failed.out).toMatch(/reason: .*tables\[0\]: a sink table is written 'database.table'/);
    expect(failed.out).not.toContain('did not register a handler');
  });

  it('takes a savepoint, lists it as restorable, restores to it after a refused and an accepted approval', async () => {
    const taken = await cli('savepoint', '--job-name', JOB, '--table', TABLES.join(','), '--label', 'before release', '--wait');
    expect(taken.err).toBe('');
    expect(taken.code).toBe(0);
    const savepointId = Number(/restore point (\d+): tag savepoint-\1 on every table/.exec(taken.out)?.[1]);
    expect(savepointId).toBeGreaterThan(0);

    const listed = await cli('restore-points', JOB, '--json');
    expect(listed.code).toBe(0);
    const points = JSON.parse(listed.out) as { savepointId: number; restorable: boolean; label: string | null }[];
    expect(points.find((p) => p.savepointId === savepointId)).toMatchObject({ restorable: true, label: 'before release' });
    const table = await cli('restore-points', JOB);
    expect(table.out).toMatch(new RegExp(`^${savepointId}\\s+savepoint-${savepointId}\\s.*\\byes\\b`, 'm'));

    const started = await cli(
      'restore', '--job-name', JOB, '--table', TABLES.join(','), '--savepoint-id', String(savepointId),
      '--version', 'v1', '--sql-file', v1Script, '--approver', 'alice', '--requested-by', 'bob',
      ...(await otherLiveJobs()).flatMap((jid) => ['--not-writer', jid]),
    );
    expect(started.code).toBe(0);
    expect(started.out).toContain(`restore point: savepoint ${savepointId} (savepoint-${savepointId})`);
    expect(started.out).toContain('cannot be undone:');
    const digest = /plan digest: (sha256:[0-9a-f]{64})/.exec(started.out)?.[1];
    expect(digest).toBeDefined();
    expect(started.out).toContain(`savepointctl approve ${JOB} --as <approver> --key <your SSH key> --plan-version 1 --plan-digest ${digest}`);
    expect(started.out).toContain("requested by: 'bob' is the requester as the restore's input names it, not proven by a signature");

    const key = (name: string) => testApprovers().keyFile(name);
    const wrong = await cli('approve', JOB, '--as', 'mallory', '--key', key('mallory'));
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/refused this: .*mallory/);
    const requester = await cli('approve', JOB, '--as', 'bob', '--key', key('bob'));
    expect(requester.code).toBe(1);
    // The requester signing as alice with his own key: refused, whatever name he types.
    const forged = await cli('approve', JOB, '--as', 'alice', '--key', key('bob'));
    expect(forged).toMatchObject({ code: 1, err: expect.stringMatching(/refused this: key SHA256:\S+ may not sign as 'alice'/) });
    expect(await cli('approve', JOB, '--as', 'alice')).toMatchObject({ code: 2, err: expect.stringContaining('--key is required') });
    const misread = await cli('approve', JOB, '--as', 'alice', '--key', key('alice'), '--plan-digest', 'sha256:0000');
    expect(misread).toMatchObject({ code: 1, err: expect.stringContaining(`the plan now has digest ${digest}, not sha256:0000`) });

    // By the job's name, as approve takes it (the workflow id works too).
    const status = await cli('status', JOB);
    expect(status.code).toBe(0);
    expect(status.out).toBe((await cli('status', operationWorkflowId({ jobName: JOB }))).out);
    expect(status.out).toContain('restoreWorkflow');
    expect(status.out).toContain('step: awaiting-approval');
    // The plan in words (not a JSON blob), once, with the step it waits in marked as now.
    expect(status.out.match(/^ {2}plan v1 for job/gm)).toHaveLength(1);
    expect(status.out.match(/undo:/g)).toHaveLength(1);
    expect(status.out).toContain(`restore point: savepoint ${savepointId} (savepoint-${savepointId})`);
    expect(status.out).toMatch(/awaiting-approval\s+\S+\s+\(now\)/);
    expect(status.out).not.toMatch(/[{}]"|"\w+":/);
    expect(status.out).toContain(`plan digest: ${digest}`);

    const approved = await cli('approve', JOB, '--as', 'alice', '--key', key('alice'), '--plan-digest', digest!, '--comment', 'release rollback');
    expect(approved).toMatchObject({ code: 0, out: expect.stringContaining('the restore is proceeding') });
    expect(approved.out).toContain(`signed approve of plan v1 (digest ${digest}) as alice with ${key('alice')}`);
    // It said at once what it waits for, right after what it signed.
    expect(approved.out.split('\n')[1]).toMatch(/^approving flink-job\/\S+ as alice: the restore checks its plan again/);

    const result: RestoreResult = await client.workflow.getHandle(operationWorkflowId({ jobName: JOB })).result();
    expect(result.status).toBe('restored');
    expect(result.approval).toMatchObject({ approver: 'alice', comment: 'release rollback', proof: { kind: 'ssh-signature', planDigest: digest } });
    expect(result.tables?.every((t) => t.rolledBack)).toBe(true);
    // Counted as the rollback ran: today's savepoint tag is among the deleted tags of every table.
    for (const t of result.tables!) expect(t.tagsDeleted).toContain(result.todaysSavepoint!.tag);

    // The finished restore on one screen: outcome, what each table lost as counted, the undo once.
    const done = await cli('status', JOB);
    expect(done.out).toMatch(/^restoreWorkflow flink-job\/\S+: COMPLETED, restored$/m);
    for (const t of result.tables!) {
      expect(done.out).toContain(`${t.table}: rolled back from snapshot ${t.previousSnapshotId} to snapshot ${t.snapshotId}`);
      expect(done.out).toMatch(new RegExp(`${t.table}: .*; deleted ${t.snapshotsDeleted} snapshot\\(s\\) and ${t.tagsDeleted!.length} tag\\(s\\)`));
    }
    expect(done.out).toContain("approved: plan v1 by alice");
    expect(done.out).toContain(`today's savepoint: ${result.todaysSavepoint!.savepointId}`);
    expect(done.out.match(/undo:/g)).toHaveLength(1);
    expect(done.out.split('\n').reduce((rows, l) => rows + Math.max(1, Math.ceil(l.length / 120)), 0)).toBeLessThanOrEqual(40);
    expect(done.out).not.toMatch(/[{}]"|"\w+":/);
  });

  it('retention: a dry run by default that shows each decision and changes nothing; --apply deletes what the policy drops', async () => {
    expect(await cli('retention', JOB)).toMatchObject({ code: 2, err: expect.stringContaining('a retention policy needs keepLast, maxAge or both') });
    expect(await cli('retention', JOB, '--keep-last', '0')).toMatchObject({ code: 2, err: expect.stringContaining('policy.keepLast') });
    // Two more points, on the restored job: with --keep-last 1 the older one is dropped, the newest kept.
    const older = await cli('savepoint', '--job-name', JOB, '--table', TABLES.join(','), '--label', 'retention older', '--wait');
    const newer = await cli('savepoint', '--job-name', JOB, '--table', TABLES.join(','), '--label', 'retention newer', '--wait');
    const [olderId, newerId] = [older, newer].map((r) => Number(/restore point (\d+):/.exec(r.out)?.[1]));
    expect(newerId).toBeGreaterThan(olderId!);
    const restorable = async () =>
      (JSON.parse((await cli('restore-points', JOB, '--json')).out) as { savepointId: number; restorable: boolean }[])
        .filter((p) => p.restorable)
        .map((p) => p.savepointId);

    const before = await restorable();
    const dry = await cli('retention', JOB, '--keep-last', '1', '--table', TABLES.join(','));
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(new RegExp(`^${newerId}\\s+keep\\s+the newest restorable point is always kept`, 'm'));
    expect(dry.out).toMatch(new RegExp(`^${olderId}\\s+would delete\\s+restorable, but outside every keep rule`, 'm'));
    expect(dry.out).toContain('run again with --apply to delete');
    expect(await restorable()).toEqual(before);

    const applied = await cli('retention', JOB, '--keep-last', '1', '--table', TABLES.join(','), '--apply');
    expect(applied.code).toBe(0);
    expect(applied.out).toMatch(/^deleted: .*\b/m);
    const after = await restorable();
    expect(after).toContain(newerId);
    expect(after).not.toContain(olderId);
  });
});
