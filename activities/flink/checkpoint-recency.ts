// Before a savepoint is triggered: has the job completed a checkpoint recently? A savepoint is a
// checkpoint too, and a job that crash-loops or fails every checkpoint will not complete one;
// Flink then answers with its own words ("Checkpoint Coordinator is suspending") after the stop
// was already asked for. Refused at once instead, with the job's own cause.
//
// "Recent" means both:
// - the checkpoint was triggered after the job last (re)started: after its latest entry into
//   RUNNING and after its latest recorded failure (a region failover restarts tasks without
//   leaving RUNNING, so the state timestamps alone miss it);
// - it completed within the maximum age: FLINK_CHECKPOINT_MAX_AGE_MS, or three of the job's
//   checkpoint intervals (GET /jobs/:id/checkpoints/config), at least 60 s.
import type { RecentCheckpoint } from '../contract';
import { FailureType, fatal } from '../errors';
import { HttpStatusError, rootCause } from '../http';
import type { FlinkClient } from './client';
import { onJob } from './errors';
import { JobInput, parseInput } from './inputs';
import type { CheckpointStatistics } from './schemas';

const MIN_MAX_AGE_MS = 60_000;
const INTERVALS = 3;

export async function requireRecentCheckpoint(
  flink: FlinkClient,
  maxAgeMs: number | undefined,
  input: unknown,
): Promise<RecentCheckpoint> {
  const { jobId } = parseInput('requireRecentCheckpoint', JobInput, input);
  const attempted = `checking the recent checkpoints of job ${jobId}`;
  const [details, stats, exceptions, interval] = await onJob(jobId, attempted, () =>
    Promise.all([flink.jobDetails(jobId), flink.checkpoints(jobId), flink.exceptions(jobId, 1), checkpointInterval(flink, jobId)]),
  );
  const job = `job '${details.name}' (${jobId})`;
  if (interval === undefined) {
    throw fatal(
      FailureType.NoRecentCheckpoint,
      `${job} has checkpointing disabled: Paimon commits only on checkpoints and tags a savepoint when one commits. Nothing was triggered.`,
    );
  }
  const now = details.now ?? Date.now();
  const lastFailure = exceptions.exceptionHistory?.entries[0]?.timestamp ?? exceptions.timestamp ?? 0;
  const lastRunning = details.timestamps?.RUNNING ?? details['start-time'];
  const lastStart = Math.max(lastRunning, lastFailure);
  const maxAge = maxAgeMs ?? Math.max(MIN_MAX_AGE_MS, INTERVALS * interval);
  const latest = latestCompleted(stats.latest.completed, stats.latest.savepoint);
  const at = (ms: number) => new Date(ms).toISOString();

  let why: string | undefined;
  if (!latest) why = 'no checkpoint has completed since it started';
  else if (latest.trigger_timestamp < lastStart) {
    why = `no checkpoint has completed since it last (re)started at ${at(lastStart)} (the latest, ${latest.id}, was triggered at ${at(latest.trigger_timestamp)})`;
  } else if (now - latest.latest_ack_timestamp > maxAge) {
    why = `its latest completed checkpoint, ${latest.id}, completed at ${at(latest.latest_ack_timestamp)}, more than ${maxAge} ms ago`;
  }
  if (why === undefined) return { jobId, checkpointId: latest!.id, completedAt: latest!.latest_ack_timestamp };

  const history = exceptions.exceptionHistory?.entries[0];
  const stack = history?.stacktrace ?? exceptions['root-exception'] ?? undefined;
  const failedCheckpoint = stats.latest.failed ?? stats.history.find((c) => c.status === 'FAILED');
  const cause = stack
    ? `its latest exception (${at(history?.timestamp ?? exceptions.timestamp ?? 0)}): ${rootCause(stack)}`
    : failedCheckpoint
      ? `its latest failed checkpoint ${failedCheckpoint.id}: ${failedCheckpoint.failure_message ?? 'no failure message'}`
      : `no exception or failed checkpoint recorded (state ${details.state})`;
  // A job that (re)started moments ago, with nothing failing, is not broken: it has not checkpointed yet.
  const justStarted = !stack && !failedCheckpoint && now - lastStart <= maxAge;
  const advice = justStarted
    ? `It (re)started ${Math.round((now - lastStart) / 1000)} s ago and nothing failed: wait for its first checkpoint (every ${interval} ms) and start again.`
    : 'Fix the job (or wait for a checkpoint) and start again.';
  throw fatal(
    FailureType.NoRecentCheckpoint,
    `${job} has no recent completed checkpoint: ${why}; ${cause.replace(/\.$/, '')}. A savepoint would not complete either, so nothing was ` +
      `triggered. ${advice}`,
  );
}

function latestCompleted(...candidates: (CheckpointStatistics | null | undefined)[]): CheckpointStatistics | undefined {
  return candidates
    .filter((c): c is CheckpointStatistics => !!c && c.status === 'COMPLETED')
    .sort((a, b) => b.latest_ack_timestamp - a.latest_ack_timestamp)[0];
}

/** The job's checkpoint interval; undefined when checkpointing is disabled (Flink answers 404). */
async function checkpointInterval(flink: FlinkClient, jobId: string): Promise<number | undefined> {
  try {
    const { interval } = await flink.checkpointConfig(jobId);
    // Older releases reported a disabled checkpointing as an interval of Long.MAX_VALUE.
    return interval > 0 && interval < Number.MAX_SAFE_INTEGER ? interval : undefined;
  } catch (err) {
    if (err instanceof HttpStatusError && err.status === 404 && /checkpoint/i.test(err.detail)) return undefined;
    throw err;
  }
}
