// The restore's last step: start the job from the restore point's savepoint, once every sink table
// is back at its tag, and let the health gate say whether it runs. A failure here leaves the tables
// rolled back, so it says how to finish by hand or undo.
import { ApplicationFailure } from '@temporalio/workflow';
import type { DeployParallelism } from '../activities/contract';
import { humanDuration } from '../src/domain/durations';
import type { TableRef } from '../src/domain/model';
import { fatal } from './job-steps';
import { droppedStateText, WorkflowFailureType } from './messages';
import type { Progress } from './progress';
import type { RestoreParams } from './restore-input';
import type { RestorePlan, RestoreStatus } from './restore-messages';
import { messageOf } from './saga';
import { placementOf } from './placement';
import { startVersion } from './start-version';
import { stepToken } from './tokens';

export interface RestoredRun {
  plan: RestorePlan;
  /** the tables rolled back to the restore point's tag */
  rolled: TableRef[];
  /** the parallelism the writer ran at when this restore stopped it */
  parallelism?: DeployParallelism;
  undoInstructions: string;
  /** work beside the deploy that the restore awaits before it ends, failed or not (it never fails) */
  alongside?: Promise<void>;
}

/** The restored job's deploy step: its token is the one the cluster prepared before the stop is kept under. */
export const DEPLOY_RESTORED = 'deploy-restored';

/** Starts the restored job; RestoreUnhealthy or RestoreIncomplete, with the way on by hand, when it does not run. */
export async function deployRestored(
  { plan, rolled, parallelism, undoInstructions, alongside }: RestoredRun,
  { deployment, options, target, job }: Pick<RestoreParams, 'deployment' | 'options' | 'target' | 'job'>,
  progress: Progress<RestoreStatus>,
): Promise<void> {
  const { allowNonRestoredState, healthTimeout } = options;
  try {
    progress.enter('deploying');
    const version = { deployment, token: stepToken(DEPLOY_RESTORED), savepointPath: plan.restorePoint.path, allowNonRestoredState, parallelism, healthTimeout, placement: placementOf(target, job) };
    const { jobId, health } = await startVersion(version, (newJobId) => {
      progress.note({ newJobId });
      if (allowNonRestoredState) progress.note({ droppedState: droppedStateText(deployment.version, plan.restorePoint.path) });
      progress.enter('awaiting-health');
    });
    if (!health.healthy) {
      throw fatal(
        WorkflowFailureType.RestoreUnhealthy,
        `${deployment.version} (job ${jobId}) was not healthy within ${humanDuration(healthTimeout)}: ${health.reason ?? health.state}`,
      );
    }
  } catch (err) {
    const reason =
      `every sink table was rolled back to ${plan.restorePoint.tag} (${rolled.join(', ')}), then starting ` +
      `${deployment.version} from ${plan.restorePoint.path} failed: ${messageOf(err)}. Fix the cause and start it from that savepoint by hand, ` +
      `or undo the restore: ${undoInstructions}`;
    await alongside;
    const status = progress.finish('failed', { reason });
    const type = err instanceof ApplicationFailure && err.type === WorkflowFailureType.RestoreUnhealthy ? err.type : WorkflowFailureType.RestoreIncomplete;
    throw fatal(type, reason, [status]);
  }
}
