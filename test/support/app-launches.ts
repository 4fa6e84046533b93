// A test's own launch registry (APP_REGISTRY_DIR) read back: which cluster runs which job id, and
// waiting for a job in its own application cluster to checkpoint.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LaunchRecord } from '../../activities/targets/registry';
import { until } from './stack';

export function launchRegistry(dir: string) {
  async function launches(): Promise<LaunchRecord[]> {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    return Promise.all(files.map(async (f) => JSON.parse(await readFile(path.join(dir, f), 'utf8')) as LaunchRecord));
  }
  const launchOf = async (jobId: string) => (await launches()).find((l) => l.jobId === jobId)!;

  /** Until the job's own cluster reports a completed checkpoint. */
  async function checkpointed(jobId: string): Promise<void> {
    const launch = await launchOf(jobId);
    await until(`a completed checkpoint of ${launch.version}`, 180_000, async () => {
      const res = await fetch(`${launch.restUrl}/jobs/${jobId}/checkpoints`).catch(() => undefined);
      const body = res?.ok ? ((await res.json()) as { latest?: { completed?: { id: number } | null } }) : undefined;
      return body?.latest?.completed?.id;
    });
  }
  return { launches, launchOf, checkpointed };
}
