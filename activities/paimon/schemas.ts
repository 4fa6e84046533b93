// Rows of Paimon's system tables as the SQL gateway returns them (JSON row format: BIGINT as a
// number, TIMESTAMP as an ISO local date-time string). Named after Paimon 1.3's own columns.
import { z } from 'zod';

/**
 * `<table>$tags`. A tag with `time_retained` (e.g. 'PT2H'; a savepoint's tag gets the table's
 * 'tag.default-time-retained') is expired by Paimon's own commits once `create_time` + that passed.
 */
export const TagRow = z.object({
  tag_name: z.string(),
  snapshot_id: z.number().int(),
  schema_id: z.number().int(),
  commit_time: z.string(),
  record_count: z.number().int().nullable(),
  create_time: z.string().nullable(),
  time_retained: z.string().nullable(),
});

/** `SELECT ... AS table_ref` over `<table>$options` or `<table>$tags`. */
export const TableRefRow = z.object({ table_ref: z.string() });

export const AutoTagOptionRow = TableRefRow.extend({ value: z.string() });

/** A `<table>$tags` row with its table, from a read of several tables at once. */
export const TableTagRow = TagRow.extend(TableRefRow.shape);

/**
 * `<table>$snapshots`' latest row. `total_record_count` counts the records in the snapshot's data
 * files (every version of a key until compaction, and deletes), as a tag's `record_count` does.
 */
export const LatestSnapshotRow = z.object({
  snapshot_id: z.number().int(),
  schema_id: z.number().int(),
  total_record_count: z.number().int().nullable(),
  newer_snapshots: z.number().int().nullable(),
});

/**
 * A row of selectTagsAndNewerSnapshotsOf, with its table: a tag, or (tag_name null) the latest
 * snapshot's id in snapshot_id and how many snapshots are newer than the tag's (both null when the
 * tag is missing).
 */
export const TableTagOrNewerSnapshotsRow = z.union([
  TagRow.extend({ newer_snapshots: z.null(), ...TableRefRow.shape }),
  TableRefRow.extend({ tag_name: z.null(), snapshot_id: z.number().int().nullable(), newer_snapshots: z.number().int().nullable() }),
]);

/** `CALL sys.rollback_to(...)`'s one row. */
export const RollbackRow = z.object({
  previous_snapshot_id: z.number().int(),
  current_snapshot_id: z.number().int(),
});

/** A `<table>$consumers` row with its table: a streaming reader (consumer-id) and the snapshot it reads next. */
export const TableConsumerRow = TableRefRow.extend({
  consumer_id: z.string(),
  next_snapshot_id: z.number().int(),
});

/**
 * A table's snapshots newer than a snapshot, for one commit user and commit kind (`<table>$snapshots`
 * grouped). `delta_records` sums delta_record_count: records added to data files (not merged rows).
 * `committed_after` is 1 when this commit user committed that snapshot itself.
 */
export const CommitsByUserRow = TableRefRow.extend({
  commit_user: z.string(),
  commit_kind: z.string(),
  snapshots: z.number().int(),
  delta_records: z.number().int().nullable(),
  first_snapshot_id: z.number().int().nullable(),
  last_snapshot_id: z.number().int().nullable(),
  committed_after: z.number().int(),
});
