// A workflow that only checks approval signatures, as the restore's validator does, for the test of
// the modules every run shares (workflows/preload.ts).
import { sha256 } from '@noble/hashes/sha2';
import { parseAllowedSigners } from '../../../src/domain/allowed-signers';
import { checkApprovalSignature, type ApprovalSubject } from '../../../workflows/approval-proof';

export interface SignatureChecks {
  allowedSigners: string;
  checks: { signature: string; subject: ApprovalSubject }[];
  now: number;
}

export async function signatureCheckWorkflow(input: SignatureChecks): Promise<{ hashesShared: boolean; results: string[] }> {
  const keys = { version: 'test', ...parseAllowedSigners(input.allowedSigners) };
  return {
    // The SDK deep-freezes the modules it shares between runs, and only those: noble leaves its hash functions unfrozen.
    hashesShared: Object.isFrozen(sha256),
    results: input.checks.map(({ signature, subject }) => {
      const checked = checkApprovalSignature(signature, subject, keys, input.now);
      return 'proof' in checked ? 'accepted' : checked.problem;
    }),
  };
}
