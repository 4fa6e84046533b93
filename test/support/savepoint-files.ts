// A savepoint directory as Flink writes it, for tests that need one without a job: what the
// catalog and inspectSavepoint read is `_metadata`'s header (Checkpoints.HEADER_MAGIC_NUMBER,
// MetadataV4Serializer.VERSION, then the checkpoint id, big-endian).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Writes `_metadata` (and one state file) under `dir`; returns the savepoint's `file:` path. */
export async function writeSavepoint(dir: string, savepointId: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, '_metadata'), savepointHeader(savepointId));
  await writeFile(path.join(dir, 'state-file'), 'state');
  return `file:${dir}`;
}

export function savepointHeader(savepointId: number): Buffer {
  const header = Buffer.alloc(32);
  header.writeInt32BE(0x4960672d, 0);
  header.writeInt32BE(4, 4);
  header.writeBigInt64BE(BigInt(savepointId), 8);
  return header;
}
