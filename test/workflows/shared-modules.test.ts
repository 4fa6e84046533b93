// The modules every workflow run shares (workflows/preload.ts): the signature checks' curves and
// hashes are evaluated once per worker, and a signature of every key type an approver may use is
// still checked in the sandbox, run after run, with the shared modules frozen.
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { workflowBundleOptions } from '../../src/worker/workflow-bundle';
import { planDigest, type ApprovalSubject } from '../../workflows/approval-proof';
import { makeApproverKeys } from '../support/approver-keys';
import { unique, useWorkflowTestEnv } from '../support/temporal-env';
import type { signatureCheckWorkflow, SignatureChecks } from './shared-modules/workflow';

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };
const workflowsPath = path.join(__dirname, 'shared-modules', 'workflow.ts');
const temporal = useWorkflowTestEnv(() => bundleWorkflowCode({ workflowsPath, preloadModules: workflowBundleOptions.preloadModules, logger: quiet }));

const names = ['ed-approver', 'p256-approver', 'p384-approver', 'p521-approver', 'rsa-approver'];
const ring = makeApproverKeys(names, { 'p256-approver': 'ecdsa', 'rsa-approver': 'rsa' });
for (const [name, bits] of [['p384-approver', 384], ['p521-approver', 521]] as const) {
  execFileSync('rm', ['-f', ring.keyFile(name), `${ring.keyFile(name)}.pub`]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', String(bits), '-N', '', '-f', ring.keyFile(name)]);
}
afterAll(() => ring.remove());

function checksFor(runId: string): SignatureChecks {
  const checks = names.map((approver) => {
    const subject: ApprovalSubject = { decision: 'approve', approver, workflowId: 'flink-job/orders', runId, planVersion: 1, planDigest: planDigest({ version: 1, job: 'orders' }) };
    return { signature: ring.sign(approver, subject), subject };
  });
  // One that must fail: p256's signature presented as p384's approver.
  const forged = { signature: checks[1]!.signature, subject: { ...checks[2]!.subject } };
  return { allowedSigners: names.map((n) => ring.line(n)).join('\n'), checks: [...checks, forged], now: Date.now() };
}

async function runChecks(bundle: typeof temporal.bundle, runs: number) {
  const taskQueue = unique('shared-modules');
  const worker = await Worker.create({ connection: temporal.env.nativeConnection, taskQueue, workflowBundle: bundle });
  return worker.runUntil(async () => {
    const out = [];
    for (let i = 0; i < runs; i++) {
      out.push(await temporal.client.workflow.execute<typeof signatureCheckWorkflow>('signatureCheckWorkflow', { taskQueue, workflowId: unique('signatures'), args: [checksFor(`run-${i}`)] }));
    }
    return out;
  });
}

describe('modules shared by every run (workflows/preload.ts)', () => {
  it('checks every key type run after run with the curves and hashes shared and frozen', async () => {
    const runs = await runChecks(temporal.bundle, 2);
    for (const run of runs) {
      expect(run.hashesShared).toBe(true);
      expect(run.results.slice(0, names.length)).toEqual(names.map(() => 'accepted'));
      expect(run.results[names.length]).toMatch(/may not sign as 'p384-approver'/);
    }
  });

  it('without the preload each run has the hashes of its own (what the check above tells apart)', async () => {
    const bundle = await bundleWorkflowCode({ workflowsPath, logger: quiet });
    const [run] = await runChecks(bundle, 1);
    expect(run!.hashesShared).toBe(false);
    expect(run!.results.slice(0, names.length)).toEqual(names.map(() => 'accepted'));
  });
});
