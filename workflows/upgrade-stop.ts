// The upgrade's stop: the old version stops with a savepoint, and every sink table must tag it
// (the tables' restore point) before the new version may start. The undo of the stop, registered
// right after it, starts the old version again from that savepoint.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import { humanDuration } from '../src/domain/durations';
import { tagFor, type Savepoint } from '../src/domain/model';
import { longRunning, savepointWait } from './activity-options';
import type { UpgradeParams } from './input';
import { fatal } from './job-steps';
import { WorkflowFailureType } from './messages';
import type { Progress } from './progress';
import type { Saga } from './saga';
import { collidingTables, tagCollisionFailure, tagsAheadFailure, tagsAheadOf, type TagsBefore } from './tag-guard';
import { stepToken } from './tokens';
import type { CheckedBeforeStop } from './upgrade-preflight';
import { restoreOldVersion } from './upgrade-undo';
import { placementOf, type Placement } from './placement';
import { prepareNextCluster } from './prepare-cluster';
import { DEPLOY_NEW_VERSION } from './upgrade-deploy';
import { newVersionParallelism } from './upgrade-shape';

const waitUpTo = (timeoutMs: number) => proxyActivities<Activities>(longRunning(timeoutMs));
const savepointUpTo = (timeoutMs: number) => proxyActivities<Activities>(savepointWait(timeoutMs));

/** Stops the old version once the tags allow it; the savepoint and its tag, on every sink table. */
export async function stopOldVersion(
  { oldJob, latestCheckpointId, tagsBefore, shape }: CheckedBeforeStop,
  { sinkTables, newVersion, oldVersion, target, options }: UpgradeParams,
  saga: Saga,
  progress: Progress,
): Promise<{ savepoint: Savepoint; tag: string }> {
  const tagNamesBefore = await tagsBefore();
  // Paimon would keep an old tag of the stop's savepoint's name: refused while nothing is stopped.
  const ahead = latestCheckpointId === undefined ? [] : tagsAheadOf(latestCheckpointId, tagNamesBefore);
  if (ahead.length > 0) throw tagsAheadFailure(`job '${oldJob.name}' (${oldJob.jobId})`, latestCheckpointId!, ahead);
  const placement = placementOf(target, oldJob.name);
  const { allowNonRestoredState } = options;
  const prepared = await prepareNextCluster({ deployment: newVersion, token: stepToken(DEPLOY_NEW_VERSION), ...newVersionParallelism(shape), placement, allowNonRestoredState });
  try {
    const stopped = await stopAndAwaitTag({ oldJob, tagNamesBefore, shape }, { sinkTables, newVersion, oldVersion, options }, placement, saga, progress);
    await prepared?.ready;
    return stopped;
  } catch (err) {
    await prepared?.release();
    throw err;
  }
}

async function stopAndAwaitTag(
  { oldJob, tagNamesBefore, shape }: Pick<CheckedBeforeStop, 'oldJob' | 'shape'> & { tagNamesBefore: TagsBefore },
  { sinkTables, newVersion, oldVersion, options }: Pick<UpgradeParams, 'sinkTables' | 'newVersion' | 'oldVersion' | 'options'>,
  placement: Placement,
  saga: Saga,
  progress: Progress,
): Promise<{ savepoint: Savepoint; tag: string }> {
  progress.enter('stopping-with-savepoint');
  const triggerId = stepToken('stop-with-savepoint');
  progress.note({ triggerId });
  const savepoint = await savepointUpTo(options.savepointTimeout).stopWithSavepoint({ jobId: oldJob.jobId, triggerId, drain: options.drain });
  const tag = tagFor(savepoint.savepointId);
  progress.note({ savepoint: { id: savepoint.savepointId, path: savepoint.path }, tag });
  saga.add(() => restoreOldVersion({ oldVersion, shape, healthTimeout: options.healthTimeout, placement }, savepoint, progress));

  // The same names read before the stop: what guards a run without the job's checkpoint id (recorded before it was read).
  const collided = collidingTables(tag, tagNamesBefore);
  if (collided.length > 0) throw tagCollisionFailure(tag, collided);

  // Paimon tags a stop-with-savepoint when the commit of its final checkpoint lands, so the tag
  // may trail the savepoint; without it there would be no restore point for the tables.
  progress.enter('awaiting-tag');
  const { missing } = await waitUpTo(options.tagTimeout).awaitTag({ tables: sinkTables, tag, timeoutMs: options.tagTimeout });
  if (missing.length > 0) {
    throw fatal(
      WorkflowFailureType.TagMissing,
      `tag '${tag}' did not appear on ${missing.join(', ')} within ${humanDuration(options.tagTimeout)}, so ${newVersion.version} was not deployed`,
    );
  }
  return { savepoint, tag };
}
