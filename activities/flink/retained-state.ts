// Where a job that is no longer running can be started again from: its latest completed
// checkpoint or savepoint whose files are still there. Flink keeps a job's checkpoint statistics
// after it ended (FAILED, CANCELED), and with externalized checkpoints (RETAIN_ON_CANCELLATION, or
// DELETE_ON_CANCELLATION for a job that failed) the latest `execution.checkpointing.num-retained`
// checkpoints stay on storage. Paimon's committer commits what a restored checkpoint holds and did
// not commit yet, so a writer started from it loses nothing and writes nothing twice.
import type { RetainedState } from '../contract';
import type { FlinkClient } from './client';
import { onJob } from './errors';
import { JobInput, parseInput } from './inputs';
import { jobState } from './jobs';
import { readSavepointHeader, localPath } from './savepoint-metadata';
import type { CheckpointStatistics } from './schemas';

export async function retainedState(flink: FlinkClient, input: unknown): Promise<RetainedState> {
  const { jobId } = parseInput('retainedState', JobInput, input);
  const attempted = `looking up where job ${jobId} can be started again from`;
  const [state, stats] = await Promise.all([jobState(flink, jobId, attempted), onJob(jobId, attempted, () => flink.checkpoints(jobId))]);
  const seen = new Map<number, CheckpointStatistics>();
  for (const c of [stats.latest.completed, stats.latest.savepoint, ...stats.history]) {
    if (c && c.status === 'COMPLETED' && c.external_path && !seen.has(c.id)) seen.set(c.id, c);
  }
  const candidates = [...seen.values()].sort((a, b) => b.id - a.id);
  const gone: string[] = [];
  for (const c of candidates) {
    const kind = c.is_savepoint ? 'savepoint' : 'checkpoint';
    // Storage the worker cannot read is taken at Flink's word.
    if (localPath(c.external_path!) !== undefined) {
      const header = await readSavepointHeader(c.external_path!);
      if (!header.exists || header.savepointId !== c.id) {
        gone.push(`${kind} ${c.id} at ${c.external_path} (${header.exists ? `holds ${header.savepointId}` : 'its files are gone'})`);
        continue;
      }
    }
    return { jobId, state, retained: { kind, id: c.id, path: c.external_path!, completedAt: c.latest_ack_timestamp }, ...(gone.length ? { gone } : {}) };
  }
  return { jobId, state, retained: null, ...(gone.length ? { gone } : {}) };
}
