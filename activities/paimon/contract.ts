// What the workflows may ask of Paimon's tables (SQL through the gateway), and the answers' shapes;
// they see it through activities/contract.ts, as types only.
import type { NewerSnapshots, RollbackCount, RollbackDone, SinkTableInfo, TableRef, TableState, TagInfo } from '../../src/domain/model';

export interface PaimonActivities {
  /**
   * Whether each table exists and tags savepoints; with `withSavepointTags`, also the `savepoint-*`
   * tag names each existing table has now, read in the same gateway session.
   */
  describeSinkTables(input: { tables: TableRef[]; withSavepointTags?: boolean }): Promise<SinkTableInfo[]>;
  listTags(input: { table: TableRef }): Promise<TagInfo[]>;
  /** Each table's tags (as listTags gives them), read with one batch job for all tables. */
  listTagsOfTables(input: { tables: TableRef[] }): Promise<Record<TableRef, TagInfo[]>>;
  /**
   * Bounded wait until `tag` exists on every table; returns the tables still missing it. With
   * `withTags`, also every table's tags as read when the tag was found on all (one read per round
   * either way); with `newerThanTag`, every table's tags and, per table that has that tag, its
   * latest snapshot and how many existing snapshots are newer than the tag's, in the same read.
   */
  awaitTag(input: { tables: TableRef[]; tag: string; timeoutMs: number; withTags?: boolean; newerThanTag?: string }): Promise<{
    missing: TableRef[];
    tags?: Record<TableRef, TagInfo[]>;
    newer?: Record<TableRef, NewerSnapshots>;
  }>;
  createTag(input: { table: TableRef; tag: string; snapshotId?: number }): Promise<void>;
  deleteTag(input: { table: TableRef; tag: string }): Promise<void>;
  /**
   * With `count`, what rollback_to deleted, counted just before it ran (the writer is stopped): see
   * RollbackDone; with `before` as well, counted by the caller with nothing writing the table since
   * (no read before the procedure: the restore rolls back while its job is down). With `count` and
   * `readAfter`, also the table's state right after it (`after`, as tableState reads it): the
   * restore's rollback and its check in one activity while the job is down.
   */
  rollbackToTag(input: { table: TableRef; tag: string; count?: boolean; readAfter?: boolean; before?: RollbackCount }): Promise<RollbackDone | void>;
  tableState(input: { table: TableRef; newerThan?: number }): Promise<TableState>;
  /** Every table's consumers (`<table>$consumers`), read with one batch job. */
  listConsumers(input: { tables: TableRef[] }): Promise<TableConsumer[]>;
  /**
   * Each table's snapshots newer than `after`, by commit user (`<table>$snapshots`), and who
   * committed snapshot `after` itself: one batch job for all tables (activities/paimon/commit-users.ts).
   */
  commitsByUser(input: { tables: { table: TableRef; after: number }[] }): Promise<CommitsSince[]>;
}

/** A row of Paimon's `<table>$consumers`: a streaming reader's saved position. */
export interface TableConsumer {
  table: TableRef;
  consumerId: string;
  /** the snapshot the consumer reads next */
  nextSnapshotId: number;
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
