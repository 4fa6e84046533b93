// Replays recorded histories (test/workflows/histories) against today's workflow code: a change
// that would break running upgrades (a step added, removed or reordered without patched()) fails
// here with a DeterminismViolationError instead of in production.
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { recordedHistories, replayAll, replayBundle, scheduledActivities } from '../support/replay';
import { HISTORIES_DIR, recordHistories } from './record-histories';

const bundle = replayBundle(recordHistories);

const recorded = () => recordedHistories(HISTORIES_DIR);
/** Recorded before patches plan-upgrade-shape-before-stop and upgrade-records-its-outcome. */
const BEFORE_UPGRADE_SHAPE_DIR = path.join(HISTORIES_DIR, 'before-upgrade-shape');
/** Recorded before patch upgrade-records-point-after-submit: the restore point recorded beside the deploy. */
const BEFORE_RECORD_AFTER_SUBMIT_DIR = path.join(HISTORIES_DIR, 'before-record-after-submit');

describe('recorded upgrade histories', () => {
  it('has histories for every outcome', async () => {
    expect((await recorded()).map((h) => h.workflowId)).toEqual([
      'upgrade-rolled-back',
      'upgrade-tag-missing',
      'upgrade-unhealthy-not-compensated',
      'upgrade-upgraded',
    ]);
  });

  it('replay without a determinism error on the current workflow code', async () => {
    const histories = await recorded();
    expect(await replayAll(bundle(), histories)).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });

  it('histories recorded before the upgrade planned its shape and recorded its outcome still replay', async () => {
    const histories = await recordedHistories(BEFORE_UPGRADE_SHAPE_DIR);
    expect(histories).toHaveLength(4);
    expect(await replayAll(bundle(), histories)).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });

  it('histories recorded before the restore point was recorded after the deploy still replay, recording it beside the deploy', async () => {
    const histories = await recordedHistories(BEFORE_RECORD_AFTER_SUBMIT_DIR);
    expect(histories).toHaveLength(4);
    const upgraded = histories.find((h) => h.workflowId === 'upgrade-upgraded')!;
    const names = scheduledActivities(upgraded.history).names;
    expect(names.indexOf('recordRestorePoint')).toBeLessThan(names.indexOf('deployJob'));
    expect(await replayAll(bundle(), histories)).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });

  it('the restore point is recorded once the deploy returned', async () => {
    const upgraded = (await recorded()).find((h) => h.workflowId === 'upgrade-upgraded')!;
    const names = scheduledActivities(upgraded.history).names;
    expect(names.indexOf('recordRestorePoint')).toBe(names.indexOf('deployJob') + 1);
  });

  it('would catch a change: a history whose second activity is another one fails to replay', async () => {
    // The control: prove the replay looks at the commands, by tampering with the recorded history
    // the way a reordering of the preflight would.
    const [{ history }] = await recorded();
    const activities = scheduledActivities(history);
    expect(activities.names[1]).toBe('requireRecentCheckpoint');
    activities.rename(1, 'checkFlinkCluster');
    await expect(Worker.runReplayHistory({ workflowBundle: bundle() }, history, 'tampered')).rejects.toThrow(
      DeterminismViolationError,
    );
  });
});
