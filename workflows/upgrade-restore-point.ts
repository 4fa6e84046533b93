// The savepoint an upgrade stops the old version at is the way back to before the upgrade, so it
// is recorded as a restore point like a scheduled one. Without the record the catalog finds its
// folder by savepoint id alone, and in a savepoint directory shared by many jobs (checkpoint ids
// start at 1 for every fresh job) several folders have that id: the point would not be restorable.
import { CancellationScope, log, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import type { JobSummary, Savepoint, TableRef } from '../src/domain/model';
import { upgradePointLabel } from '../src/domain/restore-points';
import { restCall } from './activity-options';
import type { UpgradeStatus } from './messages';
import { messageOf } from './saga';

const { recordRestorePoint, recordUpgradeOutcome } = proxyActivities<Activities>(restCall);

/** Histories recorded before this patch did not record the upgrade's savepoint. */
export const UPGRADE_RECORDS_ITS_SAVEPOINT = 'upgrade-records-its-savepoint';
/** Histories recorded before this patch did not record how the upgrade ended with its point. */
export const UPGRADE_RECORDS_ITS_OUTCOME = 'upgrade-records-its-outcome';

type UpgradeRestorePoint = Pick<UpgradeStatus, 'restorePointRecorded' | 'restorePointNotRecorded'>;

export interface UpgradeSavepoint {
  oldJob: JobSummary;
  savepoint: Savepoint;
  tables: TableRef[];
  oldVersion: string;
  newVersion: string;
  /** the upgrade's workflow id, kept with the point */
  workflowId?: string;
}

/** The restore point an upgrade records (P1's floor in bench/routes.ts records the same). */
export function upgradeSavepointRecord(input: UpgradeSavepoint): Parameters<Activities['recordRestorePoint']>[0] {
  const upgrade = {
    fromVersion: input.oldVersion,
    toVersion: input.newVersion,
    outcome: 'in-flight' as const,
    ...(input.workflowId ? { workflowId: input.workflowId } : {}),
  };
  return {
    jobName: input.oldJob.name,
    jobId: input.oldJob.jobId,
    savepoint: input.savepoint,
    tables: input.tables,
    // Pinned by the upgrade: kept while it runs, and after it until the job has had enough later
    // successful upgrades and the point is old enough (RetentionPolicy.upgradePins).
    pinned: true,
    pinnedBy: 'upgrade',
    upgrade,
    label: upgradePointLabel(upgrade),
    // The version whose state the savepoint holds: the one that was running when the job stopped.
    deploymentVersion: input.oldVersion,
    taggedAtRecord: true,
  };
}

/**
 * Records the savepoint with its tag on every sink table (checked before this), once the new version is submitted.
 * Never fails: a savepoint that cannot be recorded is reported, and the upgrade goes on.
 */
export function recordUpgradeSavepoint(input: UpgradeSavepoint): Promise<UpgradeRestorePoint> {
  if (!patched(UPGRADE_RECORDS_ITS_SAVEPOINT)) return Promise.resolve({});
  return recordRestorePoint(upgradeSavepointRecord(input)).then(
    (): UpgradeRestorePoint => ({ restorePointRecorded: true }),
    (err: unknown): UpgradeRestorePoint => ({ restorePointRecorded: false, restorePointNotRecorded: messageOf(err) }),
  );
}

/**
 * How the upgrade ended, kept with its restore point: retention counts successful upgrades, and a
 * failed one's point is labelled so. Only for a point that was recorded; never fails the upgrade.
 */
export async function recordUpgradeOutcomeOf(
  recording: Promise<UpgradeRestorePoint> | undefined,
  input: Pick<UpgradeSavepoint, 'oldJob' | 'savepoint'>,
  outcome: 'succeeded' | 'failed',
): Promise<void> {
  if (!recording || !(await recording).restorePointRecorded) return;
  if (!patched(UPGRADE_RECORDS_ITS_OUTCOME)) return;
  const { savepointId, path } = input.savepoint;
  // Also for an upgrade an operator cancelled: its undo ran, and the point is no longer in flight.
  await CancellationScope.nonCancellable(() =>
    recordUpgradeOutcome({ jobName: input.oldJob.name, savepointId, path, outcome, at: new Date().toISOString() }),
  ).catch((err: unknown) =>
    log.warn('the upgrade outcome was not recorded with its restore point; retention keeps the point', { savepointId, error: messageOf(err) }),
  );
}

/** The upgrade's restore point: recorded once the new version is submitted, its outcome once the upgrade ends. */
export class UpgradePoint {
  private recorded?: { savepoint: Savepoint; recording: Promise<UpgradeRestorePoint> };

  constructor(private readonly upgrade: Omit<UpgradeSavepoint, 'savepoint'>) {}

  /** Starts recording the savepoint the old version stopped at; never fails (recordUpgradeSavepoint). */
  record(savepoint: Savepoint): Promise<UpgradeRestorePoint> {
    const recording = recordUpgradeSavepoint({ ...this.upgrade, savepoint });
    this.recorded = { savepoint, recording };
    return recording;
  }

  /** How the upgrade ended, with the point if it was recorded. */
  async outcome(ended: 'succeeded' | 'failed'): Promise<void> {
    if (this.recorded) await recordUpgradeOutcomeOf(this.recorded.recording, { oldJob: this.upgrade.oldJob, savepoint: this.recorded.savepoint }, ended);
  }
}
