// The upgrade's deploy: the new version starts from the savepoint the old one stopped at, while
// that savepoint is recorded as a restore point, and the health gate waits for it. Its undo
// (cancel it, roll the tables back to the tag) is registered as soon as it is submitted, unless
// compensate is off: then from here on a failure is left for a person.
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

export async function deployNewVersion(
  { savepoint, tag, shape, oldJob }: { savepoint: Savepoint; tag: string } & Pick<CheckedBeforeStop, 'shape' | 'oldJob'>,
  { newVersion, oldVersion, sinkTables, target, options }: UpgradeParams,
  { saga, point }: { saga: Saga; point: UpgradePoint },
  progress: Progress,
): Promise<{ newJobId: string; health: HealthReport }> {
  const { allowNonRestoredState, healthTimeout } = options;
  progress.enter('deploying-new-version');
  const recording = point.record(savepoint);
  const version = { deployment: newVersion, token: stepToken('deploy-new-version'), savepointPath: savepoint.path, allowNonRestoredState, ...newVersionParallelism(shape), healthTimeout, placement: placementOf(target, oldJob.name) };
  const { jobId: newJobId, health } = await startVersion(version, (newJobId) => {
    progress.note({ newJobId });
    if (allowNonRestoredState) progress.note({ droppedState: droppedStateText(newVersion.version, savepoint.path) });
    if (options.compensate) saga.add(() => withdrawNewVersion(newJobId, { tag, path: savepoint.path }, { sinkTables, oldVersion }, progress));
    else saga.forget();
    progress.enter('awaiting-health');
  });
  progress.note(await recording);
  return { newJobId, health };
}
