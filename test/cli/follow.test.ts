// savepointctl --wait: every step is printed, also one that began and ended between two polls.
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { Context } from '../../src/cli/context';
import { follow } from '../../src/cli/follow';

/** A workflow handle whose status query answers `statuses` in turn, and which ends after the last. */
function scriptedHandle(statuses: { step: string; timings: { step: string }[] }[]): WorkflowHandle {
  let i = 0;
  let finish: (value: string) => void;
  const result = new Promise<string>((resolve) => (finish = resolve));
  return {
    query: async () => {
      const status = statuses[Math.min(i, statuses.length - 1)]!;
      i += 1;
      if (i >= statuses.length) setTimeout(() => finish('done'), 10);
      return status;
    },
    describe: async () => ({ raw: { pendingActivities: [] } }),
    result: () => result,
  } as unknown as WorkflowHandle;
}

describe('follow', () => {
  it('prints each step once, in order, including the ones a poll missed', async () => {
    const lines: string[] = [];
    const ctx = { json: false, out: (line = '') => lines.push(line) } as unknown as Context;
    const t = (...steps: string[]) => steps.map((step) => ({ step }));
    const handle = scriptedHandle([
      { step: 'preflight', timings: t('validating-input', 'preflight') },
      // stopping-with-savepoint and awaiting-tag both happened between these two polls
      { step: 'deploying-new-version', timings: t('validating-input', 'preflight', 'stopping-with-savepoint', 'awaiting-tag', 'deploying-new-version') },
      { step: 'deploying-new-version', timings: t('validating-input', 'preflight', 'stopping-with-savepoint', 'awaiting-tag', 'deploying-new-version') },
    ]);
    await expect(follow(ctx, handle)).resolves.toBe('done');
    expect(lines).toEqual(['  validating-input', '  preflight', '  stopping-with-savepoint', '  awaiting-tag', '  deploying-new-version']);
  });
});
