// Signed approvals in tests: one keyring per test process (real ssh-keygen keys in a temp folder)
// for the approvers the tests name, its allowed-signers file given to every worker the tests start
// (APPROVERS_ALLOWED_SIGNERS, inherited by worker processes), and helpers that sign an answer the
// way savepointctl does. `mallory` has a key that the file does not list.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApproverActivities } from '../../activities/approvers/activities';
import type { ApproverActivities } from '../../activities/contract';
import { approveRestore, rejectRestore, signAnswer, type ApprovalSigner } from '../../src/client/approval';
import type { JobNameOf } from '../../src/client/job-name';
import type { Config } from '../../src/config/config';
import { repoRoot } from '../../src/config/repo-root';
import type { JobRef } from '../../src/domain/model';
import { approvalNamespace, approvalStatement, planDigest, type ApprovalDecision } from '../../workflows/approval-proof';
import { planQuery, type ApprovalAnswer, type ApprovalInput } from '../../workflows/restore-messages';
import { makeApproverKeys, type ApproverKeyring } from './approver-keys';

/** Every approver or requester the tests name; each has a key the allowed-signers file lists. */
export const TEST_APPROVERS = ['alice', 'bob', 'carol', 'ops-alice', 'ops-bob', 'badinput-alice', 'badinput-bob', 'sign-alice', 'sign-bob', 'soak-approver', 'bench-approver'];
/** Has a key, not listed: a stranger's key. */
export const UNLISTED = 'mallory';

let ring: ApproverKeyring | undefined;

export function testApprovers(): ApproverKeyring {
  if (ring) return ring;
  const made = makeApproverKeys([...TEST_APPROVERS, UNLISTED]);
  made.writeAllowed(TEST_APPROVERS.map((n) => made.line(n)));
  process.env.APPROVERS_ALLOWED_SIGNERS = made.allowedSigners;
  process.once('exit', () => rmSync(made.dir, { recursive: true, force: true }));
  ring = made;
  return made;
}

/** The stack's config with the test approvers' keys (workers started from it verify against them). */
export const withTestApprovers = (config: Config): Config => ({ ...config, approvals: { allowedSignersFile: testApprovers().allowedSigners } });

/** The keys activity of a worker that uses the test approvers' file (for fake activity sets). */
export const testApproverActivities = (): ApproverActivities =>
  createApproverActivities({ approvals: { allowedSignersFile: testApprovers().allowedSigners } } as Config);

/** Signs as `name` with its test key (a name without one signs with mallory's, which no file lists). */
export const testSigner =
  (name: string): ApprovalSigner =>
  async (text, namespace) =>
    testApprovers().signText([...TEST_APPROVERS, UNLISTED].includes(name) ? name : UNLISTED, text, namespace);

/** `given`, signed by its approver's test key for the restore of `job` as it is now (client path). */
export async function signedFor(client: Client, job: JobRef, given: ApprovalInput, decision: ApprovalDecision = 'approve'): Promise<ApprovalInput> {
  return (await signAnswer(client, job, given, decision, testSigner(given.approver.trim()))).input;
}

/** `given`, signed by `signer`'s test key (default its approver) for the restore behind `handle` as it is now. */
export async function signedBy(
  handle: WorkflowHandle,
  given: ApprovalInput,
  decision: ApprovalDecision = 'approve',
  signer = given.approver.trim(),
): Promise<ApprovalInput> {
  const [{ runId }, plan] = await Promise.all([handle.describe(), handle.query(planQuery)]);
  if (!plan) throw new Error(`${handle.workflowId} has no plan to sign yet`);
  const planVersion = given.planVersion ?? plan.version;
  const statement = approvalStatement({
    decision,
    approver: given.approver.trim(),
    workflowId: handle.workflowId,
    runId,
    planVersion,
    planDigest: planDigest(plan),
  });
  return { ...given, signature: await testSigner(signer)(statement, approvalNamespace(handle.workflowId)) };
}

/** approveRestore with `given` signed by its approver's test key for the plan as it is now. */
export async function approveSigned(client: Client, job: JobRef, given: ApprovalInput, lookUp?: JobNameOf): Promise<ApprovalAnswer> {
  return approveRestore(client, job, await signedFor(client, job, given), lookUp);
}

/** rejectRestore with `given` signed by its approver's test key. */
export async function rejectSigned(client: Client, job: JobRef, given: ApprovalInput, lookUp?: JobNameOf): Promise<{ planVersion: number }> {
  return rejectRestore(client, job, await signedFor(client, job, given, 'reject'), lookUp);
}

/**
 * README's "Signed approvals" block run as written (ssh-keygen -Y sign, jq, temporal workflow update
 * execute), with this test's workflow, approver, key and plan in its first two lines. Resolves to
 * what the Temporal CLI printed; rejects with its output when it exits non-zero.
 */
export async function approveByHandAsReadmeSays(a: {
  workflowId: string;
  approver: string;
  planVersion: number;
  planDigest: string;
  temporalCli: string;
}): Promise<string> {
  const readme = readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');
  const block = /<!-- approval-by-hand -->\s*```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no approval-by-hand block');
  const lines = block.split('\n');
  if (!lines[0]!.startsWith('wf=') || !lines[1]!.startsWith('version=')) throw new Error('the README block no longer starts with wf= and version= lines');
  lines[0] = `wf='${a.workflowId}'; me='${a.approver}'; key='${testApprovers().keyFile(a.approver)}'`;
  lines[1] = `version=${a.planVersion}; digest='${a.planDigest}'`;
  const script = lines.join('\n').replaceAll('.stack/bin/temporal', a.temporalCli);
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'approval-by-hand-'));
  try {
    // Asynchronously: a worker in this process has to answer the update meanwhile.
    return (await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], { cwd, encoding: 'utf8', timeout: 120_000 })).stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`the README's approval by hand failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}
