// A bounded wait for a tag on every sink table: after stop-with-savepoint Paimon tags at once,
// but after an intermediate savepoint the tag appears only when the next checkpoint commits.
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import type { NewerSnapshots, TableRef, TagInfo } from '../../src/domain/model';
import { FailureType, fatal } from '../errors';
import { label, type PaimonContext } from './context';
import { identifier, tableNames } from './identifiers';
import { TableRefRow } from './schemas';
import { selectTablesWithTag } from './sql';
import { readTagsAndNewerSnapshotsOf, readTagsOfTables } from './tag-reads';
import { readAgainIfExpired, readOfTables, unique } from './tables';

/** Heartbeat details: the operator sees which tables still miss the tag; a retry keeps the deadline. */
const Progress = z.object({ missing: z.array(z.string()), deadline: z.number() });

export async function awaitTag(
  ctx: PaimonContext,
  input: { tables: TableRef[]; tag: string; timeoutMs: number; withTags?: boolean; newerThanTag?: string },
): Promise<{ missing: TableRef[]; tags?: Record<TableRef, TagInfo[]>; newer?: Record<TableRef, NewerSnapshots> }> {
  const attempted = `awaitTag '${label(input?.tag)}' on ${label(input?.tables)}`;
  const tables = unique(tableNames(input?.tables, attempted));
  const tag = identifier('tag', input?.tag, attempted);
  const newerThanTag = input?.newerThanTag === undefined ? undefined : identifier('tag', input.newerThanTag, attempted);
  const withTags = input?.withTags === true || newerThanTag !== undefined;
  const timeoutMs = input?.timeoutMs;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw fatal(FailureType.InvalidInput, `${attempted}: timeoutMs must be a number of milliseconds >= 0, got ${label(timeoutMs)}.`);
  }
  if (tables.length === 0) return withTags ? { missing: [], tags: {}, ...(newerThanTag ? { newer: {} } : {}) } : { missing: [] };

  const activity = Context.current();
  const resumed = Progress.safeParse(activity.info.heartbeatDetails);
  const deadline = resumed.success ? resumed.data.deadline : Date.now() + timeoutMs;

  return ctx.session(attempted, async (session) => {
    let missing = tables;
    for (;;) {
      // One batch job per round, whatever the number of tables (a UNION ALL of their $tags); with
      // `withTags` every table's tags, so the caller needs no read of its own after; with
      // `newerThanTag` also each table's snapshots newer than that tag's (what a rollback to it deletes).
      let tags: Record<TableRef, TagInfo[]> | undefined;
      let newer: Record<TableRef, NewerSnapshots> | undefined;
      let tagged: Set<TableRef>;
      if (withTags) {
        if (newerThanTag !== undefined) {
          // The stop's final commit may expire old snapshots while they are listed: read again then.
          const read = () => readAgainIfExpired(() => readTagsAndNewerSnapshotsOf(session, tables, newerThanTag));
          ({ tags, newer } = await readOfTables(session, tables, ctx.catalog, read));
        } else {
          tags = await readOfTables(session, tables, ctx.catalog, () => readTagsOfTables(session, tables));
        }
        tagged = new Set(tables.filter((t) => tags![t.ref]?.some((info) => info.tagName === tag)).map((t) => t.ref));
      } else {
        const rows = await readOfTables(session, missing, ctx.catalog, () => session.rows(selectTablesWithTag(missing, tag), TableRefRow));
        tagged = new Set(rows.map((row) => row.table_ref));
      }
      missing = missing.filter((t) => !tagged.has(t.ref));
      const refs = missing.map((t) => t.ref);
      if (missing.length === 0 || Date.now() >= deadline) return { missing: refs, ...(tags ? { tags } : {}), ...(newer ? { newer } : {}) };
      // Only a wait needs a heartbeat: an answer at the first check costs Temporal no extra write.
      activity.heartbeat({ missing: refs, deadline } satisfies z.infer<typeof Progress>);
      await activity.sleep(Math.min(ctx.pollIntervalMs, deadline - Date.now()));
    }
  });
}
