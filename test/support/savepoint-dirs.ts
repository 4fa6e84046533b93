// The savepoint directories Flink wrote on the stack's local savepoint dir.
import { readdir } from 'node:fs/promises';
import { localPath } from '../../activities/catalog/store';
import { config } from './stack';

/** Savepoint directories Flink wrote for a job: savepoint-<first 6 hex of the job id>-<random>. */
export async function savepointDirsOf(jobId: string): Promise<string[]> {
  const entries = await readdir(localPath(config.flink.savepointDir, 'savepoint dir')).catch(() => [] as string[]);
  return entries.filter((name) => name.startsWith(`savepoint-${jobId.slice(0, 6)}-`));
}
