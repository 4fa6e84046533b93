// A savepoint's tag is only its restore point if Paimon created it for this savepoint. A job once
// started without a savepoint counts checkpoints from 1 again, and Paimon never replaces an existing
// tag (it skips creating it): an old `savepoint-<id>` from an earlier run would pass for ours and
// point at an old snapshot. So the tag names are read before the savepoint, and a savepoint whose
// tag name was already taken is refused.
import { ApplicationFailure, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import { savepointIdOfTag, savepointTagNames, type TableRef } from '../src/domain/model';
import { restCall } from './activity-options';

const { listTags } = proxyActivities<Activities>(restCall);

export const TagCollision = 'TagCollision';

export type TagsBefore = Record<TableRef, string[]>;

/** Histories recorded before this patch read the tables one after another. */
export const TAGS_READ_AT_ONCE = 'savepoint-tags-read-at-once';

/** The `savepoint-*` tag names on each table now, before the savepoint is taken. */
export async function savepointTagsBefore(tables: TableRef[]): Promise<TagsBefore> {
  const savepointTags = async (table: TableRef): Promise<[TableRef, string[]]> => [
    table,
    savepointTagNames(await listTags({ table })),
  ];
  // Each read is a short batch job of its own; none depends on another, so they run side by side.
  if (patched(TAGS_READ_AT_ONCE)) return Object.fromEntries(await Promise.all(tables.map(savepointTags)));
  const before: TagsBefore = {};
  for (const table of tables) {
    const [, names] = await savepointTags(table);
    before[table] = names;
  }
  return before;
}

/** Histories recorded before this patch read the tags only after the tables and the cluster were checked. */
export const TAGS_READ_DURING_PREFLIGHT = 'savepoint-tags-read-during-preflight';

/**
 * Starts reading the tag names now, so that the reads (a batch job per table) overlap the checks
 * that come before the savepoint; awaiting the result gives the names, or the read's failure.
 */
export function savepointTagsAhead(tables: TableRef[]): () => Promise<TagsBefore> {
  if (!patched(TAGS_READ_DURING_PREFLIGHT)) return () => savepointTagsBefore(tables);
  // Settled at once, so that a failed read is not an unhandled rejection while the checks run.
  const read = savepointTagsBefore(tables).then(
    (tags) => ({ tags }),
    (failure: unknown) => ({ failure }),
  );
  return async () => {
    const outcome = await read;
    if ('failure' in outcome) throw outcome.failure;
    return outcome.tags;
  };
}

/** The tables on which `tag` existed before the savepoint: there it is not this savepoint's tag. */
export const collidingTables = (tag: string, before: TagsBefore): TableRef[] =>
  Object.entries(before)
    .filter(([, names]) => names.includes(tag))
    .map(([table]) => table);

export function tagCollisionFailure(tag: string, tables: TableRef[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: TagCollision,
    nonRetryable: true,
    message:
      `tag '${tag}' already existed on ${tables.join(', ')} before this savepoint (left by an earlier job run ` +
      `whose checkpoint ids started again from 1), so Paimon did not tag this savepoint there and it is no ` +
      `restore point. Delete or rename the old tag (CALL sys.delete_tag) if it is not needed, or restart the ` +
      `job from its latest savepoint so checkpoint ids continue, then try again.`,
  });
}

/**
 * Before the stop: the `savepoint-<K>` tags with K above the job's latest completed checkpoint, per
 * table. Checkpoint ids only grow within a run, so the stop's savepoint gets an id above that
 * checkpoint: such a tag is left by another run (ids from 1 again) and may take this savepoint's name.
 */
export function tagsAheadOf(latestCheckpointId: number, before: TagsBefore): { table: TableRef; tags: string[] }[] {
  return Object.entries(before)
    .map(([table, names]) => ({ table, tags: names.filter((name) => (savepointIdOfTag(name) ?? 0) > latestCheckpointId) }))
    .filter((t) => t.tags.length > 0);
}

/** TagCollision before anything is stopped: which tags, and what to do. */
export function tagsAheadFailure(job: string, latestCheckpointId: number, ahead: { table: TableRef; tags: string[] }[]): ApplicationFailure {
  const where = ahead.map((t) => `${t.table}: ${t.tags.join(', ')}`).join('; ');
  return ApplicationFailure.create({
    type: TagCollision,
    nonRetryable: true,
    message:
      `the latest completed checkpoint of ${job} is ${latestCheckpointId}, but the sink tables have savepoint tags with higher ids, left by an ` +
      `earlier run whose checkpoint ids started again from 1 (${where}). The savepoint taken at the stop may get one of these names, and ` +
      `Paimon keeps an existing tag, so it would have no tag of its own. Delete or rename the old tag(s) if nobody needs them ` +
      `(CALL sys.delete_tag), or let the job checkpoint past them, then try again. Nothing was changed.`,
  });
}
