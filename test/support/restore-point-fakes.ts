// In-memory stand-ins for the Flink, Paimon and catalog activities the savepoint and retention
// workflows call; each records its calls in order, for the workflow tests and the replay recorder.
import { ApplicationFailure } from '@temporalio/common';
import { restorePointRecordOf } from '../../activities/catalog/activities';
import { tagIdentities } from '../../activities/catalog/timeline';
import type { Activities } from '../../activities/contract';
import { tagFor, type Savepoint, type TableRef, type TagInfo } from '../../src/domain/model';
import type { RestorePoint, RestorePointRecord } from '../../src/domain/restore-points';
import type { PointInUse } from '../../src/domain/retention-input';

export const DAY = 24 * 60 * 60_000;

export type FakeJobActivities = Pick<
  Activities,
  'resolveJob' | 'requireRecentCheckpoint' | 'describeSinkTables' | 'listTags' | 'triggerSavepoint' | 'awaitTag' | 'recordRestorePoint' | 'findTableJobs'
>;

/** One fake Flink job and its Paimon tables; records every call in order. */
export interface FakeJobKnobs {
  /** tables on which the savepoint's tag never appears */
  tagNeverOn?: TableRef[];
  /** the first triggerSavepoint takes the savepoint, then its answer is lost */
  failFirstTrigger?: boolean;
  /** tables without 'sink.savepoint.auto-tag' */
  autoTagOff?: TableRef[];
  /** tables that do not exist */
  absent?: TableRef[];
  /** tag names every table already has before the savepoint (left by an earlier job run) */
  tagsBefore?: string[];
  /** the job has no recent completed checkpoint: requireRecentCheckpoint refuses with this cause */
  noRecentCheckpoint?: string;
  /** tables whose savepoint tags Paimon expires at this (cluster-local) time, as the catalog records it */
  tagExpiresAt?: Partial<Record<TableRef, string>>;
  /** no job of that name runs (stopped): resolveJob refuses as Flink's activity does */
  notRunning?: boolean;
  /** the tables the job's plan writes (findTableJobs); default every table asked about */
  writes?: TableRef[];
}

export function fakeJob(jobName: string, knobs: FakeJobKnobs = {}) {
  const calls: { name: string; input: any }[] = [];
  const triggerIds: string[] = [];
  const records: RestorePointRecord[] = [];
  let nextId = 40;
  const byTrigger = new Map<string, Savepoint>();
  const jobId = 'c'.repeat(32);
  const activities: FakeJobActivities = {
    async resolveJob(input) {
      calls.push({ name: 'resolveJob', input });
      if (knobs.notRunning) {
        throw ApplicationFailure.create({ type: 'JobNotFound', message: `no running job has that name: '${jobName}'`, nonRetryable: true });
      }
      return { jobId, name: jobName, state: 'RUNNING', startTime: 0 };
    },
    async requireRecentCheckpoint(input) {
      calls.push({ name: 'requireRecentCheckpoint', input });
      if (knobs.noRecentCheckpoint !== undefined) {
        throw ApplicationFailure.create({
          type: 'NoRecentCheckpoint',
          message: `job '${jobName}' (${jobId}) has no recent completed checkpoint: ${knobs.noRecentCheckpoint}`,
          nonRetryable: true,
        });
      }
      return { jobId, checkpointId: nextId - 1, completedAt: 0 };
    },
    async describeSinkTables(input) {
      calls.push({ name: 'describeSinkTables', input });
      return input.tables.map((table) => {
        const exists = !knobs.absent?.includes(table);
        const info = { table, exists, autoTagOnSavepoint: exists && !knobs.autoTagOff?.includes(table) };
        return input.withSavepointTags && exists ? { ...info, savepointTags: knobs.tagsBefore ?? [] } : info;
      });
    },
    async listTags(input) {
      calls.push({ name: 'listTags', input });
      return (knobs.tagsBefore ?? []).map((tagName) => ({ tagName, snapshotId: 1, schemaId: 0, commitTime: '2026-01-01T00:00:00', recordCount: 10 }));
    },
    async findTableJobs(input) {
      calls.push({ name: 'findTableJobs', input });
      const writes = input.tables.filter((t) => knobs.writes?.includes(t) ?? true);
      return writes.length > 0 ? [{ jobId, name: jobName, state: 'RUNNING', writes, reads: [] }] : [];
    },
    async triggerSavepoint(input) {
      calls.push({ name: 'triggerSavepoint', input });
      triggerIds.push(input.triggerId);
      // Flink keys savepoints by trigger id: the same id finds the same savepoint.
      let sp = byTrigger.get(input.triggerId);
      if (!sp) {
        const id = nextId++;
        sp = { savepointId: id, path: `file:/sp/savepoint-cccccc-${id}`, jobId, stopped: false, triggeredAt: Date.now() };
        byTrigger.set(input.triggerId, sp);
      }
      if (knobs.failFirstTrigger && triggerIds.length === 1) throw new Error('answer lost on the way back');
      return sp;
    },
    async awaitTag(input) {
      calls.push({ name: 'awaitTag', input });
      return { missing: input.tables.filter((t) => knobs.tagNeverOn?.includes(t)) };
    },
    async recordRestorePoint(input) {
      calls.push({ name: 'recordRestorePoint', input });
      const record = restorePointRecordOf(input);
      if (input.taggedAtRecord) {
        // Every table shows the point's tag on snapshot 7, as the catalog's own listing would.
        const tag = tagFor(record.savepointId);
        const tagOn = (t: TableRef): TagInfo => ({
          tagName: tag,
          snapshotId: 7,
          schemaId: 0,
          commitTime: '2026-11-30T06:00:00',
          recordCount: 10,
          expiresAt: knobs.tagExpiresAt?.[t] ?? null,
        });
        record.tagsAtRecord = tagIdentities(input.tables, tag, new Map(input.tables.map((t) => [t, [tagOn(t)]])));
      }
      records.push(record);
      return record;
    },
  };
  return { activities, calls, triggerIds, records, savepoints: byTrigger };
}

/** A recorded, restorable point `ageMs` old at `now`; override what a case needs. */
export function point(savepointId: number, ageMs: number, over: Partial<RestorePoint> = {}, now = Date.now()): RestorePoint {
  return {
    savepointId,
    tag: `savepoint-${savepointId}`,
    path: `file:/sp/savepoint-abcdef-${savepointId}`,
    jobName: 'job',
    jobId: 'a'.repeat(32),
    deploymentVersion: null,
    label: null,
    createdAt: new Date(now - ageMs).toISOString(),
    pinned: false,
    recorded: true,
    tables: { 'demo.seq_a': 'present', 'demo.seq_b': 'present' },
    savepointPresent: true,
    expiring: false,
    restorable: true,
    problems: [],
    ...over,
  };
}

export type CatalogKnobs = {
  /** markRestorePointExpiring refuses these: pinned after the listing */
  pinnedMeanwhile?: number[];
  /** Flink cannot dispose these (non-retryably) */
  disposeFails?: number[];
  /** deleteTag says the tag is not there */
  tagAlreadyGone?: { table: TableRef; savepointId: number }[];
  /** the points the operation in flight uses */
  inUse?: PointInUse[];
};

export type CatalogFake = Pick<
  Activities,
  | 'listRestorePoints'
  | 'restorePointsInUse'
  | 'markRestorePointExpiring'
  | 'deleteTag'
  | 'disposeSavepoint'
  | 'deleteSavepointDirectory'
  | 'deleteRestorePointRecord'
>;

export function fakeCatalog(points: RestorePoint[], knobs: CatalogKnobs = {}) {
  const calls: string[] = [];
  const idOf = (path: string) => Number(/-(\d+)$/.exec(path)![1]);
  const fatal = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });
  const activities: CatalogFake = {
    async listRestorePoints(input) {
      calls.push(`list ${input.jobName}`);
      return points;
    },
    async restorePointsInUse(input) {
      calls.push(`inUse ${input.jobName}`);
      return knobs.inUse ?? [];
    },
    async markRestorePointExpiring({ savepointId, at, upgradePinReleased }) {
      if (knobs.pinnedMeanwhile?.includes(savepointId)) {
        calls.push(`mark-refused ${savepointId}`);
        throw fatal('RestorePointPinned', `restore point ${savepointId} is pinned`);
      }
      if (Number.isNaN(Date.parse(at))) throw new Error(`markRestorePointExpiring: 'at' is not a time: ${at}`);
      calls.push(`mark ${savepointId}${upgradePinReleased ? ' (upgrade pin released)' : ''}`);
      return {} as never;
    },
    async deleteTag({ table, tag }) {
      const savepointId = Number(tag.replace('savepoint-', ''));
      calls.push(`deleteTag ${table} ${tag}`);
      if (knobs.tagAlreadyGone?.some((g) => g.table === table && g.savepointId === savepointId)) {
        throw fatal('TagMissing', `tag ${tag} does not exist on ${table}`);
      }
    },
    async disposeSavepoint({ path }) {
      calls.push(`dispose ${idOf(path)}`);
      if (knobs.disposeFails?.includes(idOf(path))) throw fatal('SavepointNotFound', 'cannot read the metadata');
    },
    async deleteSavepointDirectory({ path }) {
      calls.push(`deleteDir ${idOf(path)}`);
      return { deleted: true };
    },
    async deleteRestorePointRecord({ savepointId }) {
      calls.push(`deleteRecord ${savepointId}`);
    },
  };
  return { activities, calls };
}

