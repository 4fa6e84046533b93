// What an approver signs, and the check of that signature: shared by the restore's validator
// (workflow code: pure, deterministic) and the clients that sign (savepointctl, services).
//
// The statement names the decision, the approver, the workflow and its run, the plan version and
// the plan's digest, so a signature counts for exactly one answer to one plan of one restore run:
// replayed to another run, another plan version, or turned from a rejection into an approval, it
// no longer verifies. The SSH signature namespace is per job, so the allowed-signers file can
// limit a key to some jobs (`namespaces="flink-paimon-ops:flink-job/orders-*"`).
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import { signerProblem, type ApproverKeys } from '../src/domain/allowed-signers';
import { fingerprint, parseSshSignature, SshSignatureError, utf8, verifySshSignature } from '../src/domain/ssh-signature';

export type ApprovalDecision = 'approve' | 'reject';

/** The SSH signature namespace (`ssh-keygen -Y sign -n …`) of the approvals of the restore under `workflowId`. */
export const approvalNamespace = (workflowId: string): string => `flink-paimon-ops:${workflowId}`;

/** JSON with object keys sorted and undefined left out: the same text wherever the plan is read. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonical(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** `sha256:<hex>` of the plan as shown (its `digest` field left out): what the approver read. */
export function planDigest(plan: object): string {
  const { digest: _digest, ...shown } = plan as { digest?: string };
  return `sha256:${bytesToHex(sha256(utf8(canonical(shown))))}`;
}

export interface ApprovalSubject {
  decision: ApprovalDecision;
  approver: string;
  workflowId: string;
  runId: string;
  planVersion: number;
  planDigest: string;
}

/** The text signed: one `name: value` line each, ending with a newline (printf can write it by hand). */
export function approvalStatement(s: ApprovalSubject): string {
  return [
    'flink-paimon-ops restore approval',
    `decision: ${s.decision}`,
    `approver: ${s.approver}`,
    `workflow-id: ${s.workflowId}`,
    `run-id: ${s.runId}`,
    `plan-version: ${s.planVersion}`,
    `plan-digest: ${s.planDigest}`,
    '',
  ].join('\n');
}

/** Who signed, as kept with the approval (the history holds the signature itself in the update's input). */
export interface ApprovalProof {
  kind: 'ssh-signature';
  /** the signing key's fingerprint, as `ssh-keygen -l` prints it */
  key: string;
  planDigest: string;
}

/**
 * Checks `signature` for `subject` against the approvers' keys at `now` (epoch ms): the proof, or
 * why it is refused. Never throws: a malformed signature is a refusal like any other.
 */
export function checkApprovalSignature(
  signature: unknown,
  subject: ApprovalSubject,
  keys: ApproverKeys,
  now: number,
): { proof: ApprovalProof } | { problem: string } {
  if (keys.problem !== undefined) return { problem: `no approval can be verified now: ${keys.problem}` };
  if (signature === undefined || signature === '') {
    return {
      problem:
        `an approval needs the approver's SSH signature (field 'signature') of this plan: savepointctl ${subject.decision} signs it; ` +
        `by hand: README, "Signing an approval" (plan v${subject.planVersion}, digest ${subject.planDigest})`,
    };
  }
  const namespace = approvalNamespace(subject.workflowId);
  try {
    const sig = parseSshSignature(signature as string);
    const key = fingerprint(sig.publicKey);
    if (sig.namespace !== namespace) return { problem: `the signature is for namespace '${sig.namespace}', an approval of this restore is signed in '${namespace}'` };
    const notAllowed = signerProblem(keys.signers, subject.approver, sig.publicKey, namespace, now);
    if (notAllowed !== undefined) return { problem: `key ${key} may not sign as '${subject.approver}': ${notAllowed}` };
    if (!verifySshSignature(sig, utf8(approvalStatement(subject)), namespace)) {
      return {
        problem:
          `the signature by ${key} does not match this ${subject.decision === 'approve' ? 'approval' : 'rejection'} by '${subject.approver}' of ` +
          `plan v${subject.planVersion} (digest ${subject.planDigest}) of run ${subject.runId}: it was made for another plan, run, decision or approver, or altered`,
      };
    }
    return { proof: { kind: 'ssh-signature', key, planDigest: subject.planDigest } };
  } catch (err) {
    if (err instanceof SshSignatureError) return { problem: `malformed signature: ${err.message}` };
    return { problem: `malformed signature: ${String((err as Error)?.message ?? err)}` };
  }
}
