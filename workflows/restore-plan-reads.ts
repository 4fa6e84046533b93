// What the restore plan reads. Each read is made once; after the stop the job is down while the
// plan is made again, so the reads that do not need another's answer start together: the
// tables' options, their other users, the catalog's restore points and every table's tags; then
// every table's snapshots and the savepoint's files.
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import type { TableRef, TableState, TagInfo } from '../src/domain';
import type { RestorePoint } from '../src/restore-points';
import { restCall } from './activity-options';
import { observeTableUsers, PLAN_FINDS_TABLE_USERS, type TableUsers } from './table-users';

const rest = proxyActivities<Activities>(restCall);

/** Histories recorded before this patch made the plan's reads one after another. */
export const PLAN_READS_AT_ONCE = 'restore-plan-reads-at-once';

/** A read started at most once: on first use, or at once when the plan reads at once. */
function once<T>(read: () => Promise<T>): { get: () => Promise<T>; start: () => void } {
  let started: Promise<T> | undefined;
  const get = () => (started ??= read());
  // Its failure is met where the plan uses it, in the plan's order of checks.
  return { get, start: () => void get().catch(() => undefined) };
}

export interface PlanReads {
  described(): ReturnType<Activities['describeSinkTables']>;
  /** undefined for histories recorded before the plan looked for other writers and readers */
  users(): Promise<TableUsers | undefined>;
  restorePoints(): Promise<RestorePoint[]>;
  tags(table: TableRef): Promise<TagInfo[]>;
  /** Starts the reads that need the restore point's tag (its snapshot on every table) and path. */
  startSecondRound(tag: string, path: string | null): Promise<void>;
  state(table: TableRef, newerThan: number): Promise<TableState>;
  savepointFiles(path: string): ReturnType<Activities['inspectSavepoint']>;
}

/**
 * The reads of one plan, started together when `atOnce` (patch PLAN_READS_AT_ONCE). `jobName` and
 * `writerJobId` come from the writer, observed first.
 */
export function planReads(tables: TableRef[], jobName: string, writerJobId: string | undefined, atOnce: boolean): PlanReads {
  const described = once(() => rest.describeSinkTables({ tables }));
  const users = once(async () => (patched(PLAN_FINDS_TABLE_USERS) ? observeTableUsers(tables, writerJobId, true) : undefined));
  const restorePoints = once(() => rest.listRestorePoints({ jobName, tables }));
  const tags = new Map(tables.map((table) => [table, once(() => rest.listTags({ table }))]));
  const states = new Map<TableRef, ReturnType<typeof once<TableState>>>();
  const files = new Map<string, ReturnType<typeof once<{ savepointId: number; exists: boolean }>>>();
  const state = (table: TableRef, newerThan: number) => {
    if (!states.has(table)) states.set(table, once(() => rest.tableState({ table, newerThan })));
    return states.get(table)!;
  };
  const savepointFiles = (path: string) => {
    if (!files.has(path)) files.set(path, once(() => rest.inspectSavepoint({ path })));
    return files.get(path)!;
  };
  if (atOnce) for (const read of [described, users, restorePoints, ...tags.values()]) read.start();

  return {
    described: described.get,
    users: users.get,
    restorePoints: restorePoints.get,
    tags: (table) => tags.get(table)!.get(),
    async startSecondRound(tag, path) {
      if (!atOnce) return;
      const tagged = await Promise.all(tables.map(async (table) => ({ table, target: (await tags.get(table)!.get()).find((t) => t.tagName === tag) })));
      for (const { table, target } of tagged) if (target) state(table, target.snapshotId).start();
      if (path !== null) savepointFiles(path).start();
    },
    state: (table, newerThan) => state(table, newerThan).get(),
    savepointFiles: (path) => savepointFiles(path).get(),
  };
}
