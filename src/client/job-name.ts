// Operations are keyed by the Flink job's name (flink-job/<name>): a job given by id is looked up
// first, so that a start by id and a start by name of the same job meet on one workflow id and
// the second is refused. The name, not the id, because an upgrade gives the job a new id.
import { FlinkClient, type FlinkClientConfig } from '../../activities/flink/client';
import { resolveJob } from '../../activities/flink/jobs';
import { loadConfig } from '../config/config';
import type { JobRef } from '../domain/model';

/** The name of the job with this id, from the Flink cluster; JobLookupError when Flink has none. */
export type JobNameOf = (jobId: string) => Promise<string>;

/** Flink could not say which job an id is: nothing was started. */
export class JobLookupError extends Error {
  constructor(
    message: string,
    readonly type?: string,
  ) {
    super(message);
    this.name = 'JobLookupError';
  }
}

/** Job names from the JobManager's REST API (FLINK_REST_URL and its auth, from the env by default). */
export function flinkJobNames(flink: FlinkClientConfig = loadConfig().flink): JobNameOf {
  return async (jobId) => {
    const client = new FlinkClient(flink);
    try {
      return (await resolveJob(client, { job: { jobId } })).name;
    } catch (err) {
      const { message, type } = err as { message?: string; type?: string };
      throw new JobLookupError(message ?? String(err), type);
    } finally {
      await client.close();
    }
  };
}

/** The job's name, looked up when the job is given by id. */
export async function jobNameOf(job: JobRef, lookUp?: JobNameOf): Promise<string> {
  return 'jobName' in job ? job.jobName : (lookUp ?? flinkJobNames())(job.jobId);
}
