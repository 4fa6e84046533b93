// Signed approvals on the real stack (Temporal dev server, Flink, Paimon; the real worker and
// workflow): three real restores of a job of its own (tables sign_e2e.sign_a/sign_b, job
// sign-e2e-*), approved by savepointctl with the approver's key, by hand as README shows
// (ssh-keygen -Y sign, then `temporal workflow update execute`), and by signal; before the second
// proceeds, every kind of bad signature is refused and never enters the history.
import { readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localPath, RestorePointStore } from '../../activities/catalog/store';
import { main } from '../../src/cli/main';
import { restorePlan } from '../../src/client/approval';
import { startRestore } from '../../src/client/start-restore';
import { connectWorker, createClient } from '../../src/client/temporal-connection';
import type { Deployment } from '../../src/domain/model';
import type { TakeSavepointResult } from '../../src/domain/savepoint-input';
import { createWorker } from '../../src/worker/worker';
import type { ApprovalSubject } from '../../workflows/approval-proof';
import { operationWorkflowId } from '../../workflows/messages';
import { approveSignal, approveUpdate, restoreStatusQuery, type RestorePlan, type RestoreResult } from '../../workflows/restore-messages';
import { refusalOf } from '../bad-input/refusal';
import { run } from '../support/activity-calls';
import { approveByHandAsReadmeSays, signedBy, testApprovers } from '../support/approvals';
import { awaitCheckpointedRun, cancelJobsNamed, createSinkTables, demoScripts } from '../support/demo-pipeline';
import { activities } from '../support/flink-activities';
import { config, paimonQuery, requireStack, until } from '../support/stack';

const DATABASE = 'sign_e2e';
const SINKS = [`${DATABASE}.sign_a`, `${DATABASE}.sign_b`];
const PREFIX = 'sign-e2e-';
const JOB = `${PREFIX}${Date.now().toString(36)}`;
const taskQueue = JOB;
const APPROVER = 'sign-alice';
const REQUESTER = 'sign-bob';
const WORKFLOW_ID = operationWorkflowId({ jobName: JOB });

let workerConnection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let client: Client;
let v1: Deployment;
const savepoints: string[] = [];
const runs: string[] = [];

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [command, ...rest] = args;
  const code = await main([command!, ...rest, '--task-queue', taskQueue], { out: (l = '') => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A fresh restore point, then a restore to it waiting for approval: its handle and plan. */
async function restoreWaiting(label: string): Promise<{ handle: WorkflowHandle; runId: string; plan: RestorePlan }> {
  const point: TakeSavepointResult = await client.workflow.execute('takeSavepointWorkflow', {
    taskQueue,
    workflowId: `${PREFIX}savepoint-${Date.now().toString(36)}`,
    args: [{ job: { jobName: JOB }, tables: SINKS, options: { label, tagTimeout: '2m' } }],
  });
  savepoints.push(point.path);
  expect(point).toMatchObject({ restorable: true });
  const handle = await startRestore(
    client,
    {
      job: { jobName: JOB },
      deployment: v1,
      sinkTables: SINKS,
      restorePoint: { savepointId: point.savepointId },
      options: { approvers: [APPROVER], requestedBy: REQUESTER, approvalTimeout: '10m', tagTimeout: '2m', healthTimeout: '3m' },
    },
    { taskQueue },
  );
  runs.push(handle.firstExecutionRunId);
  const plan = await until('the restore to wait for approval', 180_000, async () => restorePlan(client, { jobName: JOB }).catch(() => undefined));
  expect(plan.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  return { handle, runId: handle.firstExecutionRunId, plan };
}

const acceptedUpdates = async (handle: WorkflowHandle) =>
  ((await handle.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);

describe('signed approvals on the real stack', () => {
  beforeAll(async () => {
    await requireStack();
    await cancelJobsNamed(PREFIX);
    await createSinkTables(DATABASE, ['sign_a', 'sign_b']);
    v1 = { kind: 'sql', version: 'v1', scriptFile: demoScripts(DATABASE, { seq_a: 'sign_a', seq_b: 'sign_b' })('pipeline-v1.sql', JOB) };
    const workerConfig = { ...config, temporal: { ...config.temporal, taskQueue } };
    workerConnection = await connectWorker(workerConfig);
    worker = await createWorker(workerConfig, workerConnection);
    running = worker.run();
    client = await createClient(config);
    const { jobId } = await run(activities().deployJob, { deployment: v1, deployToken: `${JOB}/v1` });
    await awaitCheckpointedRun(jobId);
  }, 300_000);

  afterAll(async () => {
    for await (const wf of client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` })) {
      await client.workflow.getHandle(wf.workflowId, wf.runId).terminate('signed-approvals test cleanup').catch(() => undefined);
    }
    await cancelJobsNamed(PREFIX);
    worker?.shutdown();
    await running?.catch(() => undefined);
    await workerConnection?.close();
    await client?.connection.close();
    for (const p of savepoints) await rm(localPath(p, 'savepoint'), { recursive: true, force: true }).catch(() => undefined);
    await rm(new RestorePointStore(config.flink.savepointDir).jobDir(JOB), { recursive: true, force: true }).catch(() => undefined);
    await paimonQuery(`DROP DATABASE IF EXISTS \`${DATABASE}\` CASCADE`).catch(() => undefined);
  }, 300_000);

  it('savepointctl approve signs with the approver key, prints the digest, and the restore proceeds', { timeout: 600_000 }, async () => {
    const { handle, plan } = await restoreWaiting('sign savepointctl');
    const approved = await cli('approve', JOB, '--as', APPROVER, '--key', testApprovers().keyFile(APPROVER), '--plan-digest', plan.digest!);
    expect(approved).toMatchObject({ code: 0, out: expect.stringContaining('the restore is proceeding') });
    expect(approved.out).toContain(`signed approve of plan v${plan.version} (digest ${plan.digest}) as ${APPROVER}`);
    const result = (await handle.result()) as RestoreResult;
    expect(result).toMatchObject({ status: 'restored', approval: { approver: APPROVER, via: 'update', proof: { kind: 'ssh-signature', planDigest: plan.digest } } });
  });

  it(
    'a forged identity, the requester as another, a wrong key, another plan version, run or plan, a removed key, a malformed signature: refused, never in the history; then approved by hand through the Temporal CLI',
    { timeout: 600_000 },
    async () => {
      const { handle, runId, plan } = await restoreWaiting('sign by hand');
      const ring = testApprovers();
      const subject: ApprovalSubject = { decision: 'approve', approver: APPROVER, workflowId: WORKFLOW_ID, runId, planVersion: plan.version, planDigest: plan.digest! };
      const send = async (signature: string, approver = APPROVER) =>
        (await refusalOf(handle.executeUpdate(approveUpdate, { args: [{ approver, planVersion: plan.version, signature }] })))?.message;
      const otherRun = runs[0]!;
      expect(otherRun).not.toBe(runId);

      const refused: Record<string, string | undefined> = {
        forged: await send(ring.sign('mallory', subject)),
        requesterAsAnother: await send(ring.sign(REQUESTER, subject)),
        wrongKey: await send(ring.sign('alice', subject)),
        otherVersion: await send(ring.sign(APPROVER, { ...subject, planVersion: plan.version + 1 })),
        otherRun: await send(ring.sign(APPROVER, { ...subject, runId: otherRun })),
        otherPlan: await send(ring.sign(APPROVER, { ...subject, planDigest: `sha256:${'0'.repeat(64)}` })),
        rejectionAsApproval: await send(ring.sign(APPROVER, { ...subject, decision: 'reject' })),
        malformed: await send(`${ring.sign(APPROVER, subject).slice(0, 120)}\n-----END SSH SIGNATURE-----\n`),
        unsigned: await send(''),
      };
      // The requester typing the approver's name, signing with his own key, by signal too.
      await handle.signal(approveSignal, { approver: APPROVER, planVersion: plan.version, signature: ring.sign(REQUESTER, subject) });

      const mayNot = new RegExp(`^key SHA256:\\S+ may not sign as '${APPROVER}': the allowed signers do not list this key for '${APPROVER}'$`);
      expect(refused.forged).toMatch(mayNot);
      expect(refused.requesterAsAnother).toMatch(mayNot);
      expect(refused.wrongKey).toMatch(mayNot);
      for (const other of [refused.otherVersion, refused.otherRun, refused.otherPlan, refused.rejectionAsApproval]) {
        expect(other).toContain(`does not match this approval by '${APPROVER}' of plan v${plan.version} (digest ${plan.digest}) of run ${runId}`);
      }
      expect(refused.malformed).toMatch(/^malformed signature: /);
      expect(refused.unsigned).toMatch(/^an approval needs the approver's SSH signature/);

      // The approver's key removed from the worker's file: refused from then on; put back, it counts again.
      const keys = async () => (await handle.query(restoreStatusQuery)).approverKeys!;
      const before = await keys();
      expect(before.principals).toContain(APPROVER);
      const allowed = readFileSync(ring.allowedSigners, 'utf8');
      ring.writeAllowed(allowed.split('\n').filter((l) => l !== '' && !l.startsWith(`${APPROVER} `)));
      try {
        const without = await until('the worker to re-read the allowed-signers file', 30_000, async () => {
          const now = await keys();
          return now.version !== before.version ? now : undefined;
        });
        expect(without.principals).not.toContain(APPROVER);
        refused.removed = await send(ring.sign(APPROVER, subject));
        expect(refused.removed).toMatch(mayNot);
      } finally {
        writeFileSync(ring.allowedSigners, allowed);
      }
      await until('the key to be back', 30_000, async () => ((await keys()).version === before.version ? true : undefined));

      expect((await handle.query(restoreStatusQuery)).step).toBe('awaiting-approval');
      expect((await handle.query(restoreStatusQuery)).refusedSignals).toEqual([{ approver: APPROVER, problem: expect.stringMatching(mayNot), at: expect.any(String) }]);
      expect(await acceptedUpdates(handle)).toEqual([]);

      const printed = await approveByHandAsReadmeSays({
        workflowId: WORKFLOW_ID,
        approver: APPROVER,
        planVersion: plan.version,
        planDigest: plan.digest!,
        temporalCli: path.join(config.stackHome, 'bin', 'temporal'),
      });
      expect(printed).toContain('proceeding');
      const result = (await handle.result()) as RestoreResult;
      expect(result).toMatchObject({ status: 'restored', approval: { approver: APPROVER, via: 'update', proof: { kind: 'ssh-signature', planDigest: plan.digest } } });
      // Exactly one update entered the history: the signed one.
      expect(await acceptedUpdates(handle)).toHaveLength(1);
    },
  );

  it('a signed approval by signal proceeds', { timeout: 600_000 }, async () => {
    const { handle, plan } = await restoreWaiting('sign signal');
    await handle.signal(approveSignal, await signedBy(handle, { approver: APPROVER, planVersion: plan.version, comment: 'by signal' }));
    const result = (await handle.result()) as RestoreResult;
    expect(result).toMatchObject({ status: 'restored', approval: { approver: APPROVER, via: 'signal', comment: 'by signal', proof: { kind: 'ssh-signature', planDigest: plan.digest } } });
    expect(result.refusedSignals ?? []).toEqual([]);
  });
});
