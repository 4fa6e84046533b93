// The catalog's lifecycle steps: pins (a person's, an upgrade's and how that upgrade ended) and
// retention's marking and deleting, each re-checked against the record as it is now.
import { log } from '@temporalio/activity';
import { upgradePointLabel, type RestorePointRecord } from '../../src/domain/restore-points';
import type { CatalogActivities } from '../contract';
import { CatalogFailureType, catalogFailure, type RestorePointStore } from './store';

type LifecycleActivities = Pick<
  CatalogActivities,
  | 'pinRestorePoint'
  | 'unpinRestorePoint'
  | 'recordUpgradeOutcome'
  | 'markRestorePointExpiring'
  | 'deleteRestorePointRecord'
  | 'deleteSavepointDirectory'
>;

export function createLifecycleActivities(store: () => RestorePointStore): LifecycleActivities {
  async function setPinned(jobName: string, savepointId: number, pinned: boolean): Promise<RestorePointRecord> {
    const record = await store().require(jobName, savepointId);
    if (pinned && record.expiringSince) {
      throw catalogFailure(
        CatalogFailureType.RestorePointExpiring,
        `restore point ${savepointId} of job '${jobName}' is being deleted by retention (since ${record.expiringSince}); it cannot be pinned`,
      );
    }
    // Pinning by hand makes the pin a person's, also on an upgrade's point: it never expires then.
    const already = pinned ? record.pinned && (record.pinnedBy ?? 'person') === 'person' : !record.pinned;
    if (already) return record;
    const { pinnedBy: _was, ...rest } = record;
    const updated: RestorePointRecord = { ...rest, pinned, ...(pinned ? { pinnedBy: 'person' as const } : {}) };
    await store().write(updated);
    return updated;
  }

  /** How the upgrade that recorded this point ended; a failed one's label says so. */
  async function recordUpgradeOutcome(
    input: Parameters<CatalogActivities['recordUpgradeOutcome']>[0],
  ): Promise<RestorePointRecord | undefined> {
    const record = await store().read(input.jobName, input.savepointId);
    // Moved aside or replaced by another timeline's point of that id meanwhile: nothing of ours to update.
    if (!record || record.path !== input.path || !record.upgrade) return record;
    if (record.upgrade.outcome === input.outcome) return record;
    const upgrade = { ...record.upgrade, outcome: input.outcome, endedAt: input.at };
    // The label was ours ('before upgrade to v2'); a person's label stays as written.
    const label = record.label === upgradePointLabel({ ...record.upgrade, outcome: 'in-flight' }) ? upgradePointLabel(upgrade) : record.label;
    const updated: RestorePointRecord = { ...record, upgrade, label };
    await store().write(updated);
    log.info('upgrade outcome recorded with its restore point', { jobName: input.jobName, savepointId: input.savepointId, outcome: input.outcome });
    return updated;
  }

  return {
    pinRestorePoint: ({ jobName, savepointId }) => setPinned(jobName, savepointId, true),
    unpinRestorePoint: ({ jobName, savepointId }) => setPinned(jobName, savepointId, false),
    recordUpgradeOutcome,

    async markRestorePointExpiring({ jobName, savepointId, at, path, upgradePinReleased }) {
      const record = await store().require(jobName, savepointId);
      // Ids repeat across timelines: the point retention listed may have been moved aside since.
      if (path !== undefined && record.path !== path) {
        throw catalogFailure(
          CatalogFailureType.RestorePointConflict,
          `restore point ${savepointId} of job '${jobName}' is now the savepoint at ${record.path}, not ${path}; retention leaves it alone`,
        );
      }
      // Re-checked here, not only in the decision: a pin that lands after the listing wins. Only an
      // upgrade's pin that retention found released (and that is still an upgrade's) lets go.
      const releasable = upgradePinReleased === true && record.pinnedBy === 'upgrade' && (record.upgrade?.outcome === 'succeeded' || record.upgrade?.outcome === 'failed');
      if (record.pinned && !releasable) {
        throw catalogFailure(
          CatalogFailureType.RestorePointPinned,
          `restore point ${savepointId} of job '${jobName}' is pinned${record.pinnedBy === 'upgrade' ? ' by an upgrade' : ''}; retention does not delete it`,
        );
      }
      if (record.expiringSince) return record;
      const updated = { ...record, expiringSince: at };
      await store().write(updated);
      return updated;
    },

    async deleteRestorePointRecord({ jobName, savepointId, path }) {
      const record = await store().read(jobName, savepointId);
      if (!record || (path !== undefined && record.path !== path)) return;
      if (!record.expiringSince) {
        throw catalogFailure(
          CatalogFailureType.RestorePointConflict,
          `refusing to delete the record of restore point ${savepointId} of job '${jobName}': it was not marked expiring first`,
        );
      }
      await store().delete(jobName, savepointId);
    },

    async deleteSavepointDirectory({ path }) {
      const deleted = await store().deleteSavepointDirectory(path);
      if (deleted) log.info('savepoint directory deleted', { path });
      return { deleted };
    },
  };
}
