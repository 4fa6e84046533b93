// Reading tags from `<table>$tags` system tables (a short batch job on the cluster per read).
import type { z } from 'zod';
import type { NewerSnapshots, TableRef, TagInfo } from '../../src/domain/model';
import type { TableName } from './identifiers';
import { TableTagOrNewerSnapshotsRow, TableTagRow, TagRow } from './schemas';
import type { PaimonSession } from './session';
import { selectTags, selectTagsAndNewerSnapshotsOf, selectTagsOf } from './sql';
import type { Identifier } from './identifiers';

const tagInfo = (r: z.infer<typeof TagRow>): TagInfo => ({
  tagName: r.tag_name,
  snapshotId: r.snapshot_id,
  schemaId: r.schema_id,
  // Paimon gives a local date-time without a zone (the cluster's time zone).
  commitTime: r.commit_time,
  recordCount: r.record_count,
  expiresAt: expiryOf(r.create_time, r.time_retained),
});

/** create_time + time_retained (Java's Duration text, e.g. 'PT72H' or 'PT1M30.5S'), as a local date-time; null when kept. */
export function expiryOf(createTime: string | null, timeRetained: string | null): string | null {
  if (createTime === null || timeRetained === null) return null;
  const d = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(timeRetained);
  const created = Date.parse(`${createTime}Z`);
  if (Number.isNaN(created)) return null;
  // A retention we cannot read may end at any time: count it as ended at once, never as 'kept'.
  if (!d) return createTime;
  const ms = (Number(d[1] ?? 0) * 3600 + Number(d[2] ?? 0) * 60 + Number(d[3] ?? 0)) * 1000;
  return new Date(created + ms).toISOString().replace(/Z$/, '');
}

/** Oldest snapshot first. */
const bySnapshot = (a: TagInfo, b: TagInfo) => a.snapshotId - b.snapshotId || a.tagName.localeCompare(b.tagName);

/** The table's tags, oldest snapshot first. */
export async function readTags(session: PaimonSession, t: TableName): Promise<TagInfo[]> {
  return (await session.rows(selectTags(t), TagRow)).map(tagInfo).sort(bySnapshot);
}

/** Each table's tags, oldest snapshot first, read with one statement for all tables. */
export async function readTagsOfTables(session: PaimonSession, tables: TableName[]): Promise<Record<TableRef, TagInfo[]>> {
  const tags: Record<TableRef, TagInfo[]> = Object.fromEntries(tables.map((t) => [t.ref, []]));
  if (tables.length === 0) return tags;
  for (const row of await session.rows(selectTagsOf(tables), TableTagRow)) tags[row.table_ref]?.push(tagInfo(row));
  for (const list of Object.values(tags)) list.sort(bySnapshot);
  return tags;
}

/**
 * The table's tags (oldest snapshot first), and how many existing snapshots are newer than `tag`'s
 * with the latest snapshot's id (undefined when the tag is missing): one read.
 */
export async function readTagsAndNewerSnapshots(
  session: PaimonSession,
  t: TableName,
  tag: Identifier,
): Promise<{ tags: TagInfo[]; before?: NewerSnapshots }> {
  const { tags, newer } = await readTagsAndNewerSnapshotsOf(session, [t], tag);
  const before = newer[t.ref];
  return { tags: tags[t.ref] ?? [], ...(before ? { before } : {}) };
}

/**
 * readTagsAndNewerSnapshots for several tables with one statement: each table's tags (oldest
 * snapshot first) and, for the tables that have `tag`, their latest snapshot and the count newer
 * than the tag's.
 */
export async function readTagsAndNewerSnapshotsOf(
  session: PaimonSession,
  tables: TableName[],
  tag: Identifier,
): Promise<{ tags: Record<TableRef, TagInfo[]>; newer: Record<TableRef, NewerSnapshots> }> {
  const tags: Record<TableRef, TagInfo[]> = Object.fromEntries(tables.map((t) => [t.ref, []]));
  const newer: Record<TableRef, NewerSnapshots> = {};
  if (tables.length === 0) return { tags, newer };
  for (const row of await session.rows(selectTagsAndNewerSnapshotsOf(tables, tag), TableTagOrNewerSnapshotsRow)) {
    if (row.tag_name !== null) tags[row.table_ref]?.push(tagInfo(row));
    else if (row.newer_snapshots !== null) newer[row.table_ref] = { latestSnapshotId: row.snapshot_id, newerSnapshots: row.newer_snapshots };
  }
  for (const list of Object.values(tags)) list.sort(bySnapshot);
  return { tags, newer };
}
