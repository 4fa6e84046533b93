// What the workflows may ask of the restore-point catalog; they see it through activities/contract.ts.
import type { Savepoint, TableRef } from '../../src/domain/model';
import type { RestorePoint, RestorePointRecord, UpgradeOfPoint } from '../../src/domain/restore-points';
import type { PointInUse } from '../../src/domain/retention-input';
import type { RunningOperation } from '../../src/domain/running-operation';

/** The restore-point catalog (activities/catalog): records beside the savepoints, checked against tags and files. */
export interface CatalogActivities {
  /**
   * Idempotent for the same savepoint path. Another path under the same savepoint id moves the old
   * record aside as lost when its tag is gone from its tables or was made again (a new timeline
   * after a restore); while its own tag is still there, it fails (RestorePointConflict).
   */
  recordRestorePoint(input: {
    jobName: string;
    jobId: string;
    savepoint: Pick<Savepoint, 'savepointId' | 'path' | 'triggeredAt'>;
    tables: TableRef[];
    pinned: boolean;
    /** who holds the pin (default a person); an upgrade's pin expires by RetentionPolicy.upgradePins */
    pinnedBy?: 'person' | 'upgrade';
    upgrade?: UpgradeOfPoint;
    label?: string;
    deploymentVersion?: string;
    taggedAtRecord: boolean;
  }): Promise<RestorePointRecord>;
  /** The upgrade that recorded `savepointId` (at `path`) ended so; a failed one's label says so. Idempotent. */
  recordUpgradeOutcome(input: {
    jobName: string;
    savepointId: number;
    path: string;
    outcome: 'succeeded' | 'failed';
    at: string;
  }): Promise<RestorePointRecord | undefined>;
  /**
   * The restore points the operation in flight on this job uses (flink-job/<job name>: a restore's
   * planned point and the savepoint it stopped with, an upgrade's savepoint), from its status query.
   */
  restorePointsInUse(input: { jobName: string }): Promise<PointInUse[]>;
  /** What runs under a workflow id now (type, run, start time), to name it in a refusal; undefined when nothing does. */
  describeOperation(input: { workflowId: string }): Promise<RunningOperation | undefined>;
  /**
   * A restore's rollback deleted these tags: the records of their savepoint ids move aside as lost
   * (kept, never restorable, savepoint files untouched). Idempotent; ids without a record are skipped.
   */
  markRestorePointsLost(input: {
    jobName: string;
    tagsDeleted: { table: TableRef; tag: string; snapshotId: number }[];
    /** what deleted them, for the record (e.g. "rollback_to savepoint-8 by restore <workflow id>") */
    deletedBy: string;
    at: string;
  }): Promise<{ lost: { savepointId: number; path: string }[] }>;
  /**
   * Recorded points and unrecorded `savepoint-<id>` tags, newest first, each checked for restorability; lost points last.
   * A point is restorable for `tables` (a restore rolls back exactly those); with `asRecorded`, a
   * recorded point is judged by the tables its record names (retention: a table given by mistake,
   * or added by a later version, does not make every older point look broken).
   */
  listRestorePoints(input: { jobName: string; tables?: TableRef[]; asRecorded?: boolean }): Promise<RestorePoint[]>;
  pinRestorePoint(input: { jobName: string; savepointId: number }): Promise<RestorePointRecord>;
  unpinRestorePoint(input: { jobName: string; savepointId: number }): Promise<RestorePointRecord>;
  /**
   * Retention's first step: from here on the point is never restorable. Refuses a pinned point, and
   * with `path` a record of that id that is another savepoint now (RestorePointConflict).
   */
  markRestorePointExpiring(input: {
    jobName: string;
    savepointId: number;
    at: string;
    path?: string;
    /** retention found the upgrade's pin on it released (RetentionPolicy.upgradePins) */
    upgradePinReleased?: boolean;
  }): Promise<RestorePointRecord>;
  /** Retention's last step; only for a point marked expiring. With `path`, leaves another savepoint's record of that id alone. */
  deleteRestorePointRecord(input: { jobName: string; savepointId: number; path?: string }): Promise<void>;
  /** Deletes a savepoint-* directory directly under the configured savepoint dir, nothing else. */
  deleteSavepointDirectory(input: { path: string }): Promise<{ deleted: boolean }>;
}
