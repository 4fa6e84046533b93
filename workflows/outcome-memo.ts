// How an operation ended, where the Temporal UI shows it without opening the history: the memo
// (kept by the server with the closed run, shown on the workflow's page and in list views) and
// the current details (the UI asks the running workflow). A refusal before the stop (bad path,
// compile error, another writer) throws before any result: its reason goes there too.
import { isCancellation, patched, setCurrentDetails, upsertMemo } from '@temporalio/workflow';
import { messageOf } from './saga';

/** Histories recorded before this patch set no outcome memo. */
export const OUTCOME_MEMO = 'outcome-memo';

/** Runs the operation; records its outcome and reason (or the failure's reason) as it ends. */
export async function withOutcomeMemo<R extends { status: string; reason?: string }>(operation: () => Promise<R>): Promise<R> {
  let result: R;
  try {
    result = await operation();
  } catch (err) {
    record(isCancellation(err) ? 'cancelled' : 'failed', messageOf(err));
    throw err;
  }
  record(result.status, result.reason);
  return result;
}

function record(outcome: string, reason: string | undefined): void {
  // Current details produce no command: safe in every history. The memo is a command.
  setCurrentDetails(`**${outcome}**${reason ? `: ${reason}` : ''}`);
  if (patched(OUTCOME_MEMO)) upsertMemo({ outcome, reason: reason ?? null });
}
