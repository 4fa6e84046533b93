// Tags through Paimon's procedures (CALL sys.create_tag / delete_tag / rollback_to, named
// arguments as in Paimon 1.3's docs) and its `<table>$tags` system table.
import { log } from '@temporalio/activity';
import type { RollbackCount, RollbackDone, TableRef, TagInfo } from '../../src/domain/model';
import { FailureType, fatal } from '../errors';
import { label, type PaimonContext } from './context';
import { tagConflict, tagMissing, translate } from './failures';
import { identifier, tableName, tableNames, type Identifier, type TableName } from './identifiers';
import { RollbackRow } from './schemas';
import { callCreateTag, callDeleteTag, callRollbackTo } from './sql';
import { readTags, readTagsAndNewerSnapshots, readTagsOfTables } from './tag-reads';
import { readAgainIfExpired, readOfTables, readTableState, requireTables, unique } from './tables';

export async function listTags(ctx: PaimonContext, input: { table: TableRef }): Promise<TagInfo[]> {
  const attempted = `listTags of ${label(input?.table)}`;
  const t = tableName(input?.table, attempted);
  return ctx.session(attempted, async (session) => {
    await requireTables(session, [t], ctx.catalog);
    return readTags(session, t).catch((err: unknown) => {
      throw translate(err, attempted, t, ctx.catalog);
    });
  });
}

export async function listTagsOfTables(ctx: PaimonContext, input: { tables: TableRef[] }): Promise<Record<TableRef, TagInfo[]>> {
  const attempted = `listTagsOfTables ${label(input?.tables)}`;
  const tables = unique(tableNames(input?.tables, attempted));
  if (tables.length === 0) return {};
  return ctx.session(attempted, async (session) => {
    return readOfTables(session, tables, ctx.catalog, () => readTagsOfTables(session, tables));
  });
}

/**
 * Idempotent: a retry after the tag was made finds it and succeeds. The tag goes on `snapshotId`,
 * or on the latest snapshot when none is given.
 */
export async function createTag(ctx: PaimonContext, input: { table: TableRef; tag: string; snapshotId?: number }): Promise<void> {
  const attempted = `createTag '${label(input?.tag)}' on ${label(input?.table)}`;
  const t = tableName(input?.table, attempted);
  const tag = identifier('tag', input?.tag, attempted);
  const { snapshotId } = input;
  if (snapshotId !== undefined && !(Number.isSafeInteger(snapshotId) && snapshotId > 0)) {
    throw fatal(FailureType.InvalidInput, `${attempted}: snapshotId must be a positive whole number, got ${label(snapshotId)}.`);
  }
  await ctx.session(attempted, async (session) => {
    await requireTables(session, [t], ctx.catalog);
    try {
      const existing = (await readTags(session, t)).find((info) => info.tagName === tag);
      if (existing) {
        // Without a snapshot id we cannot tell our earlier attempt's tag from someone else's;
        // a workflow that needs to know passes the snapshot id.
        if (snapshotId === undefined || existing.snapshotId === snapshotId) return;
        throw tagConflict(attempted, t, tag, existing.snapshotId, snapshotId);
      }
      await session.run(callCreateTag(t, tag, snapshotId));
    } catch (err) {
      throw translate(err, attempted, t, ctx.catalog);
    }
  });
}

/** Idempotent: Paimon's delete_tag succeeds for a tag that is already gone. */
export async function deleteTag(ctx: PaimonContext, input: { table: TableRef; tag: string }): Promise<void> {
  const attempted = `deleteTag '${label(input?.tag)}' on ${label(input?.table)}`;
  const t = tableName(input?.table, attempted);
  const tag = identifier('tag', input?.tag, attempted);
  await ctx.session(attempted, async (session) => {
    await requireTables(session, [t], ctx.catalog);
    await session.run(callDeleteTag(t, tag)).catch((err: unknown) => {
      throw translate(err, attempted, t, ctx.catalog);
    });
  });
}

/**
 * Rolls the table back to the tag's snapshot. Paimon 1.3 deletes every newer snapshot AND every
 * tag on a newer snapshot (docs/paimon-rollback.md), so this cannot be undone with a tag taken
 * before it. Nothing may write the table meanwhile: the caller stops the job first.
 * With `count`, what it deletes is counted first from `$snapshots`, in the same read as the tags
 * (one batch job: the restore rolls back while its job is down): the figures are what happened, not
 * the plan's, which the writer's last commits moved.
 * With `count` and `readAfter`, the table's state right after it too (`after`, tableState's read):
 * the restore checks each table against its tag, and one activity instead of two saves a round
 * trip through Temporal per table while the job is down.
 * Idempotent: a second call finds the table already at the tag and changes nothing (and counts
 * nothing deleted).
 */
export async function rollbackToTag(
  ctx: PaimonContext,
  input: { table: TableRef; tag: string; count?: boolean; readAfter?: boolean; before?: RollbackCount },
): Promise<RollbackDone | void> {
  const attempted = `rollbackToTag ${label(input?.table)} to tag '${label(input?.tag)}'`;
  const t = tableName(input?.table, attempted);
  const tag = identifier('tag', input?.tag, attempted);
  const count = input?.count === true;
  const before = input?.before === undefined ? undefined : rollbackCount(input.before, attempted);
  const done = count && before ? await rolledBackAsCounted(ctx, attempted, t, tag, before) : await rolledBack(ctx, attempted, t, tag, count);
  if (!done || input?.readAfter !== true) return done;
  // The state after it, for the restore's check, in the session the rollback just left idle. A
  // failed read does not fail the rollback (a retry would run it again and count nothing deleted):
  // `after` is left out and the caller reads the state with tableState.
  const after = await ctx.session(`${attempted}: reading the table after it`, (session) => readTableState(session, t)).catch((err: unknown) => {
    log.warn('the table was rolled back, but reading it after failed; the caller reads it again', { table: t.ref, tag, error: String(err) });
    return undefined;
  });
  return after ? { ...done, after } : done;
}

/**
 * rollback_to with what it deletes counted by the caller (`before`), with nothing writing the table
 * since: no read before the procedure. Paimon's answer names the snapshot it rolled back from; when
 * that is not the counted one, something moved the table meanwhile, and the count is taken from the
 * procedure's snapshot ids instead (said in the log).
 */
async function rolledBackAsCounted(ctx: PaimonContext, attempted: string, t: TableName, tag: Identifier, before: RollbackCount): Promise<RollbackDone> {
  return ctx.session(attempted, async (session) => {
    try {
      const [result] = await session.rows(callRollbackTo(t, tag), RollbackRow);
      const counted = { previousSnapshotId: before.latestSnapshotId, snapshotsDeleted: before.snapshotsNewer, tagsDeleted: before.tagsNewer };
      // Paimon 1.3 answers with both ids; without them the count stands as given.
      if (!result) return counted;
      const previous = result.previous_snapshot_id;
      const current = result.current_snapshot_id;
      log.info('rolled a Paimon table back to a tag', { table: t.ref, tag, previousSnapshotId: previous, currentSnapshotId: current });
      // A second call (a retry) finds the table at the tag: nothing deleted.
      if (previous === current) return { previousSnapshotId: previous, snapshotsDeleted: 0, tagsDeleted: [] };
      if (previous === before.latestSnapshotId) return counted;
      log.warn('the table moved between the count and rollback_to: snapshots deleted counted from the procedure\'s snapshot ids', {
        table: t.ref,
        tag,
        counted: before.latestSnapshotId,
        previousSnapshotId: previous,
      });
      return { previousSnapshotId: previous, snapshotsDeleted: Math.max(0, previous - current), tagsDeleted: before.tagsNewer };
    } catch (err) {
      throw translate(err, attempted, t, ctx.catalog, tag);
    }
  });
}

function rollbackCount(before: RollbackCount, attempted: string): RollbackCount {
  const whole = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  const tagsNewer: unknown = before?.tagsNewer;
  if (!whole(before?.latestSnapshotId) || !whole(before?.snapshotsNewer) || !Array.isArray(tagsNewer) || !tagsNewer.every((n) => typeof n === 'string')) {
    throw fatal(FailureType.InvalidInput, `${attempted}: before must be { latestSnapshotId, snapshotsNewer: whole numbers; tagsNewer: tag names }, got ${label(before)}.`);
  }
  return before;
}

async function rolledBack(ctx: PaimonContext, attempted: string, t: TableName, tag: Identifier, count: boolean): Promise<RollbackDone | void> {
  return ctx.session(attempted, async (session) => {
    // The table is looked up only when reading its tags fails (readOfTables): the restore rolls
    // back while the job is down, and the look-up costs two statements. A missing table is still
    // refused before the procedure is called.
    try {
      // With `count`, the tags and the count in one read: the restore rolls back while the job is down.
      const { tags, before } = await readOfTables(session, [t], ctx.catalog, () =>
        count ? readAgainIfExpired(() => readTagsAndNewerSnapshots(session, t, tag)) : readTags(session, t).then((all) => ({ tags: all, before: undefined })),
      );
      const target = tags.find((info) => info.tagName === tag);
      if (!target) {
        throw tagMissing(attempted, t, tag, tags.map((info) => info.tagName), 'Nothing was rolled back.');
      }
      const [result] = await session.rows(callRollbackTo(t, tag), RollbackRow);
      log.info('rolled a Paimon table back to a tag', {
        table: t.ref,
        tag,
        previousSnapshotId: result?.previous_snapshot_id,
        currentSnapshotId: result?.current_snapshot_id,
      });
      if (!count) return undefined;
      return {
        previousSnapshotId: result?.previous_snapshot_id ?? before?.latestSnapshotId ?? null,
        snapshotsDeleted: before?.newerSnapshots ?? 0,
        tagsDeleted: tags.filter((info) => info.snapshotId > target.snapshotId).map((info) => info.tagName),
      };
    } catch (err) {
      throw translate(err, attempted, t, ctx.catalog, tag);
    }
  });
}
