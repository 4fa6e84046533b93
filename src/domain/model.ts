// Shared domain schemas and types: used by workflows (input validation), activities and clients.
// Pure zod, no Node built-ins: this module is bundled into workflow code.
import { z } from 'zod';
import { lazySchema } from './lazy-schema';

/** Catalog, database, table and tag names: a strict pattern so nothing but a name reaches SQL. */
export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

export const identifier = (what: string) =>
  z
    .string()
    .regex(
      IDENTIFIER_PATTERN,
      `${what} must be letters, digits, '_' or '-', starting with a letter or '_' (at most 128 characters)`,
    );

/** A Paimon sink table as `database.table`; the catalog comes from config (PAIMON_CATALOG). */
export const TableRefSchema = lazySchema(() =>
  z
    .string()
    .regex(
      /^[A-Za-z_][A-Za-z0-9_-]{0,127}\.[A-Za-z_][A-Za-z0-9_-]{0,127}$/,
      "a sink table is written 'database.table' with letters, digits, '_' or '-' only",
    ),
);
export type TableRef = z.infer<typeof TableRefSchema>;

/** Flink job ids are 32 hex characters. */
export const JobIdSchema = lazySchema(() =>
  z.string().regex(/^[0-9a-f]{32}$/, 'a Flink job id is 32 hex characters'),
);

/** The job to operate on: by id, or by a name that must match exactly one running job. */
export const JobRefSchema = lazySchema(() =>
  z.union([
    z.object({ jobId: JobIdSchema }).strict(),
    z.object({ jobName: z.string().min(1).max(256) }).strict(),
  ]),
);
export type JobRef = z.infer<typeof JobRefSchema>;

/** A version of a job, as something we can (re)deploy. */
export const SqlDeploymentSchema = lazySchema(() =>
  z
    .object({
      kind: z.literal('sql'),
      /** Version label, for humans and the result (e.g. "v2"). */
      version: z.string().min(1).max(64),
      /** SQL script run through the SQL gateway (statements separated by ';'), or a file on the worker. */
      script: z.string().min(1).optional(),
      scriptFile: z.string().min(1).optional(),
    })
    .strict()
    .refine((d) => (d.script === undefined) !== (d.scriptFile === undefined), {
      message: 'give exactly one of script or scriptFile',
    }),
);

export const JarDeploymentSchema = lazySchema(() =>
  z
    .object({
      kind: z.literal('jar'),
      version: z.string().min(1).max(64),
      /** A jar file on the worker's machine; uploaded to the JobManager before running. */
      jarFile: z.string().min(1),
      entryClass: z.string().min(1).optional(),
      args: z.array(z.string()).default([]),
      parallelism: z.number().int().positive().optional(),
    })
    .strict(),
);

export const DeploymentSchema = lazySchema(() =>
  z.union([SqlDeploymentSchema, JarDeploymentSchema]),
);
export type Deployment = z.infer<typeof DeploymentSchema>;

/** A savepoint as Flink reports it. `savepointId` is its checkpoint id: Paimon tags it savepoint-<id>. */
export interface Savepoint {
  savepointId: number;
  path: string;
  jobId: string;
  /** true for stop-with-savepoint (Paimon tags it at once), false for an intermediate one. */
  stopped: boolean;
  /** epoch millis, as Flink reports the trigger time */
  triggeredAt: number;
}

export const tagFor = (savepointId: number): string => `savepoint-${savepointId}`;

/** The names among `tags` in Paimon's savepoint-tag namespace: those a savepoint's auto-tag may find taken. */
export const savepointTagNames = (tags: { tagName: string }[]): string[] =>
  tags.map((t) => t.tagName).filter((name) => name.startsWith('savepoint-'));

export const savepointIdOfTag = (tag: string): number | undefined => {
  const m = /^savepoint-(\d+)$/.exec(tag);
  return m ? Number(m[1]) : undefined;
};

export type JobState =
  | 'INITIALIZING'
  | 'CREATED'
  | 'RUNNING'
  | 'FAILING'
  | 'FAILED'
  | 'CANCELLING'
  | 'CANCELED'
  | 'FINISHED'
  | 'RESTARTING'
  | 'SUSPENDED'
  | 'RECONCILING';

export interface JobSummary {
  jobId: string;
  name: string;
  state: JobState;
  startTime: number;
}

export interface HealthReport {
  healthy: boolean;
  jobId: string;
  state: JobState;
  /** the first checkpoint that completed after the deploy, if any */
  checkpointId?: number;
  reason?: string;
}

/** A row of Paimon's `<table>$tags`. */
export interface TagInfo {
  tagName: string;
  snapshotId: number;
  schemaId: number;
  /** ISO timestamp of the tagged snapshot's commit */
  commitTime: string;
  recordCount: number | null;
  /**
   * When Paimon expires the tag (its create_time + time_retained, in the cluster's local time like
   * commitTime); null when it keeps it until someone deletes it. Absent in answers recorded before.
   */
  expiresAt?: string | null;
}

/**
 * A table as its metadata says, read without scanning data. Records are what Paimon counts in
 * data files (every version of a key until compaction, deletes included), not merged rows: compare
 * them only with other record counts, such as a tag's.
 */
export interface TableState {
  table: TableRef;
  /** null for a table never written */
  latestSnapshotId: number | null;
  schemaId: number | null;
  /** the latest snapshot's total_record_count */
  totalRecordCount: number | null;
  /** snapshots that exist now with an id above the one asked about (0 when none was asked) */
  snapshotsNewer: number;
}

/** A table's latest snapshot and how many existing snapshots are newer than a tag's: one read of `$snapshots` and `$tags`. */
export interface NewerSnapshots {
  latestSnapshotId: number | null;
  newerSnapshots: number;
}

/**
 * What a rollback_to to a tag would delete, read with nothing writing the table: its latest
 * snapshot, how many existing snapshots are newer than the tag's, and the tags on them.
 */
export interface RollbackCount {
  latestSnapshotId: number;
  snapshotsNewer: number;
  tagsNewer: string[];
}

/**
 * What one rollback_to deleted, read just before it ran with nothing writing the table: the
 * snapshots newer than the tag's (counted from the snapshots there are; expiry may have removed
 * part of the id range) and the tags on them, today's savepoint tag included.
 */
export interface RollbackDone {
  previousSnapshotId: number | null;
  snapshotsDeleted: number;
  tagsDeleted: string[];
  /**
   * With `readAfter`: the table's state read right after rollback_to, in the same activity (what the
   * restore checks against the tag); left out when that read failed, so the caller reads it itself.
   */
  after?: TableState;
}

export interface SinkTableInfo {
  table: TableRef;
  exists: boolean;
  /** Paimon's `sink.savepoint.auto-tag` */
  autoTagOnSavepoint: boolean;
  /** The table's `savepoint-*` tag names, when asked for and the table exists. */
  savepointTags?: string[];
}
