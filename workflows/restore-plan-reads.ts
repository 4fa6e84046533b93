// What the restore plan reads. After the stop the job is down while the plan is made again, so
// the reads that do not need another's answer start together: the tables' options, their other
// users, the catalog's restore points and the tables' tags; then the tables' snapshots and the
// savepoint's files. Per-table reads run a few tables at a time (fan-out.ts).
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import { FailureType } from '../src/domain/failure-types';
import type { TableRef, TableState, TagInfo } from '../src/domain/model';
import type { RestorePoint } from '../src/domain/restore-points';
import { restCall } from './activity-options';
import { settledAtMost, TABLES_AT_ONCE, valueOf } from './fan-out';
import { failureType } from './job-steps';
import { observeTableUsers, PLAN_FINDS_TABLE_USERS, type TableUsers } from './table-users';

const rest = proxyActivities<Activities>(restCall);

/** Histories recorded before this patch made the plan's reads one after another. */
export const PLAN_READS_AT_ONCE = 'restore-plan-reads-at-once';
/** Histories recorded before this patch read no checkpoint of the writer (tag names were checked only after the stop). */
export const PLAN_READS_WRITER_CHECKPOINT = 'restore-plan-reads-writer-checkpoint';

export interface PlanReads {
  described(): ReturnType<Activities['describeSinkTables']>;
  /** undefined for histories recorded before the plan looked for other writers and readers */
  users(): Promise<TableUsers | undefined>;
  restorePoints(): Promise<RestorePoint[]>;
  /**
   * The latest completed checkpoint id of the writer the restore stops with a savepoint; undefined
   * when there is none to stop, for histories recorded before PLAN_READS_WRITER_CHECKPOINT, and for
   * a writer without a recent one (its stop then decides, and the check after the stop stays the guard).
   */
  writerCheckpoint(): Promise<number | undefined>;
  tags(table: TableRef): Promise<TagInfo[]>;
  /** Starts the reads that need the restore point's tag (its snapshot on every table) and path. */
  startSecondRound(tag: string, path: string | null): Promise<void>;
  state(table: TableRef, newerThan: number): Promise<TableState>;
  savepointFiles(path: string): ReturnType<Activities['inspectSavepoint']>;
}

/** A read made once, when first asked for; `start` asks for it now. */
function once<T>(read: () => Promise<T>): { get: () => Promise<T>; start: () => void } {
  let started: Promise<T> | undefined;
  const get = () => (started ??= read());
  // Its failure is met where the plan uses it, in the plan's order of checks.
  return { get, start: () => void get().catch(() => undefined) };
}

/**
 * The reads of one plan, started together when `atOnce` (patch PLAN_READS_AT_ONCE), else each when
 * the plan asks for it, as histories recorded before made them. `jobName` and `writerJobId` come
 * from the writer, observed first; `stopsWithSavepoint` when the restore will stop it with one.
 */
export function planReads(tables: TableRef[], jobName: string, writerJobId: string | undefined, atOnce: boolean, stopsWithSavepoint = false): PlanReads {
  const described = once(() => rest.describeSinkTables({ tables }));
  const readsCheckpoint = atOnce && stopsWithSavepoint && writerJobId !== undefined && patched(PLAN_READS_WRITER_CHECKPOINT);
  const writerCheckpoint = once(async () => (readsCheckpoint ? latestCheckpointOf(writerJobId!) : undefined));
  const users = once(async () => (patched(PLAN_FINDS_TABLE_USERS) ? observeTableUsers(tables, writerJobId, true) : undefined));
  const restorePoints = once(() => rest.listRestorePoints({ jobName, tables }));
  const savepointFiles = new Map<string, ReturnType<typeof once<{ savepointId: number; exists: boolean }>>>();
  const filesAt = (path: string) => {
    if (!savepointFiles.has(path)) savepointFiles.set(path, once(() => rest.inspectSavepoint({ path })));
    return savepointFiles.get(path)!;
  };
  const common = {
    described: described.get,
    users: users.get,
    restorePoints: restorePoints.get,
    writerCheckpoint: writerCheckpoint.get,
    savepointFiles: (path: string) => filesAt(path).get(),
  };
  if (!atOnce) {
    return {
      ...common,
      tags: (table) => rest.listTags({ table }),
      startSecondRound: async () => undefined,
      state: (table, newerThan) => rest.tableState({ table, newerThan }),
    };
  }

  for (const read of [described, users, restorePoints, writerCheckpoint]) read.start();
  const allTags = settledAtMost(tables, TABLES_AT_ONCE, (table) => rest.listTags({ table }));
  const tagsOf = async (table: TableRef) => valueOf((await allTags)[tables.indexOf(table)]!);
  let allStates: Promise<Map<TableRef, PromiseSettledResult<TableState>>> | undefined;
  return {
    ...common,
    tags: tagsOf,
    async startSecondRound(tag, path) {
      const targets = (await Promise.all(tables.map(async (table) => ({ table, target: (await tagsOf(table)).find((t) => t.tagName === tag) }))))
        .filter((t) => t.target !== undefined);
      allStates = settledAtMost(targets, TABLES_AT_ONCE, ({ table, target }) => rest.tableState({ table, newerThan: target!.snapshotId })).then(
        (outcomes) => new Map(targets.map(({ table }, i) => [table, outcomes[i]!])),
      );
      if (path !== null) filesAt(path).start();
    },
    async state(table, newerThan) {
      const outcome = (await allStates)?.get(table);
      return outcome ? valueOf(outcome) : rest.tableState({ table, newerThan });
    },
  };
}

/** A writer without a recent checkpoint, or gone meanwhile, leaves no id to compare: undefined. */
async function latestCheckpointOf(jobId: string): Promise<number | undefined> {
  try {
    return (await rest.requireRecentCheckpoint({ jobId })).checkpointId;
  } catch (err) {
    const type = failureType(err);
    if (type === FailureType.NoRecentCheckpoint || type === FailureType.JobNotFound) return undefined;
    throw err;
  }
}
