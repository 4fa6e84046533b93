// Savepoint activities against the real stack: our own demo pipeline writing to our own Paimon
// tables, an intermediate savepoint, stop-with-savepoint (twice, same trigger), the savepoint id
// Paimon tags, _metadata inspection and disposal.
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Savepoint } from '../../../src/domain/model';
import { localPath } from '../../../activities/flink/savepoint-metadata';
import { awaitCheckpointedRun } from '../../support/demo-pipeline';
import { requireStack } from '../../support/stack';
import {
  activities,
  activityEnv,
  cancelJobsNamed,
  config,
  createSinkTables,
  demoScript,
  expectFatal,
  jobState,
  run,
  runToken,
  tagNames,
} from '../../support/flink-fixtures';

const DB = 'flinktest_savepoints';
const PREFIX = 'flinktest-savepoints';
const NAME = `${PREFIX}-${Date.now()}`;
const UNKNOWN = '0123456789abcdef0123456789abcdef';
const hex32 = () => Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');

const savepointDir = localPath(config.flink.savepointDir)!;
const savepointDirsOf = (jobId: string) =>
  readdirSync(savepointDir).filter((name) => name.startsWith(`savepoint-${jobId.slice(0, 6)}-`));

describe('savepoint activities', () => {
  const flink = activities();
  let jobId: string;
  let intermediate: Savepoint;
  let stopped: Savepoint;
  const stopTrigger = hex32();

  beforeAll(async () => {
    await requireStack();
    await cancelJobsNamed(PREFIX);
    await createSinkTables(DB, ['seq_a', 'seq_b']);
    ({ jobId } = await run(flink.deployJob, {
      deployment: { kind: 'sql', version: 'v1', script: demoScript('pipeline-v1.sql', DB, NAME) },
      deployToken: runToken('savepoints'),
    }));
    await awaitCheckpointedRun(jobId, 60_000);
  });

  afterAll(async () => {
    await cancelJobsNamed(PREFIX);
  });

  it('triggerSavepoint takes an intermediate savepoint; the job keeps running', async () => {
    const trigger = hex32();
    const heartbeats: unknown[] = [];
    const env = activityEnv();
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    intermediate = await run(flink.triggerSavepoint, { jobId, triggerId: trigger }, env);
    expect(intermediate).toMatchObject({ jobId, stopped: false });
    expect(intermediate.savepointId).toBeGreaterThan(0);
    expect(localPath(intermediate.path)!.startsWith(savepointDir)).toBe(true);
    expect(await jobState(jobId)).toBe('RUNNING');
    for (const beat of heartbeats) expect(beat).toMatchObject({ triggerId: trigger });

    // the same trigger id again: the same savepoint, no second directory
    const dirs = savepointDirsOf(jobId).length;
    await expect(run(flink.triggerSavepoint, { jobId, triggerId: trigger })).resolves.toEqual(intermediate);
    expect(savepointDirsOf(jobId)).toHaveLength(dirs);
  });

  it('inspectSavepoint reads the same savepoint id from _metadata, however the path is spelled', async () => {
    const dir = localPath(intermediate.path)!;
    for (const spelling of [intermediate.path, `file://${dir}`, dir, `${dir}/`]) {
      await expect(run(flink.inspectSavepoint, { path: spelling })).resolves.toEqual({
        exists: true,
        savepointId: intermediate.savepointId,
      });
    }
  });

  it('a savepoint Flink cannot write fails with SavepointFailed and the cause; the job keeps running', async () => {
    const err = await expectFatal(
      run(flink.triggerSavepoint, { jobId, triggerId: hex32(), targetDirectory: 'file:///proc/flinktest-no-such-dir' }),
      'SavepointFailed',
    );
    expect(err.message).toContain(jobId);
    expect(err.message).toContain('Failed to create savepoint directory at file:/proc/flinktest-no-such-dir');
    expect(err.message).toMatch(/new trigger id/);
    expect(await jobState(jobId)).toBe('RUNNING');
    // What the job does now, in Flink's word (GET /jobs/:id/status), not assumed.
    expect(err.message).toContain('The job keeps running (Flink says RUNNING)');
  });

  it('a stop-with-savepoint Flink cannot write fails with SavepointFailed; the message gives the state Flink reports, the job is not stopped', async () => {
    const err = await expectFatal(
      run(flink.stopWithSavepoint, { jobId, triggerId: hex32(), drain: false, targetDirectory: 'file:///proc/flinktest-no-such-dir' }),
      'SavepointFailed',
    );
    const state = await jobState(jobId);
    expect(state).toBe('RUNNING');
    expect(err.message).toContain('The job was not stopped: Flink says it is RUNNING');
    expect(err.message).not.toMatch(/or restarts/);
  });

  it('stopWithSavepoint stops the job and returns the savepoint id that Paimon tags', async () => {
    const before = savepointDirsOf(jobId).length;
    stopped = await run(flink.stopWithSavepoint, { jobId, triggerId: stopTrigger, drain: false });
    expect(stopped).toMatchObject({ jobId, stopped: true });
    expect(stopped.savepointId).toBeGreaterThan(intermediate.savepointId);
    expect(await jobState(jobId)).toBe('FINISHED');
    expect(savepointDirsOf(jobId)).toHaveLength(before + 1);
    await expect(run(flink.inspectSavepoint, { path: stopped.path })).resolves.toEqual({
      exists: true,
      savepointId: stopped.savepointId,
    });
    // sink.savepoint.auto-tag: a stop-with-savepoint commits, so the tag is there at once
    for (const table of ['seq_a', 'seq_b']) {
      expect(await tagNames(DB, table)).toContain(`savepoint-${stopped.savepointId}`);
    }
  });

  it('stopWithSavepoint again with the same trigger id returns the same savepoint and takes no other', async () => {
    const dirs = savepointDirsOf(jobId);
    await expect(run(flink.stopWithSavepoint, { jobId, triggerId: stopTrigger, drain: false })).resolves.toEqual(stopped);
    expect(savepointDirsOf(jobId)).toEqual(dirs);
  });

  it('on a job a stop-with-savepoint finished, a trigger Flink forgot still finds that savepoint', async () => {
    // What a retry sees after rest.async.store-duration: the trigger is unknown, the job FINISHED.
    const found = await run(flink.stopWithSavepoint, { jobId, triggerId: hex32(), drain: false });
    expect(found).toMatchObject({ savepointId: stopped.savepointId, stopped: true, jobId });
  });

  it('an intermediate savepoint of a finished job fails with JobNotRunning', async () => {
    const err = await expectFatal(run(flink.triggerSavepoint, { jobId, triggerId: hex32() }), 'JobNotRunning');
    expect(err.message).toContain('FINISHED');
  });

  it('unknown jobs and bad input fail for good', async () => {
    await expectFatal(run(flink.stopWithSavepoint, { jobId: UNKNOWN, triggerId: hex32(), drain: false }), 'JobNotFound');
    await expectFatal(run(flink.triggerSavepoint, { jobId: UNKNOWN, triggerId: hex32() }), 'JobNotFound');
    await expectFatal(run(flink.stopWithSavepoint, { jobId, triggerId: 'not-hex', drain: false }), 'InvalidInput');
    await expectFatal(run(flink.triggerSavepoint, { jobId: 'x', triggerId: hex32() }), 'InvalidInput');
    await expectFatal(run(flink.inspectSavepoint, { path: '' }), 'InvalidInput');
  });

  it('inspectSavepoint: missing folder or _metadata is exists=false; non-savepoints and remote paths fail', async () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'flinktest-sp-'));
    await expect(run(flink.inspectSavepoint, { path: `file://${scratch}/nope` })).resolves.toMatchObject({ exists: false });
    await expect(run(flink.inspectSavepoint, { path: scratch })).resolves.toMatchObject({ exists: false });
    mkdirSync(path.join(scratch, 'fake'));
    writeFileSync(path.join(scratch, 'fake', '_metadata'), Buffer.alloc(64, 7));
    const notOne = await expectFatal(run(flink.inspectSavepoint, { path: path.join(scratch, 'fake') }), 'InvalidInput');
    expect(notOne.message).toMatch(/magic number/);
    const remote = await expectFatal(run(flink.inspectSavepoint, { path: 's3://bucket/savepoint-1' }), 'InvalidInput');
    expect(remote.message).toMatch(/only local savepoints/);
  });

  it('disposeSavepoint removes a savepoint; disposing it again is a no-op', async () => {
    await run(flink.disposeSavepoint, { path: intermediate.path });
    await expect(run(flink.inspectSavepoint, { path: intermediate.path })).resolves.toMatchObject({ exists: false });
    expect(savepointDirsOf(jobId)).not.toContain(path.basename(localPath(intermediate.path)!));
    await expect(run(flink.disposeSavepoint, { path: intermediate.path })).resolves.toBeUndefined();
  });
});
