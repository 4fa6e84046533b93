// The activities the workflows may call: the only way workflow code touches Flink or Paimon.
// Workflows import this file as types only; activities/flink and activities/paimon implement it.
import type {
  Deployment,
  HealthReport,
  JobRef,
  JobState,
  JobSummary,
  RollbackDone,
  Savepoint,
  SinkTableInfo,
  TableRef,
  TableState,
  TagInfo,
} from '../src/domain/model';
import type { RestorePoint, RestorePointRecord, UpgradeOfPoint } from '../src/domain/restore-points';
import type { PointInUse } from '../src/domain/retention-input';
import type { RunningOperation } from '../src/domain/running-operation';
import type { ApproverKeys } from '../src/domain/allowed-signers';

export interface FlinkActivities {
  /** Cluster overview; fails non-retryably (type UnsupportedFlinkVersion) unless Flink is 1.20.x. */
  checkFlinkCluster(): Promise<{ flinkVersion: string; taskManagers: number; slotsAvailable: number }>;
  /** Resolve a job id or name to one job (JobNotFound / JobNameAmbiguous otherwise). */
  resolveJob(input: { job: JobRef }): Promise<JobSummary>;
  getJob(input: { jobId: string }): Promise<JobSummary>;
  cancelJob(input: { jobId: string }): Promise<void>;
  /**
   * Stop-with-savepoint, polled until COMPLETED with heartbeats. `triggerId` (32 hex chars, derived
   * from the workflow and activity identity) makes a retried activity find the same savepoint.
   */
  stopWithSavepoint(input: {
    jobId: string;
    triggerId: string;
    drain: boolean;
    targetDirectory?: string;
    formatType?: 'CANONICAL' | 'NATIVE';
  }): Promise<Savepoint>;
  /** An intermediate savepoint (the job keeps running); same idempotency as stopWithSavepoint. */
  triggerSavepoint(input: {
    jobId: string;
    triggerId: string;
    targetDirectory?: string;
    formatType?: 'CANONICAL' | 'NATIVE';
  }): Promise<Savepoint>;
  /** The savepoint id (checkpoint id) of a savepoint path, read from its `_metadata` header. */
  inspectSavepoint(input: { path: string }): Promise<{ savepointId: number; exists: boolean }>;
  disposeSavepoint(input: { path: string }): Promise<void>;
  /**
   * Deploy a version, optionally restoring from a savepoint. `deployToken` makes it idempotent: a
   * retry finds the job the first attempt started instead of starting a second one.
   */
  deployJob(input: {
    deployment: Deployment;
    deployToken: string;
    savepointPath?: string;
    allowNonRestoredState?: boolean;
    /** build the graph at `graphParallelism`, then set each vertex's (planUpgradeShape) */
    parallelism?: DeployParallelism;
  }): Promise<{ jobId: string }>;
  /** Healthy = RUNNING and a checkpoint completed after `since` (epoch ms), within `timeoutMs`. */
  awaitHealthy(input: { jobId: string; since: number; timeoutMs: number }): Promise<HealthReport>;
  /**
   * Every version an operation may start, checked before anything is stopped: the script or jar
   * is a readable file inside the deployments root, SQL compiles against the live catalog to one job
   * writing exactly `sinkTables`, a jar's entry class builds a job graph. DeploymentCheckFailed
   * naming each file and its problem otherwise; changes nothing.
   */
  checkDeployments(input: { deployments: Deployment[]; sinkTables: TableRef[] }): Promise<{ checked: DeploymentCheck[] }>;
  /**
   * The job completed a checkpoint since it last (re)started, recently enough; NoRecentCheckpoint
   * with the job's latest exception or checkpoint failure otherwise (activities/flink/checkpoint-recency.ts).
   */
  requireRecentCheckpoint(input: { jobId: string }): Promise<RecentCheckpoint>;
  /**
   * Before an upgrade's stop: the new version's parallelism per vertex, and whether its job graph
   * claims the state the running job keeps (activities/flink/upgrade-shape.ts). DeploymentCheckFailed
   * naming each problem otherwise; changes nothing.
   */
  planUpgradeShape(input: {
    jobId: string;
    newVersion: Deployment;
    parallelism?: number;
    vertexParallelism?: Record<string, number>;
    allowNonRestoredState?: boolean;
  }): Promise<UpgradeShape>;
  /**
   * The parallelism a job runs at: its graph's, and each vertex's now (activities/flink/job-parallelism.ts).
   * What a job started again from its savepoint takes to run as it ran.
   */
  jobParallelism(input: { jobId: string }): Promise<DeployParallelism>;
  /**
   * Every live job whose plan writes or reads any of `tables`, whatever its name
   * (activities/flink/table-jobs.ts); jobs that touch none are left out.
   */
  findTableJobs(input: { tables: TableRef[] }): Promise<TableJob[]>;
  /**
   * The job's state as Flink has it now, and its latest completed checkpoint or savepoint whose files
   * are still there: where a writer that is no longer running starts again from (activities/flink/retained-state.ts).
   */
  retainedState(input: { jobId: string }): Promise<RetainedState>;
}

/** A job's state and where it can be started again from. */
export interface RetainedState {
  jobId: string;
  state: JobState;
  /** null: Flink lists no completed checkpoint or savepoint whose files are there */
  retained: { kind: 'checkpoint' | 'savepoint'; id: number; path: string; completedAt: number } | null;
  /** newer ones listed by Flink whose files are gone */
  gone?: string[];
}

/** A live job that writes or reads some of the tables asked about, as its plan in Flink says. */
export interface TableJob {
  jobId: string;
  name: string;
  state: JobState;
  /**
   * Tables it writes. Paimon names its writer after the table alone (`Writer : t`), so these are
   * the tables asked about whose name it writes: Flink's plan does not say the database.
   */
  writes: TableRef[];
  /** Tables it reads (the planner names the full identifier), with the source's consumer-id hint. */
  reads: { table: TableRef; consumerId?: string }[];
}

/** A row of Paimon's `<table>$consumers`: a streaming reader's saved position. */
export interface TableConsumer {
  table: TableRef;
  consumerId: string;
  /** the snapshot the consumer reads next */
  nextSnapshotId: number;
}

export interface DeployParallelism {
  /** the running job's parallelism, at which the new graph is built so that every operator keeps its id */
  graphParallelism: number;
  /** pipeline.jobvertex-parallelism-overrides: vertex id to parallelism */
  overrides: Record<string, number>;
}

/** What an upgrade's new version does with the running job's state, as checked before the stop. */
export interface StateCheck {
  /** false where Flink gives no way to check before the stop (SQL, no checkpoint yet); `text` says why */
  checked: boolean;
  text: string;
  /** vertices with state in the latest checkpoint that the new job graph does not have */
  unclaimed?: { id: string; name: string }[];
}

export interface UpgradeShape {
  /** the parallelism asked for, per vertex */
  parallelism?: DeployParallelism & { vertices: { id: string; name: string; from: number; to: number; kept?: string }[] };
  /** the running job's graph parallelism and each vertex's parallelism now */
  running: DeployParallelism;
  stateCheck: StateCheck;
}

/** One version that passed checkDeployments. */
export interface DeploymentCheck {
  version: string;
  kind: 'sql' | 'jar';
  /** the real path of the script or jar (absent for an inline script) */
  file?: string;
  /** the tables its job writes, as the planner names them (SQL only: a jar's job graph does not say) */
  sinks?: string[];
  /** the job graph's name (jar only) */
  jobName?: string;
  /** statements the check did not run because they would change the catalog (CREATE TABLE, ...) */
  notRun?: string[];
  tookMs: number;
}

export interface RecentCheckpoint {
  jobId: string;
  checkpointId: number;
  /** epoch ms */
  completedAt: number;
}

export interface PaimonActivities {
  /**
   * Whether each table exists and tags savepoints; with `withSavepointTags`, also the `savepoint-*`
   * tag names each existing table has now, read in the same gateway session.
   */
  describeSinkTables(input: { tables: TableRef[]; withSavepointTags?: boolean }): Promise<SinkTableInfo[]>;
  listTags(input: { table: TableRef }): Promise<TagInfo[]>;
  /** Each table's tags (as listTags gives them), read with one batch job for all tables. */
  listTagsOfTables(input: { tables: TableRef[] }): Promise<Record<TableRef, TagInfo[]>>;
  /** Bounded wait until `tag` exists on every table; returns the tables still missing it. */
  /** With `withTags`, also every table's tags as read when the tag was found on all (one read per round either way). */
  awaitTag(input: { tables: TableRef[]; tag: string; timeoutMs: number; withTags?: boolean }): Promise<{
    missing: TableRef[];
    tags?: Record<TableRef, TagInfo[]>;
  }>;
  createTag(input: { table: TableRef; tag: string; snapshotId?: number }): Promise<void>;
  deleteTag(input: { table: TableRef; tag: string }): Promise<void>;
  /** With `count`, what rollback_to deleted, counted just before it ran (the writer is stopped): see RollbackDone. */
  rollbackToTag(input: { table: TableRef; tag: string; count?: boolean }): Promise<RollbackDone | void>;
  tableState(input: { table: TableRef; newerThan?: number }): Promise<TableState>;
  /** Every table's consumers (`<table>$consumers`), read with one batch job. */
  listConsumers(input: { tables: TableRef[] }): Promise<TableConsumer[]>;
  /**
   * Each table's snapshots newer than `after`, by commit user (`<table>$snapshots`), and who
   * committed snapshot `after` itself: one batch job for all tables (activities/paimon/commit-users.ts).
   */
  commitsByUser(input: { tables: { table: TableRef; after: number }[] }): Promise<CommitsSince[]>;
}

/** What each commit user committed to a table after a snapshot, from Paimon's snapshot metadata. */
export interface CommitsSince {
  table: TableRef;
  after: number;
  /** the commit user of snapshot `after`; null when expiry removed it from `$snapshots` */
  afterCommittedBy: string | null;
  /** the newest snapshot the read saw: the figures count (after, upToSnapshotId] */
  upToSnapshotId: number;
  users: {
    commitUser: string;
    /** its snapshots newer than `after` that exist (expiry may have removed older ones) */
    snapshots: number;
    /** of which compactions (commit_kind COMPACT) */
    compactions: number;
    /** delta_record_count of its other snapshots: records its writes added to data files, not merged rows */
    recordsAdded: number;
    firstSnapshotId: number;
    lastSnapshotId: number;
  }[];
}

/**
 * Paimon branches: the restore's undo. `rollback_to` deletes every snapshot and tag newer than its
 * target, but a branch made from a tag on the latest snapshot survives it and keeps those rows
 * readable; `CALL sys.fast_forward` brings them back to main (docs/restore.md).
 */
export interface PaimonBranchActivities {
  /** Branch `branch` from tag `tag`; idempotent: a branch of that name already there counts as made. */
  createBranch(input: { table: TableRef; branch: string; tag: string }): Promise<void>;
}

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

/** The approvers' keys (activities/approvers): the allowed-signers file the approvals are verified against. */
export interface ApproverActivities {
  /**
   * The file's keys once its version differs from `since` (at once when `since` is absent), or
   * the same keys after `maxWaitMs`. Heartbeats while it waits; a missing or unset file is an
   * answer (its `problem`), not a failure.
   */
  awaitApproverKeys(input: { since?: string; maxWaitMs: number }): Promise<ApproverKeys>;
}

export type Activities = FlinkActivities & PaimonActivities & PaimonBranchActivities & CatalogActivities & ApproverActivities;
