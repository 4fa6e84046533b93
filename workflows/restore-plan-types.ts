// The restore plan as the approver reads it and clients show it: the blast radius per table, the
// writer's stop, other writers and readers, the undo and what cannot be undone. Pure: bundled into
// workflow code.
import type { JobState, TableRef } from '../src/domain/model';

/**
 * What rollback_to does to one table. Records are Paimon's counts of the records in data files
 * (every version of a key until compaction, deletes included): they are compared only with each
 * other, never with a merged COUNT(*), which is smaller on any table whose keys change.
 */
export interface TableBlastRadius {
  table: TableRef;
  /** the snapshot the restore point's tag is on: the table's latest snapshot afterwards */
  tagSnapshotId: number;
  /** the tag's schema id: the table's schema afterwards */
  tagSchemaId: number;
  /** the tag's record_count: records in the tag's data files (null: Paimon did not say) */
  recordsAtTag: number | null;
  latestSnapshotId: number | null;
  /** the latest snapshot's total_record_count, counted as recordsAtTag is */
  recordsNow: number | null;
  /** snapshots that exist now and are newer than the tag: rollback_to deletes them */
  snapshotsDeleted: number;
  /** tags on newer snapshots, deleted by rollback_to */
  tagsDeleted: { tag: string; snapshotId: number }[];
  /** the `savepoint-<id>` tags among them: restore points lost with the rollback */
  restorePointsLost: string[];
}

export type WriterAction = 'stop-with-savepoint' | 'cancel' | 'none';

/**
 * A live job other than the writer that writes a table named like a sink table, left running
 * because `options.notWriters` names it, with what the rollback takes from its output.
 */
export interface PlanOtherWriter {
  jobId: string;
  name: string;
  state: string;
  tables: TableRef[];
  /** why it is left running, and that two writers of one table fail each other's commits */
  note: string;
  /** per sink table it writes: its commits since the restore point's tag, which rollback_to deletes */
  rolledBack?: OtherWriterLoss[];
}

/**
 * An other writer's commits to one table since the tag, from `<table>$snapshots` by commit user.
 * Records are Paimon's delta_record_count: records its writes added to data files, never merged rows.
 */
export interface OtherWriterLoss {
  table: TableRef;
  /** the Paimon commit users counted as its own */
  commitUsers: string[];
  /** its snapshots in (tagSnapshotId, upToSnapshotId], compactions included */
  snapshots: number;
  compactions: number;
  records: number;
  tagSnapshotId: number;
  upToSnapshotId: number;
  /** how its commits were told apart from the restore's writer's, and what the figures leave out */
  basis: string;
}

/** A reader of a sink table: a live job (by its plan in Flink) or a consumer in `<table>$consumers`. */
export interface PlanReader {
  table: TableRef;
  /** the live job that reads it (absent for a consumer no running job uses now) */
  job?: { jobId: string; name: string; state: string };
  consumerId?: string;
  /** the consumer's saved position, when `$consumers` has one */
  nextSnapshotId?: number;
  /** what the reader will see after the rollback */
  sees: string;
  /** what to do so that it reads the restored table again without gaps */
  remedy: string;
}

export interface RestorePlan {
  /** 1 for the first plan; +1 each time the plan changed and is asked for again */
  version: number;
  plannedAt: string;
  job: string;
  writer: {
    jobId?: string;
    state?: JobState;
    /** stop-with-savepoint for a RUNNING job; cancel for one that is live but cannot take a savepoint */
    action: WriterAction;
    /** true in a plan made again after this restore stopped (or cancelled) the writer */
    stoppedByRestore?: boolean;
    /** the savepoint it stopped with, when it was RUNNING */
    stoppedWithSavepoint?: { savepointId: number; path: string; tag: string };
  };
  restorePoint: {
    savepointId: number;
    tag: string;
    path: string;
    createdAt: string | null;
    label: string | null;
    recorded: boolean;
  };
  deploymentVersion: string;
  tables: TableBlastRadius[];
  /**
   * Live jobs other than the writer that write a table named like a sink table, left running
   * because `options.notWriters` names them (any other refuses the restore: OtherWriters).
   */
  otherWriters?: PlanOtherWriter[];
  /** Every reader of the sink tables (live jobs, Paimon consumers), what it will see and the remedy. */
  readers?: PlanReader[];
  /** How the restore itself can be undone. */
  undo: string;
  /** What cannot be undone, in plain words, for the approver. */
  irreversible: string;
  /** The plan in a few sentences, as the memo shows it. */
  summary: string;
  /**
   * Who asked for the restore, as the input named them: not proven (the restore was started by
   * whoever may start workflows). Four-eyes compares it with the approver's proven identity.
   */
  requester?: { identity: string; proven: false; note: string };
  /**
   * `sha256:<hex>` of this plan (every field but this one, keys sorted: workflows/approval-proof.ts):
   * what an approval's signature names, so an approver signs what they read.
   */
  digest?: string;
}
