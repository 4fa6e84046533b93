// Where restore points live on disk: one JSON record per savepoint in
// <savepoint dir>/../restore-points/<job key>/<savepoint id>.json (docs/restore-points.md says why),
// and the savepoint directories themselves. Only local `file:` savepoint dirs are supported.
import { lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { localPath as flinkLocalPath } from '../flink/savepoint-metadata';
import { jobKey } from '../../src/domain/job-name';
import { RestorePointRecordSchema, type RestorePointRecord } from '../../src/domain/restore-points';

/** Failure types of the catalog activities; workflows match on these strings. */
export const CatalogFailureType = {
  UnsupportedSavepointStorage: 'UnsupportedSavepointStorage',
  RestorePointNotFound: 'RestorePointNotFound',
  RestorePointConflict: 'RestorePointConflict',
  RestorePointPinned: 'RestorePointPinned',
  RestorePointExpiring: 'RestorePointExpiring',
  RestorePointRecordInvalid: 'RestorePointRecordInvalid',
  /** A path outside the savepoint dir, or not a savepoint directory: never deleted. */
  UnsafeSavepointPath: 'UnsafeSavepointPath',
} as const;
export type CatalogFailureType = (typeof CatalogFailureType)[keyof typeof CatalogFailureType];

export const catalogFailure = (type: CatalogFailureType, message: string): ApplicationFailure =>
  ApplicationFailure.create({ type, message, nonRetryable: true });

/**
 * A savepoint location as Flink writes it (`file:/a/b`, `file:///a/b`) or a plain absolute path,
 * as a local path. Anything else (s3://, hdfs://) is a storage this catalog cannot read.
 */
export function localPath(location: string, what: string): string {
  const local = flinkLocalPath(location);
  if (local !== undefined) return path.resolve(local);
  throw catalogFailure(
    CatalogFailureType.UnsupportedSavepointStorage,
    `${what} '${location}' is not a local file: URI; the restore-point catalog only supports local savepoint ` +
      'directories (FLINK_SAVEPOINT_DIR=file:///...) shared by the worker and the Flink cluster',
  );
}

const isMissing = (err: unknown): boolean => (err as NodeJS.ErrnoException)?.code === 'ENOENT';

export class RestorePointStore {
  /** The savepoint dir as a local path. */
  readonly savepointDir: string;
  /** Records live beside the savepoints, so they share their volume, backups and lifetime. */
  readonly recordsDir: string;

  constructor(savepointDirUri: string) {
    this.savepointDir = localPath(savepointDirUri, 'FLINK_SAVEPOINT_DIR');
    this.recordsDir = path.join(path.dirname(this.savepointDir), 'restore-points');
  }

  jobDir(jobName: string): string {
    return path.join(this.recordsDir, jobKey(jobName));
  }

  recordFile(jobName: string, savepointId: number): string {
    return path.join(this.jobDir(jobName), `${savepointId}.json`);
  }

  async read(jobName: string, savepointId: number): Promise<RestorePointRecord | undefined> {
    const file = this.recordFile(jobName, savepointId);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    return this.#parse(file, text);
  }

  async require(jobName: string, savepointId: number): Promise<RestorePointRecord> {
    const record = await this.read(jobName, savepointId);
    if (!record) {
      throw catalogFailure(
        CatalogFailureType.RestorePointNotFound,
        `job '${jobName}' has no recorded restore point for savepoint ${savepointId} (${this.recordFile(jobName, savepointId)})`,
      );
    }
    return record;
  }

  async list(jobName: string): Promise<RestorePointRecord[]> {
    return this.#readAll(this.jobDir(jobName), /^\d+\.json$/, false);
  }

  /** Write-then-rename, so a reader (or a crash) never sees half a record. */
  async write(record: RestorePointRecord): Promise<void> {
    const valid = RestorePointRecordSchema.parse(record);
    const file = this.recordFile(valid.jobName, valid.savepointId);
    await mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temp, `${JSON.stringify(valid, null, 2)}\n`, 'utf8');
    await rename(temp, file);
  }

  /** Records of points that left the table's timeline (see `moveAside`). */
  lostDir(jobName: string): string {
    return path.join(this.jobDir(jobName), 'lost');
  }

  /** One file per savepoint: the id repeats across timelines, the savepoint's folder does not. */
  lostFile(record: RestorePointRecord): string {
    const folder = path.basename(record.path).replace(/[^A-Za-z0-9_-]/g, '_');
    return path.join(this.lostDir(record.jobName), `${record.savepointId}-${folder}.json`);
  }

  async listLost(jobName: string): Promise<RestorePointRecord[]> {
    return this.#readAll(this.lostDir(jobName), /^\d+-[A-Za-z0-9_-]+\.json$/, true);
  }

  /** Every record file in `dir` whose name matches; none when the folder is not there. */
  async #readAll(dir: string, names: RegExp, inLostDir: boolean): Promise<RestorePointRecord[]> {
    let found: string[];
    try {
      found = await readdir(dir);
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
    const records: RestorePointRecord[] = [];
    for (const name of found.filter((n) => names.test(n))) {
      const file = path.join(dir, name);
      try {
        records.push(this.#parse(file, await readFile(file, 'utf8'), inLostDir));
      } catch (err) {
        if (!isMissing(err)) throw err; // deleted since readdir: not a record any more
      }
    }
    return records;
  }

  /**
   * Moves the live record of `record.savepointId` aside as lost, with why and since when: written
   * under `lost/` first, then the live file removed, but only while it is still this savepoint's (a
   * crash in between leaves both, and a retry finishes). Returns the lost record.
   */
  async moveAside(record: RestorePointRecord, lost: { since: string; reason: string }): Promise<RestorePointRecord> {
    const file = this.lostFile(record);
    // A retry keeps what the first attempt wrote (its time and reason).
    let moved = await readFile(file, 'utf8').then(
      (text) => this.#parse(file, text, true),
      (err: unknown) => {
        if (isMissing(err)) return undefined;
        throw err;
      },
    );
    if (!moved) {
      moved = RestorePointRecordSchema.parse({ ...record, lost });
      await mkdir(path.dirname(file), { recursive: true });
      const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(temp, `${JSON.stringify(moved, null, 2)}\n`, 'utf8');
      await rename(temp, file);
    }
    const live = await this.read(record.jobName, record.savepointId);
    if (live?.path === record.path) await this.delete(record.jobName, record.savepointId);
    return moved;
  }

  /** Idempotent: a record already gone counts as deleted. */
  async delete(jobName: string, savepointId: number): Promise<void> {
    await rm(this.recordFile(jobName, savepointId), { force: true });
  }

  /** When a savepoint's `_metadata` was written (Flink writes it last, as the savepoint completes); undefined when unknown. */
  async metadataWrittenAt(location: string): Promise<number | undefined> {
    const local = flinkLocalPath(location);
    if (local === undefined) return undefined;
    return stat(path.join(path.resolve(local), '_metadata')).then(
      (s) => Math.floor(s.mtimeMs),
      () => undefined,
    );
  }

  /** The savepoint directories (`savepoint-*`) directly under the savepoint dir. */
  async savepointDirectories(): Promise<string[]> {
    try {
      const entries = await readdir(this.savepointDir, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && e.name.startsWith('savepoint-')).map((e) => path.join(this.savepointDir, e.name));
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
  }

  /**
   * Deletes one savepoint directory, refusing anything that is not a real `savepoint-*`
   * directory directly under the savepoint dir (no `..`, no symlink, no other folder).
   * Returns false when it was already gone.
   */
  async deleteSavepointDirectory(location: string): Promise<boolean> {
    const dir = localPath(location, 'savepoint path');
    if (path.dirname(dir) !== this.savepointDir || !path.basename(dir).startsWith('savepoint-')) {
      throw catalogFailure(
        CatalogFailureType.UnsafeSavepointPath,
        `refusing to delete '${location}': only savepoint-* directories directly under ${this.savepointDir} are deleted`,
      );
    }
    let stat;
    try {
      stat = await lstat(dir);
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
    if (!stat.isDirectory() || stat.isSymbolicLink()) {
      throw catalogFailure(CatalogFailureType.UnsafeSavepointPath, `refusing to delete '${location}': not a directory`);
    }
    await rm(dir, { recursive: true, force: true });
    return true;
  }

  #parse(file: string, text: string, inLostDir = false): RestorePointRecord {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = RestorePointRecordSchema.safeParse(json);
    const nameFits = (id: number) =>
      inLostDir ? path.basename(file).startsWith(`${id}-`) : `${id}.json` === path.basename(file);
    if (!parsed.success || !nameFits(parsed.data.savepointId) || inLostDir !== (parsed.data.lost !== undefined)) {
      const why = !parsed.success
        ? parsed.error.issues[0]?.message
        : !nameFits(parsed.data.savepointId)
          ? 'its savepointId does not match the file name'
          : inLostDir
            ? 'a record under lost/ without why it was lost'
            : 'a live record marked lost';
      throw catalogFailure(
        CatalogFailureType.RestorePointRecordInvalid,
        `restore-point record ${file} is not valid (${why}); fix or remove it`,
      );
    }
    return parsed.data;
  }
}
