// The restore-point catalog: durable records of the savepoints we took, checked against what is
// really there — `savepoint-<id>` tags on the sink tables and the savepoint's `_metadata`.
import nodePath from 'node:path';
import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../src/failure-types';
import type { Config } from '../../src/config';
import { savepointIdOfTag, tagFor, type TableRef, type TagInfo } from '../../src/domain';
import { pinnedTagExpiryWarning, TAG_REMADE, tagExpiries, upgradePointLabel, type RestorePoint, type RestorePointRecord, type TagPresence } from '../../src/restore-points';
import type { CatalogActivities, FlinkActivities, PaimonActivities } from '../contract';
import { localPath as flinkLocalPath } from '../flink/savepoint-metadata';
import { restorePointsInUse } from './in-use';
import { reportNewestRestorable, reportRestorePoints } from './metrics';
import { CatalogFailureType, catalogFailure, RestorePointStore } from './store';

/** What the catalog reads through the Flink and Paimon modules. */
export interface CatalogDeps {
  listTagsOfTables: PaimonActivities['listTagsOfTables'];
  inspectSavepoint: FlinkActivities['inspectSavepoint'];
  /** The job that took a savepoint, to tell a tag still to come from one that never will; absent: not asked. */
  getJob?: FlinkActivities['getJob'];
}

const TERMINAL = new Set(['FINISHED', 'CANCELED', 'FAILED']);

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
    ...(input.pinned ? { pinnedBy: input.pinnedBy ?? 'person' } : {}),
    ...(input.upgrade ? { upgrade: input.upgrade } : {}),
    createdAt: new Date(input.savepoint.triggeredAt).toISOString(),
    taggedAtRecord: input.taggedAtRecord,
    expiringSince: null,
  };
}

/** Which tag `tag` is on each table now: its snapshot and that snapshot's commit time. */
function tagIdentities(tables: TableRef[], tag: string, tagInfos: Map<TableRef, TagInfo[]>): NonNullable<RestorePointRecord['tagsAtRecord']> {
  const identities: NonNullable<RestorePointRecord['tagsAtRecord']> = {};
  for (const table of tables) {
    const found = tagInfos.get(table)?.find((t) => t.tagName === tag);
    if (!found) continue;
    identities[table] = { snapshotId: found.snapshotId, commitTime: found.commitTime };
    if (found.expiresAt !== undefined) identities[table].expiresAt = found.expiresAt;
  }
  return identities;
}

/** A savepoint location as a local directory; none for one the catalog cannot read. */
const localDir = (location: string): string[] => {
  const local = flinkLocalPath(location);
  return local === undefined ? [] : [nodePath.resolve(local)];
};

/** The tables where `tag` is no longer the tag recorded with the point (another snapshot or commit). */
function remadeTags(record: RestorePointRecord, tag: string, tagInfos: Map<TableRef, TagInfo[]>): string[] {
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
    return (await inspectFiles(path, savepointId)).problem;
  }

  /** The files' problem, if any, and when `_metadata` was written (the savepoint completed). */
  async function inspectFiles(path: string, savepointId: number): Promise<{ problem?: string; writtenAt?: number }> {
    try {
      const found = await deps.inspectSavepoint({ path });
      if (!found.exists) return { problem: `savepoint files missing at ${path}` };
      if (found.savepointId !== savepointId) return { problem: `${path} holds savepoint ${found.savepointId}, not ${savepointId}` };
      return { writtenAt: await store().metadataWrittenAt(path) };
    } catch (err) {
      return { problem: `savepoint metadata at ${path} unreadable: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  /** Every savepoint directory by the id its `_metadata` names (unreadable ones and `skip` left out). */
  async function savepointDirsById(skip: Set<string>): Promise<Map<number, string[]>> {
    const byId = new Map<number, string[]>();
    for (const dir of await store().savepointDirectories()) {
      if (skip.has(dir)) continue;
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

  /** Every table's tags, in one read. */
  async function tagsOfTables(tables: TableRef[]): Promise<Map<TableRef, TagInfo[]>> {
    const tagsOf = await deps.listTagsOfTables({ tables }).catch((err: unknown) => {
      // The table's own problem, in the words of the catalog rather than of the activity it called.
      if (err instanceof ApplicationFailure && err.type === FailureType.TableNotFound) {
        throw ApplicationFailure.create({ type: err.type, nonRetryable: true, message: err.message.replace(/^listTagsOfTables [^:]*: /, '') });
      }
      throw err;
    });
    return new Map(tables.map((table) => [table, tagsOf[table] ?? []]));
  }

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

  async function listRestorePoints(input: { jobName: string; tables?: TableRef[] }): Promise<RestorePoint[]> {
    const records = await store().list(input.jobName);
    const lostRecords = await store().listLost(input.jobName);
    const tables = input.tables ?? [...new Set(records.flatMap((r) => r.tables))].sort();
    const tagInfos = await tagsOfTables(tables);
    const tagsByTable = new Map([...tagInfos].map(([table, infos]) => [table, new Set(infos.map((t) => t.tagName))]));
    // A record whose tag the tables no longer hold (deleted or made again) is of an older timeline:
    // listed as lost, and its id's tag, if any, as a point of its own.
    const derivedLost: { record: RestorePointRecord; reason: string }[] = [];
    const byId = new Map<number, RestorePointRecord>();
    for (const r of records) {
      const left = r.expiringSince ? undefined : timelineLeft(r, tagInfos);
      if (left === undefined) byId.set(r.savepointId, r);
      else derivedLost.push({ record: r, reason: left });
    }
    const taggedIds = [...tagsByTable.values()]
      .flatMap((tags) => [...tags].map(savepointIdOfTag))
      .filter((id): id is number => id !== undefined);
    const ids = [...new Set([...byId.keys(), ...taggedIds])];
    const everyRecord = [...records, ...lostRecords];
    const knownJobIds = new Set(everyRecord.map((r) => r.jobId.slice(0, 6)));
    // A directory a record names is that record's savepoint, never another timeline's tag's.
    const recordedDirs = new Set(everyRecord.flatMap((r) => localDir(r.path)));
    // Read the savepoint dir once, and only when some tag has no record.
    const unrecorded = ids.some((id) => !byId.has(id));
    const dirsById = unrecorded ? await savepointDirsById(recordedDirs) : new Map<number, string[]>();

    // One look at Flink per job, however many of its untagged savepoints are listed.
    const asked = new Map<string, Promise<string | undefined>>();
    const neverTaggedOf = (jobId: string) => asked.get(jobId) ?? asked.set(jobId, tagNeverComes(jobId)).get(jobId)!;
    const points: RestorePoint[] = [];
    for (const savepointId of ids) {
      const record = byId.get(savepointId);
      const tag = tagFor(savepointId);
      const pointTables = input.tables ?? record?.tables ?? tables;
      const presence = Object.fromEntries(
        pointTables.map((t): [TableRef, TagPresence] => [t, tagsByTable.get(t)?.has(tag) ? 'present' : 'missing']),
      );
      const path = record ? record.path : findSavepoint(dirsById.get(savepointId) ?? [], knownJobIds);
      const files =
        path === null
          ? { problem: `no record, and no single savepoint directory in ${store().savepointDir} has id ${savepointId}` }
          : await inspectFiles(path, savepointId);
      const filesProblem = files.problem;
      // A savepoint taken outside our workflows (Flink's own CLI) has no record: its `_metadata`
      // says when it completed, so it sorts among the others by time, not last.
      const createdAt = record?.createdAt ?? (files.writtenAt !== undefined ? new Date(files.writtenAt).toISOString() : null);

      const problems: string[] = [];
      const missing = pointTables.filter((t) => presence[t] === 'missing');
      if (missing.length > 0) problems.push(`tag ${tag} missing on ${missing.join(', ')}`);
      const neverTagged = missing.length > 0 && record && !record.taggedAtRecord && !record.expiringSince ? await neverTaggedOf(record.jobId) : undefined;
      if (neverTagged) problems.push(neverTagged);
      if (filesProblem) problems.push(filesProblem);
      if (record?.expiringSince) problems.push(`being deleted by retention since ${record.expiringSince}`);
      const remade = record ? remadeTags(record, tag, tagInfos) : [];
      if (remade.length > 0) problems.push(`${TAG_REMADE} on ${remade.join(', ')}`);
      const expiries = tagExpiries(tag, (t) => tagInfos.get(t), pointTables);
      const expiryWarning = record?.pinned ? pinnedTagExpiryWarning(tag, expiries) : undefined;

      points.push({
        savepointId,
        tag,
        path,
        jobName: input.jobName,
        jobId: record?.jobId ?? null,
        deploymentVersion: record?.deploymentVersion ?? null,
        label: record?.label ?? null,
        createdAt,
        pinned: record?.pinned ?? false,
        ...(record?.pinned ? { pinnedBy: record.pinnedBy ?? 'person' } : {}),
        ...(record?.upgrade ? { upgrade: record.upgrade } : {}),
        recorded: record !== undefined,
        tables: presence,
        savepointPresent: filesProblem === undefined,
        expiring: record?.expiringSince != null,
        restorable: problems.length === 0,
        problems,
        ...(neverTagged ? { neverTagged } : {}),
        tagExpiresAt: expiries[0]?.at ?? null,
        warnings: expiryWarning ? [expiryWarning] : [],
      });
    }
    const lostPoints: RestorePoint[] = [];
    const lostOnes = [
      ...derivedLost.map(({ record, reason }) => ({ record, lost: { since: null, reason } })),
      ...lostRecords.map((record) => ({ record, lost: { since: record.lost!.since, reason: record.lost!.reason } })),
    ];
    for (const { record, lost } of lostOnes) {
      if (input.tables && !record.tables.some((t) => input.tables!.includes(t))) continue;
      const filesProblem = await checkSavepointFiles(record.path, record.savepointId);
      lostPoints.push({
        savepointId: record.savepointId,
        tag: tagFor(record.savepointId),
        path: record.path,
        jobName: input.jobName,
        jobId: record.jobId,
        deploymentVersion: record.deploymentVersion,
        label: record.label,
        createdAt: record.createdAt,
        pinned: record.pinned,
        ...(record.pinned ? { pinnedBy: record.pinnedBy ?? 'person' } : {}),
        ...(record.upgrade ? { upgrade: record.upgrade } : {}),
        recorded: true,
        // Whatever tag of that name the tables hold now is another timeline's, not this point's.
        tables: Object.fromEntries(record.tables.map((t): [TableRef, TagPresence] => [t, 'missing'])),
        savepointPresent: filesProblem === undefined,
        expiring: record.expiringSince != null,
        lost,
        restorable: false,
        problems: [`lost${lost.since ? ` since ${lost.since}` : ''}: ${lost.reason}`, ...(filesProblem ? [filesProblem] : [])],
      });
    }
    // Newest first: by creation time where recorded, else by savepoint id. Lost points last, so a
    // look-up by savepoint id finds the current timeline's point.
    const at = (p: RestorePoint) => (p.createdAt === null ? -Infinity : Date.parse(p.createdAt));
    const newestFirst = (a: RestorePoint, b: RestorePoint) => at(b) - at(a) || b.savepointId - a.savepointId;
    const listed = [...points.sort(newestFirst), ...lostPoints.sort(newestFirst)];
    reportRestorePoints(input.jobName, listed);
    return listed;
  }

  /**
   * Why the tag of an intermediate savepoint will never come, or undefined while it may: Paimon makes
   * it when the job's next checkpoint commits (a stop-with-savepoint's commit counts), so once the
   * job ended without that, nothing will.
   */
  async function tagNeverComes(jobId: string): Promise<string | undefined> {
    if (!deps.getJob) return undefined;
    let state: string;
    try {
      state = (await deps.getJob({ jobId })).state;
    } catch (err) {
      const { type } = err as { type?: string };
      // Flink no longer knows the job (a new cluster, or its history expired): it ended long ago.
      if (type === 'JobNotFound') state = 'unknown to Flink';
      else return undefined;
    }
    if (state !== 'unknown to Flink' && !TERMINAL.has(state)) return undefined;
    return `never tagged: job ${jobId} is ${state}, and the tag of an intermediate savepoint comes only with the job's next checkpoint`;
  }

  async function setPinned(jobName: string, savepointId: number, pinned: boolean): Promise<RestorePointRecord> {
    const record = await store().require(jobName, savepointId);
    if (pinned && record.expiringSince) {
      throw catalogFailure(
        CatalogFailureType.RestorePointExpiring,
        `restore point ${savepointId} of job '${jobName}' is being deleted by retention (since ${record.expiringSince}); it cannot be pinned`,
      );
    }
    // Pinning by hand makes the pin a person's, also on an upgrade's point: it never expires then.
    const already = pinned ? record.pinned && (record.pinnedBy ?? 'person') === 'person' : !record.pinned;
    if (already) return record;
    const { pinnedBy: _was, ...rest } = record;
    const updated: RestorePointRecord = { ...rest, pinned, ...(pinned ? { pinnedBy: 'person' as const } : {}) };
    await store().write(updated);
    return updated;
  }

  /** How the upgrade that recorded this point ended; a failed one's label says so. */
  async function recordUpgradeOutcome(
    input: Parameters<CatalogActivities['recordUpgradeOutcome']>[0],
  ): Promise<RestorePointRecord | undefined> {
    const record = await store().read(input.jobName, input.savepointId);
    // Moved aside or replaced by another timeline's point of that id meanwhile: nothing of ours to update.
    if (!record || record.path !== input.path || !record.upgrade) return record;
    if (record.upgrade.outcome === input.outcome) return record;
    const upgrade = { ...record.upgrade, outcome: input.outcome, endedAt: input.at };
    // The label was ours ('before upgrade to v2'); a person's label stays as written.
    const label = record.label === upgradePointLabel({ ...record.upgrade, outcome: 'in-flight' }) ? upgradePointLabel(upgrade) : record.label;
    const updated: RestorePointRecord = { ...record, upgrade, label };
    await store().write(updated);
    log.info('upgrade outcome recorded with its restore point', { jobName: input.jobName, savepointId: input.savepointId, outcome: input.outcome });
    return updated;
  }

  return {
    recordRestorePoint,
    markRestorePointsLost,
    listRestorePoints,
    pinRestorePoint: ({ jobName, savepointId }) => setPinned(jobName, savepointId, true),
    unpinRestorePoint: ({ jobName, savepointId }) => setPinned(jobName, savepointId, false),

    recordUpgradeOutcome,
    restorePointsInUse,

    async markRestorePointExpiring({ jobName, savepointId, at, path, upgradePinReleased }) {
      const record = await store().require(jobName, savepointId);
      // Ids repeat across timelines: the point retention listed may have been moved aside since.
      if (path !== undefined && record.path !== path) {
        throw catalogFailure(
          CatalogFailureType.RestorePointConflict,
          `restore point ${savepointId} of job '${jobName}' is now the savepoint at ${record.path}, not ${path}; retention leaves it alone`,
        );
      }
      // Re-checked here, not only in the decision: a pin that lands after the listing wins. Only an
      // upgrade's pin that retention found released (and that is still an upgrade's) lets go.
      const releasable = upgradePinReleased === true && record.pinnedBy === 'upgrade' && (record.upgrade?.outcome === 'succeeded' || record.upgrade?.outcome === 'failed');
      if (record.pinned && !releasable) {
        throw catalogFailure(
          CatalogFailureType.RestorePointPinned,
          `restore point ${savepointId} of job '${jobName}' is pinned${record.pinnedBy === 'upgrade' ? ' by an upgrade' : ''}; retention does not delete it`,
        );
      }
      if (record.expiringSince) return record;
      const updated = { ...record, expiringSince: at };
      await store().write(updated);
      return updated;
    },

    async deleteRestorePointRecord({ jobName, savepointId, path }) {
      const record = await store().read(jobName, savepointId);
      if (!record || (path !== undefined && record.path !== path)) return;
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
