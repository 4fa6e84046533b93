// Replays recorded restore histories (test/workflows/histories/restore) against today's workflow
// code, as replay.test.ts does for upgrades: a change that would break a restore waiting for its
// approval (a step added, removed or reordered without patched()) fails here.
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { recordedHistories, replayAll, replayBundle, scheduledActivities } from '../support/replay';
import { recordRestoreHistories, RESTORE_HISTORIES_DIR } from './record-restore-histories';

const bundle = replayBundle(recordRestoreHistories);

const recorded = () => recordedHistories(RESTORE_HISTORIES_DIR);
/** Recorded before the patches of #16 item 7 (restore-plan-reads-at-once and the ones after it). */
const BEFORE_RESTORE_DOWNTIME_DIR = path.join(RESTORE_HISTORIES_DIR, 'before-restore-downtime');
/** Recorded before patch restore-keeps-writer-parallelism. */
const BEFORE_WRITER_PARALLELISM_DIR = path.join(RESTORE_HISTORIES_DIR, 'before-writer-parallelism');
/** Recorded before patch restore-plan-reads-writer-checkpoint (tag names above the writer's checkpoint refused before the stop). */
const BEFORE_WRITER_CHECKPOINT_DIR = path.join(RESTORE_HISTORIES_DIR, 'before-writer-checkpoint');
/** Recorded before patch approvals-signed: approvals by name, unsigned, and no approvers' keys read. */
const BEFORE_SIGNED_APPROVALS_DIR = path.join(RESTORE_HISTORIES_DIR, 'before-signed-approvals');
/**
 * Recorded before patches restore-reads-after-stop-beside-tag-wait, rollback-reads-table-after and
 * restore-marks-lost-points-beside-deploy (issue 28: the restore's steps while the job is down).
 */
const BEFORE_RESTORE_SPEED_DIR = path.join(RESTORE_HISTORIES_DIR, 'before-restore-speed');

describe('recorded restore histories', () => {
  it('has histories for every outcome', async () => {
    expect((await recorded()).map((h) => h.workflowId)).toEqual([
      'restore-changed-during-stop',
      'restore-expired',
      'restore-incomplete',
      'restore-plan-changed',
      'restore-rejected',
      'restore-restored',
    ]);
  });

  it('replay without a determinism error on the current workflow code', async () => {
    const histories = await recorded();
    expect(await replayAll(bundle(), histories)).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });

  it('histories recorded before the restore read at once and checked after the stop only what it changes still replay', async () => {
    const histories = await recordedHistories(BEFORE_RESTORE_DOWNTIME_DIR);
    expect(histories).toHaveLength(5);
    expect(await replayAll(bundle(), histories)).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });

  it('histories recorded before the restore kept the writer\'s parallelism still replay', async () => {
    const histories = await recordedHistories(BEFORE_WRITER_PARALLELISM_DIR);
    expect(histories).toHaveLength(6);
    expect(await replayAll(bundle(), histories)).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });

  it('histories recorded before the plan read the writer\'s latest checkpoint still replay', async () => {
    const histories = await recordedHistories(BEFORE_WRITER_CHECKPOINT_DIR);
    expect(histories).toHaveLength(6);
    expect(scheduledActivities(histories.find((h) => h.workflowId === 'restore-restored')!.history).names).not.toContain('requireRecentCheckpoint');
    expect(scheduledActivities((await recorded()).find((h) => h.workflowId === 'restore-restored')!.history).names).toContain('requireRecentCheckpoint');
    expect(await replayAll(bundle(), histories)).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });

  it('histories recorded before approvals were signed (unsigned approvals, no keys read) still replay', async () => {
    const histories = await recordedHistories(BEFORE_SIGNED_APPROVALS_DIR);
    expect(histories).toHaveLength(6);
    const restored = (dir: typeof histories) => scheduledActivities(dir.find((h) => h.workflowId === 'restore-restored')!.history).names;
    expect(restored(histories)).not.toContain('awaitApproverKeys');
    expect(restored(await recorded())).toContain('awaitApproverKeys');
    expect(await replayAll(bundle(), histories)).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });

  it('histories recorded before the rollback read its table itself and the lost points were marked beside the deploy still replay', async () => {
    const histories = await recordedHistories(BEFORE_RESTORE_SPEED_DIR);
    expect(histories).toHaveLength(6);
    // What ran after the first rollback: its check's own tableState before, none now.
    const afterRollback = (dir: typeof histories) => {
      const names = scheduledActivities(dir.find((h) => h.workflowId === 'restore-restored')!.history).names;
      return names.slice(names.indexOf('rollbackToTag'));
    };
    expect(afterRollback(histories)).toContain('tableState');
    expect(afterRollback(await recorded())).not.toContain('tableState');
    expect(await replayAll(bundle(), histories)).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
  });

  it('would catch a change: a restore that rolled back before creating its undo branch fails to replay', async () => {
    const history = (await recorded()).find((h) => h.workflowId === 'restore-restored')!.history;
    const activities = scheduledActivities(history);
    const branch = activities.names.indexOf('createBranch');
    expect(branch).toBeGreaterThan(0);
    activities.rename(branch, 'rollbackToTag');
    await expect(Worker.runReplayHistory({ workflowBundle: bundle() }, history, 'tampered')).rejects.toThrow(DeterminismViolationError);
  });
});
