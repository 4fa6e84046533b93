// The upgrade's deploy: the new version starts from the savepoint the old one stopped at, then
// that savepoint is recorded as a restore point while the health gate waits for the new version. Its undo
// (cancel it, roll the tables back to the tag) is registered as soon as it is submitted, unless
// compensate is off: then from here on a failure is left for a person.
import { patched } from '@temporalio/workflow';
import type { HealthReport, Savepoint } from '../src/domain/model';
import type { UpgradeParams } from './input';
import { droppedStateText } from './messages';
import type { Progress } from './progress';
import type { Saga } from './saga';
import { placementOf } from './placement';
import { startVersion } from './start-version';
import { stepToken } from './tokens';
import type { UpgradePoint } from './upgrade-restore-point';
import { newVersionParallelism } from './upgrade-shape';
import type { CheckedBeforeStop } from './upgrade-preflight';
import { withdrawNewVersion } from './upgrade-undo';

/** Histories recorded before this patch recorded the restore point beside the deploy, not after it. */
const RECORDS_AFTER_SUBMIT = 'upgrade-records-point-after-submit';

/** The new version's deploy step: its token is the one the cluster prepared before the stop is kept under. */
export const DEPLOY_NEW_VERSION = 'deploy-new-version';

export async function deployNewVersion(
  { savepoint, tag, shape, oldJob }: { savepoint: Savepoint; tag: string } & Pick<CheckedBeforeStop, 'shape' | 'oldJob'>,
  { newVersion, oldVersion, sinkTables, target, options }: UpgradeParams,
  { saga, point }: { saga: Saga; point: UpgradePoint },
  progress: Progress,
): Promise<{ newJobId: string; health: HealthReport }> {
  const { allowNonRestoredState, healthTimeout } = options;
  progress.enter('deploying-new-version');
  // The record's reads and writes take CPU the new version's start needs while the job is down.
  let recording = patched(RECORDS_AFTER_SUBMIT) ? undefined : point.record(savepoint);
  const record = () => (recording ??= point.record(savepoint));
  const version = { deployment: newVersion, token: stepToken(DEPLOY_NEW_VERSION), savepointPath: savepoint.path, allowNonRestoredState, ...newVersionParallelism(shape), healthTimeout, placement: placementOf(target, oldJob.name) };
  const { jobId: newJobId, health } = await startVersion(version, (newJobId) => {
    record();
    progress.note({ newJobId });
    if (allowNonRestoredState) progress.note({ droppedState: droppedStateText(newVersion.version, savepoint.path) });
    if (options.compensate) saga.add(() => withdrawNewVersion(newJobId, { tag, path: savepoint.path }, { sinkTables, oldVersion }, progress));
    else saga.forget();
    progress.enter('awaiting-health');
  }).finally(() => void record());
  progress.note(await record());
  return { newJobId, health };
}
