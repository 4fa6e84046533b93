// The restore-point catalog: durable records of the savepoints we took, checked against what is
// really there — `savepoint-<id>` tags on the sink tables and the savepoint's `_metadata`.
import { log } from '@temporalio/activity';
import type { Config } from '../../src/config';
import { savepointIdOfTag, tagFor, type TableRef, type TagInfo } from '../../src/domain';
import { TAG_REMADE, type RestorePoint, type RestorePointRecord, type TagPresence } from '../../src/restore-points';
import type { CatalogActivities, FlinkActivities, PaimonActivities } from '../contract';
import { CatalogFailureType, catalogFailure, RestorePointStore } from './store';

/** What the catalog reads through the Flink and Paimon modules. */
export interface CatalogDeps {
  listTagsOfTables: PaimonActivities['listTagsOfTables'];
  inspectSavepoint: FlinkActivities['inspectSavepoint'];
}

/** Flink names savepoint directories savepoint-<first 6 chars of the job id>-<random>. */
const jobIdPrefixOf = (dir: string): string | undefined => /(?:^|\/)savepoint-([0-9a-f]{6})-[^/]*$/.exec(dir)?.[1];

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
    createdAt: new Date(input.savepoint.triggeredAt).toISOString(),
    taggedAtRecord: input.taggedAtRecord,
    expiringSince: null,
  };
}

/** The tables where `tag` is no longer the tag recorded with the point (another snapshot or commit). */
function remadeTags(record: RestorePointRecord, tag: string, tagInfos: Map<TableRef, TagInfo[]>): string[] {
  if (!record.tagsAtRecord) return [];
  return Object.entries(record.tagsAtRecord).flatMap(([table, was]) => {
    const now = tagInfos.get(table)?.find((t) => t.tagName === tag);
    if (!now || (now.snapshotId === was.snapshotId && now.commitTime === was.commitTime)) return [];
    return [`${table} (recorded on snapshot ${was.snapshotId} committed ${was.commitTime}, now on snapshot ${now.snapshotId} committed ${now.commitTime})`];
  });
}

export function createCatalogActivities(config: Config, deps: CatalogDeps): CatalogActivities {
  // Made on first use: with an object-store savepoint dir the worker still starts (upgrades work),
  // and only the catalog's activities fail, saying why.
  let cached: RestorePointStore | undefined;
  const store = (): RestorePointStore => (cached ??= new RestorePointStore(config.flink.savepointDir));

  /**
   * Whether `_metadata` exists and names this savepoint id (a reused path with another id does
   * not count); else why not.
   */
  async function checkSavepointFiles(path: string, savepointId: number): Promise<string | undefined> {
    try {
      const found = await deps.inspectSavepoint({ path });
      if (!found.exists) return `savepoint files missing at ${path}`;
      if (found.savepointId !== savepointId) return `${path} holds savepoint ${found.savepointId}, not ${savepointId}`;
      return undefined;
    } catch (err) {
      return `savepoint metadata at ${path} unreadable: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  /** Every savepoint directory by the id its `_metadata` names (unreadable ones left out). */
  async function savepointDirsById(): Promise<Map<number, string[]>> {
    const byId = new Map<number, string[]>();
    for (const dir of await store().savepointDirectories()) {
      const found = await deps.inspectSavepoint({ path: dir }).catch(() => undefined);
      if (found?.exists) byId.set(found.savepointId, [...(byId.get(found.savepointId) ?? []), dir]);
    }
    return byId;
  }

  /**
   * For a tag nobody recorded: the one savepoint directory whose `_metadata` has this id,
   * preferring directories of the job ids we know for this job. Checkpoint ids restart at 1 for
   * every fresh job, so two candidates mean we cannot tell, and the path stays unknown.
   */
  function findSavepoint(matches: string[], knownJobIds: Set<string>): string | null {
    const ours = matches.filter((dir) => knownJobIds.has(jobIdPrefixOf(dir) ?? ''));
    const pick = ours.length > 0 ? ours : matches;
    return pick.length === 1 ? `file:${pick[0]}` : null;
  }

  /** Which tag `tag` is on each table now: its snapshot and that snapshot's commit time. */
  async function tagIdentities(tables: TableRef[], tag: string): Promise<NonNullable<RestorePointRecord['tagsAtRecord']>> {
    const identities: NonNullable<RestorePointRecord['tagsAtRecord']> = {};
    const tagsOf = await deps.listTagsOfTables({ tables });
    for (const table of tables) {
      const found = tagsOf[table]?.find((t) => t.tagName === tag);
      if (found) identities[table] = { snapshotId: found.snapshotId, commitTime: found.commitTime };
    }
    return identities;
  }

  async function recordRestorePoint(input: Parameters<CatalogActivities['recordRestorePoint']>[0]): Promise<RestorePointRecord> {
    const record = restorePointRecordOf(input);
    if (input.taggedAtRecord) record.tagsAtRecord = await tagIdentities(input.tables, tagFor(record.savepointId));
    const existing = await store().read(input.jobName, record.savepointId);
    if (existing) {
      // A retried activity finds its own record; another savepoint with the same id is a conflict.
      if (existing.path !== record.path) {
        throw catalogFailure(
          CatalogFailureType.RestorePointConflict,
          `job '${input.jobName}' already has a restore point for savepoint ${record.savepointId} at ${existing.path}; ` +
            `not overwriting it with ${record.path}`,
        );
      }
      return existing;
    }
    await store().write(record);
    log.info('restore point recorded', { jobName: input.jobName, savepointId: record.savepointId, path: record.path });
    return record;
  }

  async function listRestorePoints(input: { jobName: string; tables?: TableRef[] }): Promise<RestorePoint[]> {
    const records = await store().list(input.jobName);
    const tables = input.tables ?? [...new Set(records.flatMap((r) => r.tables))].sort();
    const tagsByTable = new Map<TableRef, Set<string>>();
    const tagInfos = new Map<TableRef, TagInfo[]>();
    const tagsOf = await deps.listTagsOfTables({ tables });
    for (const table of tables) {
      const infos = tagsOf[table] ?? [];
      tagInfos.set(table, infos);
      tagsByTable.set(table, new Set(infos.map((t) => t.tagName)));
    }
    const byId = new Map(records.map((r) => [r.savepointId, r]));
    const taggedIds = [...tagsByTable.values()]
      .flatMap((tags) => [...tags].map(savepointIdOfTag))
      .filter((id): id is number => id !== undefined);
    const ids = [...new Set([...byId.keys(), ...taggedIds])];
    const knownJobIds = new Set(records.map((r) => r.jobId.slice(0, 6)));
    // Read the savepoint dir once, and only when some tag has no record.
    const unrecorded = ids.some((id) => !byId.has(id));
    const dirsById = unrecorded ? await savepointDirsById() : new Map<number, string[]>();

    const points: RestorePoint[] = [];
    for (const savepointId of ids) {
      const record = byId.get(savepointId);
      const tag = tagFor(savepointId);
      const pointTables = input.tables ?? record?.tables ?? tables;
      const presence = Object.fromEntries(
        pointTables.map((t): [TableRef, TagPresence] => [t, tagsByTable.get(t)?.has(tag) ? 'present' : 'missing']),
      );
      const path = record ? record.path : findSavepoint(dirsById.get(savepointId) ?? [], knownJobIds);
      const filesProblem =
        path === null
          ? `no record, and no single savepoint directory in ${store().savepointDir} has id ${savepointId}`
          : await checkSavepointFiles(path, savepointId);

      const problems: string[] = [];
      const missing = pointTables.filter((t) => presence[t] === 'missing');
      if (missing.length > 0) problems.push(`tag ${tag} missing on ${missing.join(', ')}`);
      if (filesProblem) problems.push(filesProblem);
      if (record?.expiringSince) problems.push(`being deleted by retention since ${record.expiringSince}`);
      const remade = record ? remadeTags(record, tag, tagInfos) : [];
      if (remade.length > 0) problems.push(`${TAG_REMADE} on ${remade.join(', ')}`);

      points.push({
        savepointId,
        tag,
        path,
        jobName: input.jobName,
        jobId: record?.jobId ?? null,
        deploymentVersion: record?.deploymentVersion ?? null,
        label: record?.label ?? null,
        createdAt: record?.createdAt ?? null,
        pinned: record?.pinned ?? false,
        recorded: record !== undefined,
        tables: presence,
        savepointPresent: filesProblem === undefined,
        expiring: record?.expiringSince != null,
        restorable: problems.length === 0,
        problems,
      });
    }
    // Newest first: by creation time where recorded, else by savepoint id.
    return points.sort(
      (a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.savepointId - a.savepointId,
    );
  }

  async function setPinned(jobName: string, savepointId: number, pinned: boolean): Promise<RestorePointRecord> {
    const record = await store().require(jobName, savepointId);
    if (pinned && record.expiringSince) {
      throw catalogFailure(
        CatalogFailureType.RestorePointExpiring,
        `restore point ${savepointId} of job '${jobName}' is being deleted by retention (since ${record.expiringSince}); it cannot be pinned`,
      );
    }
    if (record.pinned === pinned) return record;
    const updated = { ...record, pinned };
    await store().write(updated);
    return updated;
  }

  return {
    recordRestorePoint,
    listRestorePoints,
    pinRestorePoint: ({ jobName, savepointId }) => setPinned(jobName, savepointId, true),
    unpinRestorePoint: ({ jobName, savepointId }) => setPinned(jobName, savepointId, false),

    async markRestorePointExpiring({ jobName, savepointId, at }) {
      const record = await store().require(jobName, savepointId);
      // Re-checked here, not only in the decision: a pin that lands after the listing wins.
      if (record.pinned) {
        throw catalogFailure(
          CatalogFailureType.RestorePointPinned,
          `restore point ${savepointId} of job '${jobName}' is pinned; retention does not delete it`,
        );
      }
      if (record.expiringSince) return record;
      const updated = { ...record, expiringSince: at };
      await store().write(updated);
      return updated;
    },

    async deleteRestorePointRecord({ jobName, savepointId }) {
      const record = await store().read(jobName, savepointId);
      if (!record) return;
      if (!record.expiringSince) {
        throw catalogFailure(
          CatalogFailureType.RestorePointConflict,
          `refusing to delete the record of restore point ${savepointId} of job '${jobName}': it was not marked expiring first`,
        );
      }
      await store().delete(jobName, savepointId);
    },

    async deleteSavepointDirectory({ path }) {
      const deleted = await store().deleteSavepointDirectory(path);
      if (deleted) log.info('savepoint directory deleted', { path });
      return { deleted };
    },
  };
}
