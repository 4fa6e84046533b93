// Flink REST answers turned into the failures workflows act on.
import { FailureType, fatal } from '../errors';
import { HttpStatusError } from '../http';

/** Runs a call against one job; an HTTP 404 means Flink does not know the job. */
export async function onJob<T>(jobId: string, attempted: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof HttpStatusError && err.status === 404 && /job/i.test(err.detail)) {
      throw jobNotFound(jobId, attempted);
    }
    throw err;
  }
}

export function jobNotFound(jobId: string, attempted: string) {
  return fatal(
    FailureType.JobNotFound,
    `${attempted}: Flink does not know job ${jobId}. Check the job id (GET /jobs/overview lists the jobs) ` +
      'and that FLINK_REST_URL points at the cluster that runs it.',
  );
}

export function jobNotRunning(jobId: string, state: string, attempted: string) {
  return fatal(
    FailureType.JobNotRunning,
    `${attempted}: job ${jobId} is ${state}, not RUNNING. Look at the job in the Flink UI; ` +
      'restore it from its last savepoint if it should be running.',
  );
}

