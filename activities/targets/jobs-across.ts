// Job lookups that span every cluster a job may run in (activities/targets/clusters.ts): a job is
// identified by its name and target, and its versions' ids and REST addresses change with each launch.
import type { TableJob } from '../contract';
import { FailureType, fatal } from '../errors';
import { resolveJob, TERMINAL_STATES } from '../flink/jobs';
import { findTableJobs, PlanCache } from '../flink/table-jobs';
import type { Clusters } from './clusters';

/** resolveJob over the session cluster and the application clusters: a name must match a live job in exactly one. */
export async function resolveJobAcross(clusters: Clusters, input: unknown) {
  const { job, target } = (input ?? {}) as { job?: { jobId?: unknown; jobName?: unknown }; target?: { kind?: unknown; launcher?: unknown } };
  if (typeof job?.jobId === 'string') return resolveJob(await clusters.ofJob(job.jobId), input);
  if (typeof job?.jobName !== 'string') return resolveJob(clusters.session, input); // its own parse refuses the input
  const live = (await clusters.live()).filter((c) =>
    target?.kind === 'session' ? !c.launch : target?.kind === 'application' ? c.launch?.launcher === target.launcher : true,
  );
  const holding: typeof live = [];
  for (const cluster of live) {
    const { jobs } = await cluster.flink.jobsOverview().catch(() => ({ jobs: [] }));
    if (jobs.some((j) => j.name === job.jobName && !TERMINAL_STATES.has(j.state))) holding.push(cluster);
  }
  if (holding.length > 1) {
    throw fatal(
      FailureType.JobNameAmbiguous,
      `resolving job name '${job.jobName}': live jobs of that name run in ${holding.length} clusters ` +
        `(${holding.map((c) => c.flink.http.baseUrl).join(', ')}). Stop the one that should not run.`,
    );
  }
  if (holding.length === 0 && target?.kind === 'application') {
    throw fatal(
      FailureType.JobNotFound,
      `resolving job name '${job.jobName}': no live job of that name in a cluster the ${String(target.launcher)} launcher started ` +
        '(the launch registry, APP_REGISTRY_DIR). Check the name, or the target.',
    );
  }
  return resolveJob(holding[0]?.flink ?? clusters.session, { job });
}

/** findTableJobs over every live cluster: another writer may run in a cluster of its own. */
export async function findTableJobsAcross(clusters: Clusters, input: unknown, sessionPlans: PlanCache): Promise<TableJob[]> {
  const live = await clusters.live();
  const found = await Promise.all(
    live.map((cluster) =>
      cluster.launch ? findTableJobs(cluster.flink, input, new PlanCache()).catch(() => []) : findTableJobs(cluster.flink, input, sessionPlans),
    ),
  );
  return found.flat();
}
