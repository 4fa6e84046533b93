// The health gate after a deploy: RUNNING is not enough (a crash-looping job is RUNNING between
// restarts); a checkpoint that completed after the deploy shows the job processes and commits.
import { Context } from '@temporalio/activity';
import type { HealthReport } from '../../src/domain/model';
import { rootCause } from '../http';
import type { FlinkClient } from './client';
import { AwaitHealthyInput, parseInput } from './inputs';
import { TERMINAL_STATES, jobState } from './jobs';
import type { PollOptions } from './savepoints';
import { humanDuration } from '../../src/domain/durations';
import { slotShortage } from './slots';

export async function awaitHealthy(flink: FlinkClient, poll: PollOptions, input: unknown): Promise<HealthReport> {
  const { jobId, since, timeoutMs } = parseInput('awaitHealthy', AwaitHealthyInput, input);
  const attempted = `waiting for job ${jobId} to become healthy`;
  const started = Date.now();
  const deadline = started + timeoutMs;
  // The JobManager fetches metrics in the background (metrics.fetcher.update-interval) and answers
  // with what it has, which is nothing the first time: ask now so numRestarts is there at the end.
  await flink.jobMetrics(jobId, ['numRestarts']).catch(() => undefined);
  for (;;) {
    const state = await jobState(flink, jobId, attempted);
    if (state === 'RUNNING') {
      const checkpointId = await firstCheckpointSince(flink, jobId, since);
      if (checkpointId !== undefined) return { healthy: true, jobId, state, checkpointId };
    }
    const now = Date.now();
    if (TERMINAL_STATES.has(state) || now >= deadline) {
      const waited = TERMINAL_STATES.has(state) ? '' : ` within ${humanDuration(timeoutMs)}`;
      const { text, exception } = await trouble(flink, jobId);
      // A job short of slots is not broken: say so first, in plain words, with the remedy.
      const slots = TERMINAL_STATES.has(state) && !exception ? undefined : await slotShortage(flink, jobId, exception);
      const reason = `${slots ? `${slots} ` : ''}job ${jobId} is ${state}; no checkpoint completed since ${new Date(since).toISOString()}${waited}; ${text}`;
      return { healthy: false, jobId, state, reason };
    }
    // While it waits, the operator sees a job that waits for slots as such (savepointctl --wait prints it).
    const slots = await slotShortage(flink, jobId).catch(() => undefined);
    Context.current().heartbeat({ jobId, state, waitedMs: now - started, ...(slots ? { slots } : {}) });
    await Context.current().sleep(Math.min(poll.pollIntervalMs, deadline - now));
  }
}

async function firstCheckpointSince(flink: FlinkClient, jobId: string, since: number): Promise<number | undefined> {
  const stats = await flink.checkpoints(jobId);
  const ids = [stats.latest.completed, ...stats.history]
    .filter((c) => c && c.status === 'COMPLETED' && c.trigger_timestamp >= since)
    .map((c) => c!.id);
  return ids.length > 0 ? Math.min(...ids) : undefined;
}

const MAX_EXCEPTIONS = 100;

/** "restarted 3 times; last exception: ArithmeticException: / by zero" from what Flink recorded. */
async function trouble(flink: FlinkClient, jobId: string): Promise<{ text: string; exception?: string }> {
  const [metrics, exceptions] = await Promise.all([
    flink.jobMetrics(jobId, ['numRestarts']).catch(() => []),
    flink.exceptions(jobId, MAX_EXCEPTIONS).catch(() => undefined),
  ]);
  const history = exceptions?.exceptionHistory;
  // The metric can be up to metrics.fetcher.update-interval old; the exception history is current
  // but keeps only web.exception-history-size failures (each failure is one entry, one restart).
  const metric = Number(metrics.find((m) => m.id === 'numRestarts')?.value ?? NaN);
  const failures = history?.entries.length ?? 0;
  const restarts =
    metric >= failures ? String(metric) : history ? `${history.truncated ? 'at least ' : ''}${failures}` : 'an unknown number of';
  const latest = history?.entries[0];
  const stack = latest?.stacktrace ?? exceptions?.['root-exception'] ?? undefined;
  const exception = stack ? rootCause(stack) : (latest?.exceptionName ?? 'none recorded');
  return { text: `restarted ${restarts} times; last exception: ${exception}`, exception: stack ? exception : undefined };
}
