// What the catalog's records say against the tables' tags: the record a new point starts with, which
// tag a point was recorded with, and whether the tables still hold it (a restore moves timelines).
import { tagFor, type TableRef, type TagInfo } from '../../src/domain/model';
import { TAG_REMADE, type RestorePointRecord } from '../../src/domain/restore-points';
import type { CatalogActivities } from '../contract';

/** The record a new restore point starts with. */
export function restorePointRecordOf(input: Parameters<CatalogActivities['recordRestorePoint']>[0]): RestorePointRecord {
  return {
    format: 1,
    savepointId: input.savepoint.savepointId,
    path: input.savepoint.path,
    jobName: input.jobName,
    jobId: input.jobId,
    deploymentVersion: input.deploymentVersion ?? null,
    label: input.label ?? null,
    tables: input.tables,
    pinned: input.pinned,
    ...(input.pinned ? { pinnedBy: input.pinnedBy ?? 'person' } : {}),
    ...(input.upgrade ? { upgrade: input.upgrade } : {}),
    createdAt: new Date(input.savepoint.triggeredAt).toISOString(),
    taggedAtRecord: input.taggedAtRecord,
    expiringSince: null,
  };
}

/** Which tag `tag` is on each table now: its snapshot and that snapshot's commit time. */
export function tagIdentities(tables: TableRef[], tag: string, tagInfos: Map<TableRef, TagInfo[]>): NonNullable<RestorePointRecord['tagsAtRecord']> {
  const identities: NonNullable<RestorePointRecord['tagsAtRecord']> = {};
  for (const table of tables) {
    const found = tagInfos.get(table)?.find((t) => t.tagName === tag);
    if (!found) continue;
    identities[table] = { snapshotId: found.snapshotId, commitTime: found.commitTime };
    if (found.expiresAt !== undefined) identities[table].expiresAt = found.expiresAt;
  }
  return identities;
}

/** The tables where `tag` is no longer the tag recorded with the point (another snapshot or commit). */
export function remadeTags(record: RestorePointRecord, tag: string, tagInfos: Map<TableRef, TagInfo[]>): string[] {
  if (!record.tagsAtRecord) return [];
  return Object.entries(record.tagsAtRecord).flatMap(([table, was]) => {
    const now = tagInfos.get(table)?.find((t) => t.tagName === tag);
    if (!now || (now.snapshotId === was.snapshotId && now.commitTime === was.commitTime)) return [];
    return [`${table} (recorded on snapshot ${was.snapshotId} committed ${was.commitTime}, now on snapshot ${now.snapshotId} committed ${now.commitTime})`];
  });
}

/**
 * Why a record belongs to an older timeline than the tables now hold, or undefined while it may
 * not: none of its tables (among those read) still holds the tag it was recorded with, because a
 * restore's rollback deleted it or a later savepoint with the same id made it again (the restored
 * run counts checkpoint ids on from its savepoint).
 *
 * When a savepoint with the record's id is being recorded (`recording`), a tag that is gone is
 * enough, and a record written without its tag counts when the tag is on none of its tables: while
 * the tag is anywhere we cannot tell whose it is. A listing asks for more: a tag of that name made
 * again on some table, proof of a newer timeline. A tag only gone (Paimon expired it, someone deleted
 * it) leaves the point merely not restorable, for retention to clean up as before.
 */
export function timelineLeft(record: RestorePointRecord, tagInfos: Map<TableRef, TagInfo[]>, recording = false): string | undefined {
  const tag = tagFor(record.savepointId);
  const recorded = Object.entries(record.tagsAtRecord ?? {}).filter(([table]) => tagInfos.has(table));
  if (recorded.length === 0) {
    if (!recording || (record.tagsAtRecord && Object.keys(record.tagsAtRecord).length > 0)) return undefined;
    const read = record.tables.filter((t) => tagInfos.has(t));
    if (read.length === 0 || read.some((t) => tagInfos.get(t)!.some((i) => i.tagName === tag))) return undefined;
    return `recorded before its tag came, and ${tag} is on none of ${read.join(', ')}`;
  }
  const gone: string[] = [];
  const remade: string[] = [];
  for (const [table, was] of recorded) {
    const now = tagInfos.get(table)!.find((t) => t.tagName === tag);
    if (!now) gone.push(table);
    else if (now.snapshotId !== was.snapshotId || now.commitTime !== was.commitTime) {
      remade.push(`${table} (recorded on snapshot ${was.snapshotId} committed ${was.commitTime}, now on snapshot ${now.snapshotId} committed ${now.commitTime})`);
    } else return undefined; // this table still holds the point's own tag
  }
  if (!recording && remade.length === 0) return undefined;
  const parts = [];
  if (remade.length > 0) parts.push(`${TAG_REMADE} on ${remade.join(', ')}`);
  if (gone.length > 0) parts.push(`tag ${tag} deleted from ${gone.join(', ')} since it was recorded`);
  return parts.join('; ');
}
