// retainedState against the real stack: where a writer that is no longer running starts again
// from (a restore whose stop failed uses it). The stack retains checkpoints on cancellation
// (RETAIN_ON_CANCELLATION, num-retained 3), so an ended job's latest checkpoint is there; one whose
// files are gone is passed over for the next, and a job started from it restores it.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localPath } from '../../../activities/catalog/store';
import { flinkGet, paimonQuery, requireStack, until } from '../../support/stack';
import { activities, cancelJobsNamed, createSinkTables, demoScript, expectFatal, jobState, run, runToken } from '../../support/flink-fixtures';

const DB = 'flinktest_retained';
const PREFIX = 'flinktest-retained';
const UNKNOWN = '0123456789abcdef0123456789abcdef';

describe('retainedState', () => {
  const flink = activities();
  const jobName = `${PREFIX}-${process.pid}`;
  const deploy = async (savepointPath?: string) =>
    (
      await run(flink.deployJob, {
        deployment: { kind: 'sql', version: 'v1', script: demoScript('pipeline-v1.sql', DB, jobName) },
        deployToken: runToken('retained'),
        ...(savepointPath ? { savepointPath } : {}),
      })
    ).jobId;
  const jobCheckpointDirs = new Set<string>();
  const keepDirOf = (jobId: string, checkpointPath: string) => jobCheckpointDirs.add(path.join(path.dirname(localPath(checkpointPath, 'checkpoint')), '..', jobId));

  beforeAll(async () => {
    await requireStack();
    await cancelJobsNamed(PREFIX);
    await createSinkTables(DB, ['seq_a', 'seq_b']);
  });

  afterAll(async () => {
    await cancelJobsNamed(PREFIX);
    // Each job's retained checkpoints: `<checkpoint dir>/<job id>/chk-<n>`.
    for (const dir of jobCheckpointDirs) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    await paimonQuery(`DROP DATABASE IF EXISTS \`${DB}\` CASCADE`).catch(() => undefined);
  });

  it("a cancelled job's latest checkpoint whose files are there; a job started from it restores it", async () => {
    const jobId = await deploy();
    const since = Date.now();
    await run(flink.awaitHealthy, { jobId, since, timeoutMs: 90_000 });
    // Two checkpoints at least, so that one is left when the latest's files are removed.
    await until('two completed checkpoints', 60_000, async () => {
      const cp = await flinkGet<{ counts: { completed: number } }>(`/jobs/${jobId}/checkpoints`);
      return cp.counts.completed >= 2 ? true : undefined;
    });
    const running = await run(flink.retainedState, { jobId });
    keepDirOf(jobId, running.retained!.path);
    expect(running).toMatchObject({ jobId, state: 'RUNNING', retained: { kind: 'checkpoint' } });

    await run(flink.cancelJob, { jobId });
    await until('the job to be CANCELED', 30_000, async () => ((await jobState(jobId)) === 'CANCELED' ? true : undefined));
    const ended = await run(flink.retainedState, { jobId });
    expect(ended.state).toBe('CANCELED');
    expect(ended.retained!.kind).toBe('checkpoint');
    expect(ended.retained!.id).toBeGreaterThanOrEqual(running.retained!.id);
    const stats = await flinkGet<{ latest: { completed: { id: number; external_path: string } } }>(`/jobs/${jobId}/checkpoints`);
    expect(ended.retained).toMatchObject({ id: stats.latest.completed.id, path: stats.latest.completed.external_path });

    // The latest checkpoint's files removed: the next older one that is there, and the gone one named.
    await rm(localPath(ended.retained!.path, 'checkpoint'), { recursive: true, force: true });
    const older = await run(flink.retainedState, { jobId });
    expect(older.retained!.id).toBeLessThan(ended.retained!.id);
    expect(older.gone).toEqual([expect.stringContaining(`checkpoint ${ended.retained!.id} at ${ended.retained!.path} (its files are gone)`)]);

    const again = await deploy(older.retained!.path);
    keepDirOf(again, older.retained!.path);
    const health = await run(flink.awaitHealthy, { jobId: again, since: Date.now(), timeoutMs: 90_000 });
    expect(health.healthy).toBe(true);
    const restored = await flinkGet<{ latest: { restored: { id: number; external_path: string } } }>(`/jobs/${again}/checkpoints`);
    expect(restored.latest.restored).toMatchObject({ id: older.retained!.id, external_path: older.retained!.path });
  });

  it('a job Flink does not know: JobNotFound', async () => {
    await expectFatal(run(flink.retainedState, { jobId: UNKNOWN }), 'JobNotFound');
  });
});
