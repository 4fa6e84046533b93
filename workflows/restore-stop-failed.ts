// A restore's stop-with-savepoint that failed. Nothing is rolled back yet and no undo branch is
// made, so what matters is the writer: Flink may have restarted it (a failover before the savepoint:
// "Not all required tasks are currently running"), or it may have ended FAILED (a failure while it
// stopped: "A savepoint has been created at ..., but the corresponding job ... failed during
// stopping", measured with a second writer's commit conflicts). The restore looks at what Flink
// shows, says it, and starts a writer that is no longer running again from its latest completed
// checkpoint or savepoint, at the parallelism it ran at, as the restore's "restart the writer" does.
import { ApplicationFailure, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { Activities, DeployParallelism, RetainedState } from '../activities/contract';
import { FailureType } from '../src/domain/failure-types';
import { humanDuration } from '../src/domain/durations';
import type { Deployment, JobState } from '../src/domain/model';
import { longRunning, restCall } from './activity-options';
import { failureType, fatal, STOPPED } from './job-steps';
import type { Progress } from './progress';
import type { PlanOtherWriter, RestoreStatus } from './restore-messages';
import { messageOf } from './saga';
import type { Placement } from './placement';
import { startVersion } from './start-version';
import { stepToken } from './tokens';

const rest = proxyActivities<Activities>(restCall);
const waitUpTo = (timeoutMs: number) => proxyActivities<Activities>(longRunning(timeoutMs));

/** Histories recorded before this patch ended a failed stop with the activity's failure alone. */
export const RESTORE_ACTS_ON_FAILED_STOP = 'restore-acts-on-failed-stop';

export interface FailedStop {
  jobId: string;
  /** the stop's failure */
  err: unknown;
  deployment: Deployment;
  parallelism?: DeployParallelism;
  healthTimeout: number;
  /** where the writer runs (workflows/placement.ts) */
  placement?: Placement;
  otherWriters: PlanOtherWriter[];
  progress: Progress<RestoreStatus>;
}

const NOTHING_CHANGED = 'Nothing was rolled back and no undo branch was made: every sink table holds what the writers committed.';

/** The failure the restore ends with, once the writer is running again or its state is said. */
export async function afterFailedStop(f: FailedStop): Promise<unknown> {
  if (isCancellation(f.err)) return f.err;
  // The stop activity's own failure names the job and the trigger; a timeout names neither.
  const said = messageOf(f.err).replace(/\.\s*$/, '');
  const stop = said.startsWith('stop-with-savepoint') ? said : `stop-with-savepoint of job ${f.jobId} failed: ${said}`;
  const end = (message: string) => fatal(failureType(f.err) ?? FailureType.SavepointFailed, message);
  let seen = await observe(f.jobId);
  // Flink's restart strategy is bringing it back, or it is still failing: wait until it settles.
  if (seen.state !== 'RUNNING' && !ended(seen.state)) {
    const health = await waitUpTo(f.healthTimeout).awaitHealthy({ jobId: f.jobId, since: Date.now(), timeoutMs: f.healthTimeout });
    seen = health.healthy ? { ...seen, state: 'RUNNING' } : await observe(f.jobId);
  }
  f.progress.note({ writerAfterFailedStop: { jobId: f.jobId, state: seen.state } });
  const hint = otherWritersHint(f.otherWriters);
  if (seen.state === 'RUNNING') {
    return end(`${stop}. Flink shows job ${f.jobId} RUNNING: it keeps running as before. ${NOTHING_CHANGED}${hint} Then start the restore again.`);
  }
  if (!ended(seen.state)) {
    return end(
      `${stop}. Flink shows job ${f.jobId} ${seen.state} after ${humanDuration(f.healthTimeout)}: its restart strategy may still bring it back, ` +
        `so this restore started no second one. ${NOTHING_CHANGED} Look at the job in the Flink UI; if it ends FAILED, start ` +
        `${f.deployment.version} again from ${seen.retained ? `${seen.retained.kind} ${seen.retained.id} at ${seen.retained.path}` : 'its latest completed checkpoint or savepoint'}.${hint}`,
    );
  }

  const was = seen.state === 'GONE' ? 'no longer known to Flink' : seen.state;
  if (!seen.retained) {
    const gone = seen.gone?.length ? ` (gone: ${seen.gone.join('; ')})` : '';
    return end(
      `${stop}. Flink then showed job ${f.jobId} ${was}, and lists no completed checkpoint or savepoint of it whose files are there${gone}: ` +
        `no job of ${f.deployment.version} runs. ${NOTHING_CHANGED} Start ${f.deployment.version} by hand from a savepoint you trust ` +
        `(savepointctl restore-points lists them).${hint}`,
    );
  }
  const from = `${seen.retained.kind} ${seen.retained.id} at ${seen.retained.path}`;
  f.progress.note({ writerAfterFailedStop: { jobId: f.jobId, state: seen.state, restartedFrom: { ...seen.retained } } });
  try {
    const jobId = await restart(f, seen.retained.path);
    return end(
      `${stop}. Flink then showed job ${f.jobId} ${was}, so this restore started ${f.deployment.version} again from its latest ${from} ` +
        `at the parallelism it ran at: job ${jobId}, healthy (RUNNING, a checkpoint completed). ${NOTHING_CHANGED}${hint} Then start the restore again.`,
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    return end(
      `${stop}. Flink then showed job ${f.jobId} ${was}; starting ${f.deployment.version} again from its latest ${from} failed: ${messageOf(err)}. ` +
        `${f.progress.snapshot().restartedJobId ? `Job ${f.progress.snapshot().restartedJobId} was started and is not healthy: look at it in the Flink UI. ` : 'No job of it runs. '}` +
        `${NOTHING_CHANGED} Fix the cause, then start ${f.deployment.version} from ${seen.retained.path} by hand.${hint}`,
    );
  }
}

/** Not running and not coming back by Flink's own restart strategy. */
const ended = (state: JobState | 'GONE'): boolean => state === 'GONE' || STOPPED.includes(state);

async function observe(jobId: string): Promise<Omit<RetainedState, 'state'> & { state: JobState | 'GONE' }> {
  try {
    return await rest.retainedState({ jobId });
  } catch (err) {
    if (failureType(err) === FailureType.JobNotFound) return { jobId, state: 'GONE', retained: null };
    throw err;
  }
}

async function restart(f: FailedStop, path: string): Promise<string> {
  f.progress.enter('restarting-writer');
  const { deployment, parallelism, healthTimeout, placement } = f;
  const { jobId, health } = await startVersion(
    { deployment, token: stepToken('restart-writer-after-failed-stop'), savepointPath: path, parallelism, healthTimeout, placement },
    (jobId) => {
      f.progress.note({ restartedJobId: jobId });
      f.progress.enter('awaiting-writer-health');
    },
  );
  if (!health.healthy) throw ApplicationFailure.nonRetryable(`job ${jobId} is not healthy: ${health.reason ?? health.state}`);
  return jobId;
}

function otherWritersHint(writers: PlanOtherWriter[]): string {
  if (writers.length === 0) return '';
  const names = writers.map((w) => `'${w.name}' (${w.jobId})`).join(', ');
  return (
    ` Job(s) ${names} left running by options.notWriters write a table of the same name: two writers of one table fail each other's ` +
    "commits (Paimon: 'File deletion conflicts detected'), which can fail the stop: stop them before restoring these tables."
  );
}
