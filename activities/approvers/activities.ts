// The approvers' keys: the worker reads the allowed-signers file (APPROVERS_ALLOWED_SIGNERS) for
// the restore workflow, which cannot read files. One long poll per change: the workflow asks
// with the version it holds and gets an answer when the file's bytes differ (a key added or
// removed), or after `maxWaitMs` with the same keys, so its history grows by one activity per
// change, not per poll.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import type { Config } from '../../src/config/config';
import { parseAllowedSigners, type ApproverKeys } from '../../src/domain/allowed-signers';
import type { ApproverActivities } from '../contract';

/** How often the file is read while nothing changed: a removed key stops counting within about this long. */
export const ALLOWED_SIGNERS_POLL_MS = 1_000;

export async function readApproverKeys(file: string | undefined): Promise<ApproverKeys> {
  if (file === undefined) {
    return {
      version: 'none',
      signers: [],
      problems: [],
      problem: "this worker has no approvers' keys (APPROVERS_ALLOWED_SIGNERS is not set): no approval or rejection can be verified",
    };
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? String(err);
    return { source: file, version: `unreadable: ${why}`, signers: [], problems: [], problem: `cannot read the allowed-signers file ${file} (${why})` };
  }
  const { signers, problems } = parseAllowedSigners(bytes.toString('utf8'));
  return {
    source: file,
    version: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    signers,
    problems,
    ...(signers.length === 0 ? { problem: `the allowed-signers file ${file} lists no usable key` } : {}),
  };
}

export function createApproverActivities(config: Config): ApproverActivities {
  const file = config.approvals.allowedSignersFile;
  return {
    async awaitApproverKeys({ since, maxWaitMs }) {
      const deadline = Date.now() + maxWaitMs;
      for (;;) {
        const keys = await readApproverKeys(file);
        if (keys.version !== since || Date.now() >= deadline) return keys;
        Context.current().heartbeat();
        // Rejects when the workflow cancels the wait (the approval came): nothing to clean up.
        await Context.current().sleep(Math.min(ALLOWED_SIGNERS_POLL_MS, Math.max(0, deadline - Date.now())));
      }
    },
  };
}
