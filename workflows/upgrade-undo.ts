// The upgrade's undos, saga style (saga.ts): once the old version stopped, its undo starts it again
// from the savepoint it stopped at; once the new version runs, its undo cancels it and rolls every
// sink table back to the savepoint's tag. A failure before the health gate runs them.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities, UpgradeShape } from '../activities/contract';
import { humanDuration } from '../src/domain/durations';
import type { Deployment, Savepoint, TableRef } from '../src/domain/model';
import { tableRollback } from './activity-options';
import { cancelAndWait, fatal } from './job-steps';
import { WorkflowFailureType } from './messages';
import type { Progress } from './progress';
import { messageOf, type Saga } from './saga';
import type { Placement } from './placement';
import { startVersion } from './start-version';
import { TagCollision } from './tag-guard';
import { stepToken } from './tokens';
import type { UpgradePoint } from './upgrade-restore-point';
import { oldVersionParallelism } from './upgrade-shape';

const rollback = proxyActivities<Activities>(tableRollback);

export interface OldVersion {
  oldVersion: Deployment;
  shape?: UpgradeShape;
  healthTimeout: number;
  placement?: Placement;
}

/** Put the old version back on the savepoint it stopped at (the undo of stopping it). */
export async function restoreOldVersion({ oldVersion, shape, healthTimeout, placement }: OldVersion, savepoint: Savepoint, progress: Progress): Promise<void> {
  progress.enter('redeploying-old-version');
  const version = { deployment: oldVersion, token: stepToken('redeploy-old-version'), savepointPath: savepoint.path, ...oldVersionParallelism(shape), healthTimeout, placement };
  const { jobId, health } = await startVersion(version, (restoredJobId) => {
    progress.note({ restoredJobId });
    progress.enter('awaiting-old-version-health');
  });
  if (!health.healthy) {
    throw fatal(
      WorkflowFailureType.RollbackUnhealthy,
      `${oldVersion.version} (job ${jobId}) was not healthy within ${humanDuration(healthTimeout)}: ${health.reason ?? health.state}`,
    );
  }
}

/** Stop the new version and undo what it wrote: every sink table back to the tag. */
export async function withdrawNewVersion(
  newJobId: string,
  { tag, path }: { tag: string; path: string },
  { sinkTables, oldVersion }: { sinkTables: TableRef[]; oldVersion: Deployment },
  progress: Progress,
): Promise<void> {
  progress.enter('cancelling-new-job');
  await cancelAndWait(newJobId);
  progress.enter('rolling-back-tables');
  const done: TableRef[] = [];
  for (const table of sinkTables) {
    try {
      await rollback.rollbackToTag({ table, tag });
    } catch (err) {
      const notDone = sinkTables.filter((t) => !done.includes(t));
      const byHand = notDone.map((t) => `CALL sys.rollback_to(\`table\` => '${t}', tag => '${tag}')`).join('; ');
      throw ApplicationFailure.create({
        type: WorkflowFailureType.CompensationFailed,
        nonRetryable: true,
        message:
          `rolling ${table} back failed: ${messageOf(err)}. Rolled back to ${tag}: ${done.join(', ') || 'none'}; ` +
          `NOT rolled back: ${notDone.join(', ')}. Job ${newJobId} is cancelled and no job runs: finish by hand (${byHand}), ` +
          `then start ${oldVersion.version} from ${path}`,
      });
    }
    done.push(table);
  }
}

/** A step before the health gate failed: undo what was done, and say how it ended (the failure to throw). */
export async function undoAfterFailure(err: unknown, saga: Saga, point: UpgradePoint, oldVersion: Deployment, progress: Progress): Promise<unknown> {
  const reason = messageOf(err);
  const undone = !saga.isEmpty;
  await saga.compensate(reason);
  await point.outcome('failed');
  progress.finish('failed', { reason });
  if (undone && err instanceof ApplicationFailure && (err.type === WorkflowFailureType.TagMissing || err.type === TagCollision)) {
    const { restoredJobId, savepoint } = progress.snapshot();
    return fatal(err.type, `${err.message}; ${oldVersion.version} runs again from ${savepoint?.path} as job ${restoredJobId}`, [progress.snapshot()]);
  }
  return err;
}

/** compensate is off and the new version is unhealthy: how a person undoes the upgrade. */
export function manualRollback(newJobId: string, tag: string, tables: TableRef[], oldVersion: Deployment, savepointPath: string): string {
  const rollbacks = tables.map((t) => `CALL sys.rollback_to(\`table\` => '${t}', tag => '${tag}')`).join('; ');
  return (
    `To roll back by hand: cancel job ${newJobId} and wait until it is CANCELED; ` +
    `roll every sink table back to tag '${tag}' (${rollbacks}); ` +
    `deploy ${oldVersion.version} from savepoint ${savepointPath}.`
  );
}
