// Who else writes or reads the sink tables, whatever the jobs are called: a second writer would
// keep writing over a rolled-back table (its commits since the tag lost for good), and a streaming
// reader keeps its read position past the restored table's snapshots and silently skips the
// snapshots the new commits take (measured, docs/restore.md). Writers are refused before anything
// is stopped; readers are named in the plan with what they will see and the remedy.
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities, TableConsumer, TableJob } from '../activities/contract';
import type { JobSummary, TableRef } from '../src/domain/model';
import type { PlanReader } from './restore-messages';
import { restCall } from './activity-options';
import { fatal } from './job-steps';
import { WorkflowFailureType } from './messages';

const rest = proxyActivities<Activities>(restCall);

/** Histories recorded before the restore plan looked for other writers and readers. */
export const PLAN_FINDS_TABLE_USERS = 'plan-finds-other-writers-and-readers';
/** Histories recorded before the upgrade's preflight refused a second writer. */
export const UPGRADE_REFUSES_OTHER_WRITERS = 'upgrade-refuses-other-writers';

/** Flink's plan names a Paimon writer by its table name only, so every writer match is by name. */
export const BY_NAME_ONLY = "Flink's plan names a Paimon writer by table name only, not its database";

export interface TableUsers {
  /** the operation's own job as its plan shows it; undefined when the plan writes and reads none of the tables */
  own?: TableJob;
  /** live jobs other than the operation's own writer that write a table of that name */
  otherWriters: TableJob[];
  /** live jobs other than the writer that read the tables */
  readerJobs: TableJob[];
  consumers: TableConsumer[];
}

/** One read of every live job's plan and of the tables' consumers; `writerJobId` is the operation's own job. */
export async function observeTableUsers(tables: TableRef[], writerJobId: string | undefined, readConsumers: boolean): Promise<TableUsers> {
  const [jobs, consumers] = await Promise.all([
    rest.findTableJobs({ tables }),
    readConsumers ? rest.listConsumers({ tables }) : Promise.resolve([]),
  ]);
  const others = jobs.filter((j) => j.jobId !== writerJobId);
  return {
    own: jobs.find((j) => j.jobId === writerJobId),
    otherWriters: others.filter((j) => j.writes.length > 0),
    readerJobs: others.filter((j) => j.reads.length > 0),
    consumers,
  };
}

/** Whether `options.notWriters` names the job, by id or by name. */
export const namedIn =
  (notWriters: string[]) =>
  (j: TableJob): boolean =>
    notWriters.some((n) => n === j.jobId || n === j.name);

/**
 * The upgrade's preflight: the job it stops writes every sink table, and no other job does.
 * Another writer would see its commits rolled back by the compensation.
 */
export async function refuseWrongWritersOfUpgrade(tables: TableRef[], job: JobSummary, notWriters: string[]): Promise<void> {
  if (!patched(UPGRADE_REFUSES_OTHER_WRITERS)) return;
  const users = await observeTableUsers(tables, job.jobId, false);
  requireOwnJobWrites(
    tables,
    job,
    users,
    "The upgrade would stop it, Paimon would not tag its savepoint on these tables, and the undo would start the old version in its place from that savepoint",
  );
  const otherWriters = users.otherWriters.filter((j) => !namedIn(notWriters)(j));
  if (otherWriters.length === 0) return;
  throw otherWritersFailure(
    otherWriters,
    `the upgrade stops job '${job.name}' (${job.jobId})`,
    "An upgrade that fails is undone by rolling the tables back to the savepoint's tag, under them: what they committed meanwhile " +
      'would be lost, so the upgrade is not safe to start. If one writes a table of that name in another database, name it in options.notWriters',
  );
}

/**
 * The job an operation stops (or takes a savepoint of) writes every declared sink table, as its
 * plan in Flink shows: else the job or the tables were named wrongly (a job id copied from the
 * wrong pipeline), Paimon never tags its savepoint on these tables, and an undo would start
 * another pipeline's version from that savepoint. NotTheWriter (non-retryable) otherwise.
 */
export function requireOwnJobWrites(tables: TableRef[], job: { jobId: string; name: string }, users: TableUsers, consequence: string): void {
  const writes = users.own?.writes ?? [];
  const notWritten = tables.filter((t) => !writes.includes(t));
  if (notWritten.length === 0) return;
  const seen =
    writes.length > 0
      ? `its plan in Flink writes a table named ${writes.map(shortName).join(', ')}, but none named ${notWritten.map(shortName).join(', ')}`
      : `its plan in Flink shows no Paimon writer ('Writer : <table>') of a table named ${notWritten.map(shortName).join(', ')}` +
        (users.own && users.own.reads.length > 0 ? ` (it reads ${users.own.reads.map((r) => r.table).join(', ')})` : '');
  const writers = users.otherWriters.filter((j) => notWritten.some((t) => j.writes.includes(t)));
  const realWriters = writers.length > 0 ? ` Live jobs that do write them: ${writersText(writers)}.` : ' No live job writes them.';
  throw fatal(
    WorkflowFailureType.NotTheWriter,
    `job '${job.name}' (${job.jobId}) does not write every declared sink table: ${seen} (${BY_NAME_ONLY}).${realWriters} ` +
      `${consequence}. Name the job that writes ${notWritten.join(', ')}, or declare the tables this job writes. Nothing was changed.`,
  );
}

/** What a restore would do to another writer's tables, for its refusal. */
export const RESTORE_UNDER_OTHER_WRITERS =
  'A restore would roll the tables back under them: what they committed since the tag would be lost for good, and they would go on ' +
  'writing over the restored tables. If one writes a table of that name in another database, name it in options.notWriters';

/** `name (id, STATE) writes a table named t1, t2` for each job. */
export function writersText(writers: TableJob[]): string {
  return writers.map((j) => `'${j.name}' (${j.jobId}, ${j.state}) writes a table named ${j.writes.map(shortName).join(', ')}`).join('; ');
}

/**
 * OtherWriters (non-retryable) naming each job. `what` says what would go wrong, e.g. "a restore
 * would roll the tables back under it".
 */
export function otherWritersFailure(writers: TableJob[], ownWriter: string, what: string, outcome = 'Nothing was changed.') {
  return fatal(
    WorkflowFailureType.OtherWriters,
    `${ownWriter}, but other job(s) write the sink tables: ${writersText(writers)} (${BY_NAME_ONLY}). ${what}. ` +
      `Stop them first, or name the job that writes these tables. ${outcome}`,
  );
}

/** The part of `database.table` Flink's plan shows for a Paimon writer. */
export const shortName = (table: TableRef): string => table.slice(table.indexOf('.') + 1);

/**
 * Every reader of each table (live jobs by their plans, consumers by `$consumers`), with what it
 * sees and the remedy, given the snapshot each table is rolled back to.
 */
export function planReaders(users: TableUsers, tag: string, tagSnapshotOf: (table: TableRef) => number | undefined): PlanReader[] {
  const readers: PlanReader[] = [];
  const covered = new Set<string>();
  for (const job of users.readerJobs) {
    for (const read of job.reads) {
      const tagSnapshot = tagSnapshotOf(read.table);
      const consumer = users.consumers.find((c) => c.table === read.table && c.consumerId === read.consumerId);
      if (consumer) covered.add(`${consumer.table}/${consumer.consumerId}`);
      readers.push({
        table: read.table,
        job: { jobId: job.jobId, name: job.name, state: job.state },
        ...(read.consumerId ? { consumerId: read.consumerId } : {}),
        ...(consumer ? { nextSnapshotId: consumer.nextSnapshotId } : {}),
        sees: seesText(read.table, tagSnapshot, consumer?.nextSnapshotId),
        remedy: remedyText(read.table, tag, tagSnapshot, { job, consumerId: read.consumerId }),
      });
    }
  }
  for (const consumer of users.consumers) {
    if (covered.has(`${consumer.table}/${consumer.consumerId}`)) continue;
    const tagSnapshot = tagSnapshotOf(consumer.table);
    readers.push({
      table: consumer.table,
      consumerId: consumer.consumerId,
      nextSnapshotId: consumer.nextSnapshotId,
      sees: seesText(consumer.table, tagSnapshot, consumer.nextSnapshotId),
      remedy: remedyText(consumer.table, tag, tagSnapshot, { consumerId: consumer.consumerId }),
    });
  }
  return readers;
}

function seesText(table: TableRef, tagSnapshot: number | undefined, nextSnapshotId: number | undefined): string {
  const at = tagSnapshot === undefined ? 'the tag' : `snapshot ${tagSnapshot}`;
  const position = nextSnapshotId === undefined ? 'its read position' : `its position (next snapshot ${nextSnapshotId})`;
  return (
    `the rows committed to ${table} after ${at} disappear; a streaming read keeps ${position}, which rollback_to does not move, so it ` +
    'stays RUNNING and silently skips the snapshots the restored job commits under the same ids, and keeps what it already read from the rolled-back ones'
  );
}

function remedyText(table: TableRef, tag: string, tagSnapshot: number | undefined, reader: { job?: TableJob; consumerId?: string }): string {
  const next = tagSnapshot === undefined ? '<tag snapshot + 1>' : String(tagSnapshot + 1);
  const stop = reader.job ? `stop job '${reader.job.name}' (${reader.job.jobId}) before the rollback; after the restore ` : 'before a reader with this consumer id starts again, ';
  const start = reader.job
    ? `, then start it again without its savepoint (its savepoint holds the read position from before the rollback)`
    : '';
  // Measured: without this its output keeps the values the rollback removed (docs/restore.md).
  const rows =
    `its output still holds what it read from the rolled-back snapshots: before it starts again, rebuild that output as of ${tag} ` +
    `(for a copy: INSERT OVERWRITE <its output> SELECT * FROM ${table} /*+ OPTIONS('scan.tag-name' = '${tag}') */), or restore it too`;
  if (reader.consumerId) {
    return (
      `${stop}run CALL sys.reset_consumer(\`table\` => '${table}', consumer_id => '${reader.consumerId}', next_snapshot_id => CAST(${next} AS BIGINT))` +
      `${start}; ${rows}`
    );
  }
  return `${stop}start it again without its state, reading ${table} from snapshot ${next} ('scan.mode' = 'from-snapshot', 'scan.snapshot-id' = '${next}'); ${rows}`;
}
