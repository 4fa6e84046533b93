// Start a version of a job from a savepoint and wait until it is healthy: the one place where an
// operation starts a job (the restore's deploy and its restart of the writer, the upgrade's new
// version and its undo, the restart after a failed stop).
//
// The seam where a job runs: `startVersion(version, started?) → { jobId, health }`. It submits
// `version.deployment` from `savepointPath` (with `token` as the deploy's idempotency token, at
// `parallelism` when given, with `allowNonRestoredState` when set), calls `started(jobId)` as soon
// as the job is submitted (the caller notes the job id and registers its undo there, before the
// wait), then waits up to `healthTimeout` ms for it to be healthy (RUNNING and a checkpoint
// completed since the submit). It never throws for an unhealthy job: `health` says so, and each
// caller decides what that means. Where the job runs is `placement` (workflows/placement.ts): left
// out, the session cluster; an application target's launcher starts a cluster of its own, and
// deployJob records it so the job's id leads the later activities to that cluster.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities, DeployParallelism } from '../activities/contract';
import type { Deployment, HealthReport } from '../src/domain/model';
import { longRunning, submitCall } from './activity-options';
import type { Placement } from './placement';

const submit = proxyActivities<Activities>(submitCall);
const waitUpTo = (timeoutMs: number) => proxyActivities<Activities>(longRunning(timeoutMs));

export interface VersionToStart {
  deployment: Deployment;
  /** the deploy's idempotency token (stepToken of the step): a retried submit finds the job it started */
  token: string;
  savepointPath: string;
  parallelism?: DeployParallelism;
  allowNonRestoredState?: boolean;
  healthTimeout: number;
  /** the job's target and name (placementOf); nothing for the session cluster */
  placement?: Placement;
}

export interface StartedVersion {
  jobId: string;
  health: HealthReport;
}

export async function startVersion(version: VersionToStart, started: (jobId: string) => void = () => {}): Promise<StartedVersion> {
  const { deployment, token, savepointPath, parallelism, allowNonRestoredState, healthTimeout, placement } = version;
  const since = Date.now();
  const { jobId } = await submit.deployJob({
    deployment,
    deployToken: token,
    ...placement,
    savepointPath,
    ...(allowNonRestoredState ? { allowNonRestoredState: true } : {}),
    ...(parallelism ? { parallelism } : {}),
  });
  started(jobId);
  const health = await waitUpTo(healthTimeout).awaitHealthy({ jobId, since, timeoutMs: healthTimeout });
  return { jobId, health };
}
