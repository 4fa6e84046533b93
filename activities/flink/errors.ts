// Flink REST answers turned into the failures workflows act on.
import { FailureType, fatal } from '../errors';
import { HttpStatusError } from '../http';

/**
 * Runs a call against one job. Flink says it does not know the job with an HTTP 404, except for
 * GET /jobs/:jobid/status, which answers 500 with the Dispatcher's FlinkJobNotFoundException.
 */
export async function onJob<T>(jobId: string, attempted: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof HttpStatusError && isUnknownJob(err)) throw jobNotFound(jobId, attempted);
    throw err;
  }
}

function isUnknownJob(err: HttpStatusError): boolean {
  return (err.status === 404 && /job/i.test(err.detail)) || (err.status === 500 && /FlinkJobNotFoundException/.test(err.detail));
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

