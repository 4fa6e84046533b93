// What the workflows may ask of the approvers' keys; they see it through activities/contract.ts.
import type { ApproverKeys } from '../../src/domain/allowed-signers';

/** The approvers' keys (activities/approvers): the allowed-signers file the approvals are verified against. */
export interface ApproverActivities {
  /**
   * The file's keys once its version differs from `since` (at once when `since` is absent), or
   * the same keys after `maxWaitMs`. Heartbeats while it waits; a missing or unset file is an
   * answer (its `problem`), not a failure.
   */
  awaitApproverKeys(input: { since?: string; maxWaitMs: number }): Promise<ApproverKeys>;
}
