// The catalog's records of what our workflows did: a restore point recorded after its savepoint
// (a retry finds its own record, another timeline's is moved aside), and the points a restore's
// rollback lost.
import { log } from '@temporalio/activity';
import { savepointIdOfTag, tagFor, type TableRef, type TagInfo } from '../../src/domain/model';
import type { RestorePointRecord } from '../../src/domain/restore-points';
import type { CatalogActivities } from '../contract';
import type { TagsOfTables } from './activities';
import { reportNewestRestorable } from './metrics';
import { CatalogFailureType, catalogFailure, type RestorePointStore } from './store';
import { restorePointRecordOf, tagIdentities, timelineLeft } from './timeline';

export function createRecordingActivities(
  store: () => RestorePointStore,
  tagsOfTables: TagsOfTables,
): Pick<CatalogActivities, 'recordRestorePoint' | 'markRestorePointsLost'> {
  async function recordRestorePoint(input: Parameters<CatalogActivities['recordRestorePoint']>[0]): Promise<RestorePointRecord> {
    const record = restorePointRecordOf(input);
    const tag = tagFor(record.savepointId);
    const existing = await store().read(input.jobName, record.savepointId);
    // A retried activity finds its own record.
    if (existing?.path === record.path) return existing;
    const tables = [...new Set([...input.tables, ...(existing?.tables ?? [])])];
    const tagInfos = input.taggedAtRecord || existing ? await tagsOfTables(tables) : new Map<TableRef, TagInfo[]>();
    if (input.taggedAtRecord) record.tagsAtRecord = tagIdentities(input.tables, tag, tagInfos);
    if (existing) {
      // Another savepoint with the same id: of a new timeline (after a restore, ids repeat) when the
      // recorded one's tag is gone or was made again; else a conflict we must not paper over.
      const left = timelineLeft(existing, tagInfos, true);
      if (left === undefined) {
        throw catalogFailure(
          CatalogFailureType.RestorePointConflict,
          `job '${input.jobName}' already has a restore point for savepoint ${record.savepointId} at ${existing.path}, ` +
            `and its tag ${tag} is still on its tables; not overwriting it with ${record.path}`,
        );
      }
      const reason = `${left}; savepoint ${record.savepointId} at ${record.path} took its id`;
      await store().moveAside(existing, { since: new Date().toISOString(), reason });
      log.warn('restore point of an older timeline moved aside as lost', { jobName: input.jobName, savepointId: record.savepointId, path: existing.path, reason });
    }
    await store().write(record);
    if (record.taggedAtRecord) reportNewestRestorable(input.jobName, Date.parse(record.createdAt));
    log.info('restore point recorded', { jobName: input.jobName, savepointId: record.savepointId, path: record.path });
    return record;
  }

  async function markRestorePointsLost(
    input: Parameters<CatalogActivities['markRestorePointsLost']>[0],
  ): Promise<{ lost: { savepointId: number; path: string }[] }> {
    const deletedOn = new Map<number, string[]>();
    for (const d of input.tagsDeleted) {
      const id = savepointIdOfTag(d.tag);
      if (id !== undefined) deletedOn.set(id, [...(deletedOn.get(id) ?? []), `${d.table} (snapshot ${d.snapshotId})`]);
    }
    const lost: { savepointId: number; path: string }[] = [];
    for (const [savepointId, where] of [...deletedOn].sort(([a], [b]) => a - b)) {
      const record = await store().read(input.jobName, savepointId);
      // Never recorded, or a retry already moved it; one created after the rollback is the new timeline's.
      if (!record || Date.parse(record.createdAt) > Date.parse(input.at)) continue;
      const reason = `tag ${tagFor(savepointId)} deleted from ${where.join(', ')} by ${input.deletedBy}`;
      await store().moveAside(record, { since: input.at, reason });
      log.info('restore point lost with a rollback', { jobName: input.jobName, savepointId, path: record.path });
      lost.push({ savepointId, path: record.path });
    }
    return { lost };
  }

  return { recordRestorePoint, markRestorePointsLost };
}
