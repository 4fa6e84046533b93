// Listing the restore points: recorded points and unrecorded `savepoint-<id>` tags, each checked
// against what is really there (the tag on every table, the savepoint's `_metadata`), lost ones last.
import nodePath from 'node:path';
import { savepointIdOfTag, tagFor, type TableRef } from '../../src/domain/model';
import { pinnedTagExpiryWarning, TAG_REMADE, tagExpiries, type RestorePoint, type RestorePointRecord, type TagPresence } from '../../src/domain/restore-points';
import type { CatalogActivities } from '../contract';
import { localPath as flinkLocalPath } from '../flink/savepoint-metadata';
import type { CatalogDeps, TagsOfTables } from './activities';
import { reportRestorePoints } from './metrics';
import type { RestorePointStore } from './store';
import { remadeTags, timelineLeft } from './timeline';

const TERMINAL = new Set(['FINISHED', 'CANCELED', 'FAILED']);

/** Flink names savepoint directories savepoint-<first 6 chars of the job id>-<random>. */
const jobIdPrefixOf = (dir: string): string | undefined => /(?:^|\/)savepoint-([0-9a-f]{6})-[^/]*$/.exec(dir)?.[1];

/** A savepoint location as a local directory; none for one the catalog cannot read. */
const localDir = (location: string): string[] => {
  const local = flinkLocalPath(location);
  return local === undefined ? [] : [nodePath.resolve(local)];
};

export function createListingActivities(
  store: () => RestorePointStore,
  deps: CatalogDeps,
  tagsOfTables: TagsOfTables,
): Pick<CatalogActivities, 'listRestorePoints'> {
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

  async function listRestorePoints(input: { jobName: string; tables?: TableRef[]; asRecorded?: boolean }): Promise<RestorePoint[]> {
    const records = await store().list(input.jobName);
    const lostRecords = await store().listLost(input.jobName);
    const recordedTables = [...new Set(records.flatMap((r) => r.tables))].sort();
    const tables = input.tables ?? recordedTables;
    const tagInfos = await tagsOfTables(input.asRecorded ? [...new Set([...tables, ...recordedTables])] : tables);
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
    // The job running under this name now took no recorded savepoint yet (an upgrade records the
    // job it stopped), but a savepoint taken of it with Flink's own CLI is this job's too.
    if (unrecorded) {
      const running = await runningJobIdOf(input.jobName);
      if (running) knownJobIds.add(running.slice(0, 6));
    }

    // One look at Flink per job, however many of its untagged savepoints are listed.
    const asked = new Map<string, Promise<string | undefined>>();
    const neverTaggedOf = (jobId: string) => asked.get(jobId) ?? asked.set(jobId, tagNeverComes(jobId)).get(jobId)!;
    const points: RestorePoint[] = [];
    for (const savepointId of ids) {
      const record = byId.get(savepointId);
      const tag = tagFor(savepointId);
      const pointTables = (input.asRecorded ? record?.tables : undefined) ?? input.tables ?? record?.tables ?? tables;
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

  /** The id of the live job of this name, if Flink runs one (and the catalog may ask). */
  async function runningJobIdOf(jobName: string): Promise<string | undefined> {
    if (!deps.resolveJob) return undefined;
    return deps.resolveJob({ job: { jobName } }).then(
      (job) => job.jobId,
      () => undefined,
    );
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

  return { listRestorePoints };
}
