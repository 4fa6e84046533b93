// The savepoint an upgrade stops the old version at is the way back to before the upgrade, so it
// is recorded as a restore point like a scheduled one. Without the record the catalog finds its
// folder by savepoint id alone, and in a savepoint directory shared by many jobs (checkpoint ids
// start at 1 for every fresh job) several folders have that id: the point would not be restorable.
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import type { JobSummary, Savepoint, TableRef } from '../src/domain';
import { restCall } from './activity-options';
import type { UpgradeStatus } from './messages';
import { messageOf } from './saga';

const { recordRestorePoint } = proxyActivities<Activities>(restCall);

/** Histories recorded before this patch did not record the upgrade's savepoint. */
export const UPGRADE_RECORDS_ITS_SAVEPOINT = 'upgrade-records-its-savepoint';

type UpgradeRestorePoint = Pick<UpgradeStatus, 'restorePointRecorded' | 'restorePointNotRecorded'>;

export interface UpgradeSavepoint {
  oldJob: JobSummary;
  savepoint: Savepoint;
  tables: TableRef[];
  oldVersion: string;
  newVersion: string;
}

/** The restore point an upgrade records (P1's floor in bench/routes.ts records the same). */
export function upgradeSavepointRecord(input: UpgradeSavepoint): Parameters<Activities['recordRestorePoint']>[0] {
  return {
    jobName: input.oldJob.name,
    jobId: input.oldJob.jobId,
    savepoint: input.savepoint,
    tables: input.tables,
    // Pinned: retention never deleted an upgrade's savepoint before it was recorded, and does not
    // now; unpinning it hands it to the retention policy.
    pinned: true,
    label: `before upgrade to ${input.newVersion}`,
    deploymentVersion: input.oldVersion,
    taggedAtRecord: true,
  };
}

/**
 * Records the savepoint with its tag on every sink table (checked before this), beside the deploy.
 * Never fails: a savepoint that cannot be recorded is reported, and the upgrade goes on.
 */
export function recordUpgradeSavepoint(input: UpgradeSavepoint): Promise<UpgradeRestorePoint> {
  if (!patched(UPGRADE_RECORDS_ITS_SAVEPOINT)) return Promise.resolve({});
  return recordRestorePoint(upgradeSavepointRecord(input)).then(
    (): UpgradeRestorePoint => ({ restorePointRecorded: true }),
    (err: unknown): UpgradeRestorePoint => ({ restorePointRecorded: false, restorePointNotRecorded: messageOf(err) }),
  );
}
