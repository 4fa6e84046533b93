// Restore points: the record the catalog keeps beside each savepoint, and a point as the catalog
// lists it (checked against the tables' tags and the savepoint's files). Pure zod, no Node
// built-ins: bundled into workflow code.
import { z } from 'zod';
import { JobNameSchema } from './job-name';
import { lazySchema } from './lazy-schema';
import { JobIdSchema, TableRefSchema, type TableRef } from './model';

const isoTime = lazySchema(() =>
  z.iso.datetime({ offset: true }),
);

/** The upgrade a restore point was taken for: the savepoint its old version stopped at. */
export const UpgradeOfPointSchema = lazySchema(() =>
  z
    .object({
      fromVersion: z.string().min(1).max(64),
      toVersion: z.string().min(1).max(64),
      /** in-flight until the upgrade ends; its point is kept while it is */
      outcome: z.enum(['in-flight', 'succeeded', 'failed']),
      workflowId: z.string().min(1).optional(),
      endedAt: isoTime.optional(),
    })
    .strict(),
);
export type UpgradeOfPoint = z.infer<typeof UpgradeOfPointSchema>;

/**
 * The label of an upgrade's restore point. Its VERSION is the version that was running when the
 * job stopped (the state the savepoint holds); the label names where the upgrade went.
 */
export function upgradePointLabel(upgrade: Pick<UpgradeOfPoint, 'fromVersion' | 'toVersion' | 'outcome'>): string {
  if (upgrade.fromVersion === upgrade.toVersion) return `before redeploying ${upgrade.toVersion}${upgrade.outcome === 'failed' ? ' (failed)' : ''}`;
  return `before ${upgrade.outcome === 'failed' ? 'failed ' : ''}upgrade to ${upgrade.toVersion}`;
}

/**
 * The durable record of a restore point, one JSON file per savepoint next to the savepoints
 * (docs/restore-points.md says why there). `expiringSince` is set by retention before it deletes
 * anything, so a point that retention stopped half-way through never counts as restorable again.
 */
export const RestorePointRecordSchema = lazySchema(() =>
  z
    .object({
      format: z.literal(1),
      savepointId: z.number().int().nonnegative(),
      /** The savepoint's location as Flink reported it (e.g. file:/…/savepoints/savepoint-ab12cd-…). */
      path: z.string().min(1),
      jobName: JobNameSchema,
      jobId: JobIdSchema,
      deploymentVersion: z.string().min(1).max(64).nullable(),
      label: z.string().min(1).max(256).nullable(),
      tables: z.array(TableRefSchema).min(1),
      pinned: z.boolean(),
      /**
       * Who holds the pin: a person (savepointctl pin, a savepoint taken with a pin) never lets go;
       * an upgrade lets go after enough later successful upgrades and an age (RetentionPolicy.upgradePins).
       * Absent in records written before it existed: a person's, so nothing pinned then expires now.
       */
      pinnedBy: z.enum(['person', 'upgrade']).optional(),
      /** For the savepoint an upgrade stopped its old version at: the upgrade and how it ended. */
      upgrade: UpgradeOfPointSchema.optional(),
      /** When the savepoint was triggered (Flink's trigger time). */
      createdAt: isoTime,
      /** Whether `savepoint-<id>` was on every table when the point was recorded. */
      taggedAtRecord: z.boolean(),
      expiringSince: isoTime.nullable(),
      /**
       * The tag as it was when recorded, per table (its snapshot and that snapshot's commit time).
       * A restore rolls tables back past newer tags, and the restored run counts checkpoint ids on
       * from its savepoint, so a later savepoint can make a tag of the same name on other data.
       * Absent in records written before it existed, and when the tag was not there yet.
       */
      tagsAtRecord: z
        .record(
          z.string(),
          z
            .object({
              snapshotId: z.number().int(),
              commitTime: z.string(),
              /** when Paimon expires the tag (tag.default-time-retained), null when it keeps it */
              expiresAt: z.string().nullable().optional(),
            })
            .strict(),
        )
        .optional(),
      /**
       * Set on a record moved aside because the point left the table's timeline: a restore rolled
       * the tables back past its tag, or a later savepoint of a restored run took its id. Such
       * records live in `lost/` beside the job's records, never count as restorable, and keep the
       * savepoint findable (its files are not deleted).
       */
      lost: z.object({ since: isoTime, reason: z.string().min(1) }).strict().optional(),
    })
    .strict(),
);
export type RestorePointRecord = z.infer<typeof RestorePointRecordSchema>;

/**
 * The listing's problem for a restore point whose tag was deleted (a restore rolled the tables back
 * past it) and made again by a later savepoint with the same id (the restored run counts checkpoint
 * ids on from its savepoint): the tag holds other data than the savepoint's state, so restoring it
 * would lose or repeat ids. The restore plan refuses such a point.
 */
export const TAG_REMADE = 'tag deleted and made again by a later savepoint with the same id';

export type TagPresence = 'present' | 'missing';

/** A restore point as the catalog lists it: the record, checked against the tables and the files. */
export interface RestorePoint {
  savepointId: number;
  /** The tag Paimon gives this savepoint on every sink table. */
  tag: string;
  /** null when a tag exists but no record says where its savepoint is. */
  path: string | null;
  jobName: string;
  jobId: string | null;
  deploymentVersion: string | null;
  label: string | null;
  /**
   * When the savepoint was taken: Flink's trigger time for a recorded point; for a savepoint taken
   * outside our workflows (Flink's own CLI), when its `_metadata` was written. null when unknown.
   */
  createdAt: string | null;
  pinned: boolean;
  /** Who holds the pin (see RestorePointRecord.pinnedBy); absent when not pinned. */
  pinnedBy?: 'person' | 'upgrade';
  /** The upgrade this point was taken for, and how it ended. */
  upgrade?: UpgradeOfPoint;
  /** false for a `savepoint-<id>` tag that no record of ours describes (e.g. an upgrade's savepoint). */
  recorded: boolean;
  tables: Record<TableRef, TagPresence>;
  /** `_metadata` exists at `path` and names this savepoint id. */
  savepointPresent: boolean;
  expiring: boolean;
  /**
   * Set for a point of an older timeline: its tag was deleted by a restore's rollback or made again
   * by a later savepoint with the same id. Never restorable; listed after the live points, so a
   * look-up by savepoint id finds the current timeline's point first. `since` is null when the
   * listing found it so but no restore or record marked it yet.
   */
  lost?: { since: string | null; reason: string };
  /** Tag on every table, savepoint files present, and not being deleted. */
  restorable: boolean;
  /** Why the point is not restorable (empty when it is). */
  problems: string[];
  /** Set when its tag will never come (the job that took it ended before its next checkpoint): not pending. */
  neverTagged?: string;
  /**
   * The earliest time Paimon expires the point's tag on one of its tables (the table's
   * 'tag.default-time-retained' when the savepoint was tagged); null when no table expires it.
   * From then on the point is not restorable, pinned or not.
   */
  tagExpiresAt?: string | null;
  /** What a person should know although the point is restorable now (e.g. a pinned point whose tag expires). */
  warnings?: string[];
}

/** The tables that expire `tag`, with when, earliest first. */
export function tagExpiries(tag: string, tagsOf: (table: TableRef) => { tagName: string; expiresAt?: string | null }[] | undefined, tables: TableRef[]) {
  return tables
    .flatMap((table) => {
      const at = tagsOf(table)?.find((t) => t.tagName === tag)?.expiresAt;
      return at ? [{ table, at }] : [];
    })
    .sort((a, b) => a.at.localeCompare(b.at));
}

/**
 * The warning for a pinned point whose tag Paimon will expire: pinning keeps the savepoint and the
 * record, but not Paimon's tag, and without the tag the point cannot be restored.
 */
export function pinnedTagExpiryWarning(tag: string, expiries: { table: TableRef; at: string }[]): string | undefined {
  if (expiries.length === 0) return undefined;
  const where = expiries.map((e) => `${e.table} at ${e.at}`).join(', ');
  return (
    `pinned, but Paimon expires tag ${tag} (the table's 'tag.default-time-retained') on ${where} (cluster time); ` +
    'after that this point cannot be restored. To keep it, make the tag again without a retention on the same snapshot ' +
    `(CALL sys.delete_tag then CALL sys.create_tag(\`table\` => '<table>', tag => '${tag}', snapshot_id => <its snapshot>)) ` +
    "or unset 'tag.default-time-retained' before the next savepoint"
  );
}
