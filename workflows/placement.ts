// Where a version is started, as deployJob takes it: the job's target and name. Session jobs send
// what they always sent (nothing), so their activity inputs stay as recorded histories have them.
import type { DeploymentTarget } from '../src/domain/deployment-target';
import type { JobRef } from '../src/domain/model';

export type Placement = { target?: DeploymentTarget; jobName?: string };

export function placementOf(target: DeploymentTarget, job: JobRef | string): Placement {
  if (target.kind === 'session') return {};
  const jobName = typeof job === 'string' ? job : 'jobName' in job ? job.jobName : undefined;
  return { target, ...(jobName ? { jobName } : {}) };
}
