// Workflow side of the checks before anything is stopped: every version an operation may start
// (an upgrade's new version and the old one its compensation would start again, a restore's
// version) is checked by one activity, and a job that has not completed a checkpoint lately is
// refused before a savepoint is triggered on it.
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities, RecentCheckpoint } from '../activities/contract';
import type { Deployment, JobSummary, TableRef } from '../src/domain/model';
import { restCall, submitCall } from './activity-options';

/** Histories recorded before it started no deployment check. */
export const CHECK_DEPLOYMENTS = 'check-deployments-before-stop';
/** Histories recorded before it triggered savepoints without looking at the job's checkpoints. */
export const REFUSE_WITHOUT_RECENT_CHECKPOINT = 'refuse-without-recent-checkpoint';

const rest = proxyActivities<Activities>(restCall);
// Compiling a script goes through a gateway session and a jar is uploaded: a deploy's budget.
const submit = proxyActivities<Activities>(submitCall);

/**
 * Fails with DeploymentCheckFailed (non-retryable) naming each file and its problem; a run whose
 * history predates the patch skips it, as it did then.
 */
export async function checkDeploymentsBeforeStop(deployments: Deployment[], sinkTables: TableRef[]): Promise<void> {
  if (!patched(CHECK_DEPLOYMENTS)) return;
  await submit.checkDeployments({ deployments, sinkTables });
}

/**
 * A crash-looping job is RUNNING or RESTARTING by turns: either way, a job without a recent
 * completed checkpoint is refused with its own cause (NoRecentCheckpoint), before anything is
 * triggered. Other states are left to the caller's own refusal. Gives the checkpoint it found.
 */
export async function requireRecentCheckpointOf(
  job: JobSummary,
  check: Pick<Activities, 'requireRecentCheckpoint'> = rest,
): Promise<RecentCheckpoint | undefined> {
  if (job.state !== 'RUNNING' && job.state !== 'RESTARTING') return undefined;
  if (!patched(REFUSE_WITHOUT_RECENT_CHECKPOINT)) return undefined;
  return check.requireRecentCheckpoint({ jobId: job.jobId });
}
