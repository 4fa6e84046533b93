// Reads a savepoint's id from its `_metadata` file, for savepoints Flink no longer lists.
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FailureType, fatal } from '../errors';

// Flink's Checkpoints.storeCheckpointMetadata writes [magic int | format version int | metadata],
// and every MetadataSerializer since V2 (Flink 1.20 writes V4) starts the metadata with the
// checkpoint id as a long. Java's DataOutputStream is big-endian.
const HEADER_MAGIC_NUMBER = 0x4960672d;
const HEADER_BYTES = 16;

/** A local path for `file:` URIs (`file:/x`, `file:///x`) and plain absolute paths; else undefined. */
export function localPath(savepointPath: string): string | undefined {
  if (savepointPath.startsWith('/')) return path.normalize(savepointPath);
  if (!/^file:/i.test(savepointPath)) return undefined;
  // Flink writes `file:/x`; URL parsing wants `file:///x`.
  const uri = savepointPath.replace(/^file:\/*/i, 'file:///');
  return path.normalize(fileURLToPath(uri));
}

/** The same savepoint as Flink may spell it: `file:/x`, `file:///x/` and `/x` compare equal. */
export function sameLocation(a: string, b: string): boolean {
  const norm = (p: string) => (localPath(p) ?? p).replace(/\/+$/, '');
  return norm(a) === norm(b);
}

export interface SavepointHeader {
  exists: boolean;
  savepointId: number;
  /** the _metadata file's modification time, epoch millis */
  writtenAt?: number;
}

export async function readSavepointHeader(savepointPath: string): Promise<SavepointHeader> {
  const dir = localPath(savepointPath);
  if (dir === undefined) {
    throw fatal(
      FailureType.InvalidInput,
      `inspecting savepoint ${savepointPath}: the worker reads only local savepoints (file: URIs or absolute paths). ` +
        'For object stores, take the savepoint id from Flink (the savepoint activities return it).',
    );
  }
  const metadataFile = path.join(dir, '_metadata');
  let handle;
  try {
    handle = await open(metadataFile, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      return { exists: false, savepointId: -1 };
    }
    throw err;
  }
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(header, 0, HEADER_BYTES, 0);
    if (bytesRead < HEADER_BYTES || header.readInt32BE(0) !== HEADER_MAGIC_NUMBER) {
      throw fatal(
        FailureType.InvalidInput,
        `inspecting savepoint ${savepointPath}: ${metadataFile} is not Flink savepoint metadata ` +
          '(wrong magic number or too short). Check the path; it should be the savepoint-... directory.',
      );
    }
    const savepointId = Number(header.readBigInt64BE(8));
    const { mtimeMs } = await stat(metadataFile);
    return { exists: true, savepointId, writtenAt: Math.floor(mtimeMs) };
  } finally {
    await handle.close();
  }
}
