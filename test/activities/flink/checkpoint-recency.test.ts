// What "a recent completed checkpoint" means, on scripted Flink answers (the real crash-looping job
// is in test/bad-input/checks-before-stop.test.ts): after the job's last restart, whether it left
// RUNNING or not, within the age limit; the cause named is the latest exception, else the latest
// failed checkpoint; checkpointing disabled is refused too.
import { describe, expect, it } from 'vitest';
import { requireRecentCheckpoint } from '../../../activities/flink/checkpoint-recency';
import type { FlinkClient } from '../../../activities/flink/client';
import { HttpStatusError } from '../../../activities/http';
import { expectFatal } from '../../support/flink-fixtures';

const JOB = 'a'.repeat(32);
const NOW = Date.parse('2026-11-30T06:00:00Z');
const at = (secondsAgo: number) => NOW - secondsAgo * 1000;

interface Scene {
  runningSince: number;
  completed?: { id: number; triggered: number; acked: number } | null;
  failed?: { id: number; message: string } | null;
  exception?: { at: number; stack: string } | null;
  interval?: number | 'disabled';
}

function flink(scene: Scene): FlinkClient {
  const checkpoint = (c: { id: number; triggered: number; acked: number }) => ({
    id: c.id, status: 'COMPLETED', is_savepoint: false, trigger_timestamp: c.triggered, latest_ack_timestamp: c.acked, checkpoint_type: 'CHECKPOINT',
  });
  const failed = scene.failed
    ? { id: scene.failed.id, status: 'FAILED', is_savepoint: false, trigger_timestamp: at(1), latest_ack_timestamp: at(1), checkpoint_type: 'CHECKPOINT', failure_message: scene.failed.message }
    : null;
  return {
    jobDetails: async () => ({ jid: JOB, name: 'orders', state: 'RUNNING', 'start-time': at(3600), now: NOW, timestamps: { RUNNING: scene.runningSince }, vertices: [] }),
    checkpoints: async () => ({
      counts: { completed: scene.completed ? 1 : 0, failed: failed ? 1 : 0, in_progress: 0 },
      latest: { completed: scene.completed ? checkpoint(scene.completed) : null, savepoint: null, failed },
      history: failed ? [failed] : [],
    }),
    exceptions: async () =>
      scene.exception
        ? { 'root-exception': scene.exception.stack, timestamp: scene.exception.at, exceptionHistory: { entries: [{ exceptionName: 'x', stacktrace: scene.exception.stack, timestamp: scene.exception.at }] } }
        : { 'root-exception': null, timestamp: null, exceptionHistory: { entries: [] } },
    checkpointConfig: async () => {
      if (scene.interval === 'disabled') throw new HttpStatusError(404, 'GET', `/jobs/${JOB}/checkpoints/config`, 'Checkpointing is not enabled for this job.', 'Flink REST');
      return { mode: 'exactly_once', interval: scene.interval ?? 3000, timeout: 600_000 };
    },
  } as unknown as FlinkClient;
}

const check = (scene: Scene, maxAgeMs?: number) => requireRecentCheckpoint(flink(scene), maxAgeMs, { jobId: JOB });

describe('requireRecentCheckpoint', () => {
  it('passes a checkpoint triggered after the last restart and completed within the limit', async () => {
    expect(await check({ runningSince: at(600), completed: { id: 7, triggered: at(5), acked: at(4) } })).toEqual({ jobId: JOB, checkpointId: 7, completedAt: at(4) });
  });

  it('refuses one from before the last restart, also a failover that never left RUNNING (seen in the exception history)', async () => {
    const beforeRestart = await expectFatal(check({ runningSince: at(10), completed: { id: 7, triggered: at(30), acked: at(29) } }), 'NoRecentCheckpoint');
    expect(beforeRestart.message).toContain('no checkpoint has completed since it last (re)started at 2026-11-30T05:59:50.000Z (the latest, 7,');
    const failover = await expectFatal(
      check({
        runningSince: at(600),
        completed: { id: 7, triggered: at(30), acked: at(29) },
        exception: { at: at(20), stack: 'java.lang.RuntimeException: boom\n\tat x.y(Z.java:1)\nCaused by: java.io.IOException: disk full\n\tat a.b(C.java:2)' },
      }),
      'NoRecentCheckpoint',
    );
    expect(failover.message).toContain('since it last (re)started at 2026-11-30T05:59:40.000Z');
    expect(failover.message).toContain('its latest exception (2026-11-30T05:59:40.000Z): IOException: disk full');
  });

  it('refuses a checkpoint older than three intervals (at least 60 s), or the configured age', async () => {
    expect(await check({ runningSince: at(600), completed: { id: 7, triggered: at(59), acked: at(58) } })).toMatchObject({ checkpointId: 7 });
    const stale = await expectFatal(check({ runningSince: at(600), completed: { id: 7, triggered: at(62), acked: at(61) } }), 'NoRecentCheckpoint');
    expect(stale.message).toContain('its latest completed checkpoint, 7, completed at 2026-11-30T05:58:59.000Z, more than 60000 ms ago');
    // A 10-minute interval: three of them.
    expect(await check({ runningSince: at(3600), completed: { id: 7, triggered: at(1700), acked: at(1699) }, interval: 600_000 })).toMatchObject({ checkpointId: 7 });
    await expectFatal(check({ runningSince: at(600), completed: { id: 7, triggered: at(5), acked: at(4) } }, 1000), 'NoRecentCheckpoint');
  });

  it('names the latest failed checkpoint when no exception is recorded', async () => {
    const refusal = await expectFatal(
      check({ runningSince: at(600), completed: null, failed: { id: 9, message: 'Checkpoint expired before completing.' } }),
      'NoRecentCheckpoint',
    );
    expect(refusal.message).toBe(
      `job 'orders' (${JOB}) has no recent completed checkpoint: no checkpoint has completed since it started; its latest failed checkpoint 9: ` +
        'Checkpoint expired before completing. A savepoint would not complete either, so nothing was triggered. Fix the job (or wait for a checkpoint) and start again.',
    );
  });

  it('a job that started moments ago with nothing failing is told to wait for its first checkpoint, not to be fixed', async () => {
    const err = await expectFatal(requireRecentCheckpoint(flink({ runningSince: at(4) }), undefined, { jobId: JOB }), 'NoRecentCheckpoint');
    expect(err.message).toContain('no checkpoint has completed since it started');
    expect(err.message).toContain('no exception or failed checkpoint recorded (state RUNNING)');
    expect(err.message).toContain('It (re)started 4 s ago and nothing failed: wait for its first checkpoint (every 3000 ms) and start again.');
    expect(err.message).not.toContain('Fix the job');
  });

  it('refuses a job with checkpointing disabled', async () => {
    const refusal = await expectFatal(check({ runningSince: at(600), interval: 'disabled' }), 'NoRecentCheckpoint');
    expect(refusal.message).toContain('has checkpointing disabled');
  });
});
