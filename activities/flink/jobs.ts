// Cluster and job lookups, and cancel: observe first, then act.
import type { JobSummary } from '../../src/domain/model';
import { flinkLine, supportedFlinkLines } from '../compat';
import { FailureType, fatal } from '../errors';
import type { FlinkClient } from './client';
import { onJob } from './errors';
import { JobInput, ResolveJobInput, parseInput } from './inputs';
import type { JobDetailsInfo } from './schemas';

export const TERMINAL_STATES: ReadonlySet<string> = new Set(['FAILED', 'CANCELED', 'FINISHED']);

export function summary(job: { jid: string; name: string; state: JobSummary['state']; 'start-time': number }): JobSummary {
  return { jobId: job.jid, name: job.name, state: job.state, startTime: job['start-time'] };
}

export async function checkFlinkCluster(flink: FlinkClient) {
  const { 'flink-version': flinkVersion } = await flink.config();
  if (flinkLine(flinkVersion) === undefined) {
    throw fatal(
      FailureType.UnsupportedFlinkVersion,
      `checking the Flink cluster at ${flink.http.baseUrl}: it runs Flink ${flinkVersion}, and these workflows ` +
        `support Flink ${supportedFlinkLines()} (README: compatibility). Point FLINK_REST_URL at a cluster of one of those.`,
    );
  }
  const overview = await flink.overview();
  return { flinkVersion, taskManagers: overview.taskmanagers, slotsAvailable: overview['slots-available'] };
}

/**
 * The job's details with its state as of now. Flink answers GET /jobs/:jobid from a cache that
 * lives for web.refresh-interval (3 s by default): right after a stop-with-savepoint it still says
 * RUNNING, and a savepoint triggered on that word fails with "Could not find Flink job".
 */
export async function jobDetails(flink: FlinkClient, jobId: string, attempted: string): Promise<JobDetailsInfo> {
  const [details, state] = await Promise.all([onJob(jobId, attempted, () => flink.jobDetails(jobId)), jobState(flink, jobId, attempted)]);
  return { ...details, state };
}

/** The job's state as the Dispatcher has it now (GET /jobs/:jobid/status is not cached). */
export async function jobState(flink: FlinkClient, jobId: string, attempted: string): Promise<JobDetailsInfo['state']> {
  return (await onJob(jobId, attempted, () => flink.jobStatus(jobId))).status;
}

export async function getJob(flink: FlinkClient, input: unknown): Promise<JobSummary> {
  const { jobId } = parseInput('getJob', JobInput, input);
  return summary(await jobDetails(flink, jobId, `looking up job ${jobId}`));
}

export async function resolveJob(flink: FlinkClient, input: unknown): Promise<JobSummary> {
  const { job } = parseInput('resolveJob', ResolveJobInput, input);
  if ('jobId' in job) return summary(await jobDetails(flink, job.jobId, `resolving job ${job.jobId}`));
  const { jobs } = await flink.jobsOverview();
  const matches = jobs.filter((j) => j.name === job.jobName && !TERMINAL_STATES.has(j.state));
  if (matches.length === 0) {
    throw fatal(
      FailureType.JobNotFound,
      `resolving job name '${job.jobName}': no running job has that name (terminated jobs do not count). ` +
        'Check the name in the Flink UI, or give the job id.',
    );
  }
  if (matches.length > 1) {
    throw fatal(
      FailureType.JobNameAmbiguous,
      `resolving job name '${job.jobName}': ${matches.length} live jobs have that name ` +
        `(${matches.map((j) => `${j.jid} ${j.state}`).join(', ')}). Give the job id instead.`,
    );
  }
  return summary(matches[0]!);
}

/** Cancels a job; a job that already terminated counts as cancelled (a retry must not fail). */
export async function cancelJob(flink: FlinkClient, input: unknown): Promise<void> {
  const { jobId } = parseInput('cancelJob', JobInput, input);
  const attempted = `cancelling job ${jobId}`;
  if (TERMINAL_STATES.has(await jobState(flink, jobId, attempted))) return;
  await onJob(jobId, attempted, () => flink.cancel(jobId));
}
