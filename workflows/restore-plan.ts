// The restore's plan: observe everything the restore will touch and change nothing. Which
// savepoint and tag the restore point is, that the tag is on every sink table and the savepoint's
// files exist, and the blast radius of `rollback_to` per table.
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities, CommitsSince } from '../activities/contract';
import { FailureType } from '../src/domain/failure-types';
import { RECORDS_MEANING } from '../src/domain/records';
import { savepointTagNames, type JobSummary, type TableRef, type TagInfo } from '../src/domain/model';
import { TAG_REMADE, type RestorePoint } from '../src/domain/restore-points';
import { restCall } from './activity-options';
import { checkDeploymentsBeforeStop } from './deployment-check';
import { failureType, fatal, STOPPED } from './job-steps';
import { WorkflowFailureType } from './messages';
import type { RestoreParams, RestorePointRef } from './restore-input';
import type { RestorePlan, TableBlastRadius } from './restore-messages';
import { otherWritersLossText, PLAN_COUNTS_OTHER_WRITERS_COMMITS, planOtherWriters } from './other-writer-commits';
import { PLAN_READS_AT_ONCE, planReads } from './restore-plan-reads';
import { tagsAheadFailure, tagsAheadOf } from './tag-guard';
import {
  BY_NAME_ONLY,
  namedIn,
  otherWritersFailure,
  planReaders,
  requireOwnJobWrites,
  RESTORE_UNDER_OTHER_WRITERS,
  shortName,
  type TableUsers,
} from './table-users';

const rest = proxyActivities<Activities>(restCall);

export interface PlanFor {
  params: RestoreParams;
  version: number;
  /** the branch (and tag) this restore makes on every table before the rollback */
  undoName: string;
  /** set once this restore has stopped the writer (with a savepoint, or cancelled it) */
  stopped?: {
    jobId: string;
    savepoint?: { savepointId: number; path: string; tag: string };
    /** every table's tags, read once today's tag was on all of them */
    tagsAfterStop?: Record<TableRef, TagInfo[]>;
  };
}

/** Histories recorded before this patch re-asked forever once a plan made after the stop was approved. */
const TODAYS_TAG_EXPECTED_IN_BOTH_PLANS = 'todays-tag-expected-in-both-plans';

export async function makePlan({ params, version, undoName, stopped }: PlanFor): Promise<RestorePlan> {
  const { sinkTables: tables, restorePoint: ref, deployment } = params;
  const atOnce = patched(PLAN_READS_AT_ONCE);
  // The version the restore will start, checked before the writer is stopped (not again once it is).
  const deploymentsChecked = stopped ? Promise.resolve() : checkDeploymentsBeforeStop([deployment], tables);
  if (atOnce) deploymentsChecked.catch(() => undefined);
  else await deploymentsChecked;
  const { writer, jobName } = stopped
    ? {
        writer: {
          jobId: stopped.jobId,
          action: 'none' as const,
          stoppedByRestore: true,
          ...(stopped.savepoint ? { stoppedWithSavepoint: { ...stopped.savepoint } } : {}),
        },
        jobName: await nameOf(params),
      }
    : await observeWriter(params);
  const reads = planReads(tables, jobName, writer.jobId, atOnce, writer.action === 'stop-with-savepoint');
  await deploymentsChecked;

  const described = await reads.described();
  const notFound = described.filter((d) => !d.exists).map((d) => d.table);
  if (notFound.length > 0) throw fatal(WorkflowFailureType.TableNotFound, `sink table(s) not found: ${notFound.join(', ')}. Nothing was changed.`);
  // The writer's stop-with-savepoint is today's restore point only if Paimon tags it.
  const untagged = described.filter((d) => !d.autoTagOnSavepoint).map((d) => d.table);
  if (writer.action === 'stop-with-savepoint' && untagged.length > 0) {
    throw fatal(
      WorkflowFailureType.AutoTagDisabled,
      `sink table(s) without 'sink.savepoint.auto-tag' = 'true': ${untagged.join(', ')}; the writer's savepoint would not be a ` +
        'restore point. Nothing was changed.',
    );
  }

  // Every other job writing the tables, whatever its name, refuses the restore before anything is
  // stopped: it would write on over the rolled-back tables (after the tables' checks: `$consumers`
  // of a missing table fails). Behind patched: running restores replay.
  const users = await reads.users();
  if (users && writer.jobId !== undefined && writer.action !== 'none') {
    const undo =
      writer.action === 'cancel'
        ? 'The restore would cancel it'
        : `The restore would stop it, Paimon would not tag its savepoint on these tables, and the restore would start ${deployment.version} in its place from that savepoint`;
    requireOwnJobWrites(tables, { jobId: writer.jobId, name: jobName }, users, undo);
  }
  const leftRunning = users ? users.otherWriters.filter(namedIn(params.options.notWriters)) : [];
  const otherWriters = users ? users.otherWriters.filter((j) => !leftRunning.includes(j)) : [];
  if (otherWriters.length > 0) {
    const own = stopped
      ? `this restore stopped job '${jobName}' (${stopped.jobId})`
      : writer.jobId
        ? `the restore's writer is job '${jobName}' (${writer.jobId}, ${writer.state})`
        : `no live job is named '${jobName}'`;
    throw otherWritersFailure(
      otherWriters,
      own,
      RESTORE_UNDER_OTHER_WRITERS,
      stopped ? "Nothing was rolled back; the writer this restore stopped is started again from today's savepoint." : undefined,
    );
  }

  const point = pick(await reads.restorePoints(), ref, jobName);
  const tag = point.tag;
  // Tag names repeat after a restore (the restored run counts checkpoint ids on), so a point's tag
  // may now hold other rows than its savepoint's state. Behind patched: running restores replay.
  const remade = point.problems.find((p) => p.startsWith(TAG_REMADE));
  if (remade && patched('refuse-remade-tag')) {
    throw fatal(WorkflowFailureType.TagMissing, `restore point ${tag} of job '${jobName}' cannot be restored: ${remade}. Nothing was changed.`);
  }
  await reads.startSecondRound(tag, point.path);
  const problems: string[] = [];
  const radius: TableBlastRadius[] = [];
  const missingOn: TableRef[] = [];
  for (const table of tables) {
    const tags = await reads.tags(table);
    const target = tags.find((t) => t.tagName === tag);
    if (!target) {
      missingOn.push(table);
      continue;
    }
    const state = await reads.state(table, target.snapshotId);
    const newer = tags.filter((t) => t.snapshotId > target.snapshotId).sort((a, b) => a.snapshotId - b.snapshotId);
    radius.push({
      table,
      tagSnapshotId: target.snapshotId,
      tagSchemaId: target.schemaId,
      recordsAtTag: target.recordCount,
      latestSnapshotId: state.latestSnapshotId,
      recordsNow: state.totalRecordCount,
      // Counted from the snapshots there are: expiry may have removed most of the id range.
      snapshotsDeleted: state.snapshotsNewer,
      tagsDeleted: newer.map((t) => ({ tag: t.tagName, snapshotId: t.snapshotId })),
      restorePointsLost: newer.map((t) => t.tagName).filter((name) => /^savepoint-\d+$/.test(name)),
    });
  }
  if (missingOn.length > 0) problems.push(`tag '${tag}' is missing on ${missingOn.join(', ')}`);
  if (point.path === null) {
    problems.push(`no record says where savepoint ${point.savepointId} is (${point.problems.join('; ') || 'path unknown'})`);
  } else {
    const files = await reads.savepointFiles(point.path);
    if (!files.exists) problems.push(`savepoint files missing at ${point.path}`);
    else if (files.savepointId !== point.savepointId) problems.push(`${point.path} holds savepoint ${files.savepointId}, not ${point.savepointId}`);
  }
  if (problems.length > 0) {
    const type = missingOn.length > 0 ? WorkflowFailureType.TagMissing : WorkflowFailureType.SavepointMissing;
    throw fatal(type, `restore point ${tag} of job '${jobName}' cannot be restored: ${problems.join('; ')}. Nothing was changed.`);
  }
  // Paimon would keep an old tag of the stop's savepoint's name: refused while nothing is stopped. The
  // restore point's own tag stays out (it is what the rollback needs; the check after the stop covers it).
  const checkpointId = await reads.writerCheckpoint();
  if (checkpointId !== undefined) {
    const tagNames = await Promise.all(tables.map(async (t) => [t, savepointTagNames(await reads.tags(t)).filter((n) => n !== tag)] as const));
    const ahead = tagsAheadOf(checkpointId, Object.fromEntries(tagNames));
    if (ahead.length > 0) throw tagsAheadFailure(`the writer, job '${jobName}' (${writer.jobId}),`, checkpointId, ahead);
  }

  // What the rollback takes from the writers left running, by commit user. Behind patched: running restores replay.
  const theirTables = radius.filter((r) => leftRunning.some((j) => j.writes.includes(r.table)));
  const theirCommits =
    theirTables.length > 0 && patched(PLAN_COUNTS_OTHER_WRITERS_COMMITS)
      ? await rest.commitsByUser({ tables: theirTables.map((r) => ({ table: r.table, after: r.tagSnapshotId })) })
      : undefined;

  const restorePoint = {
    savepointId: point.savepointId,
    tag,
    path: point.path!,
    createdAt: point.createdAt,
    label: point.label,
    recorded: point.recorded,
  };
  const plan: RestorePlan = {
    version,
    plannedAt: new Date().toISOString(),
    job: jobName,
    writer,
    restorePoint,
    deploymentVersion: deployment.version,
    tables: radius,
    ...(users ? tableUsersOfPlan(users, leftRunning, radius, tag, theirCommits) : {}),
    undo: undoText(undoName, tables),
    irreversible: irreversibleText(radius, writer.action === 'stop-with-savepoint', params.options.allowNonRestoredState ? deployment.version : undefined),
    summary: '',
  };
  if (theirCommits) plan.irreversible += otherWritersLossText(plan.otherWriters ?? []);
  plan.summary = summaryText(plan);
  return plan;
}

/**
 * What changed between the plan that was approved and the one made now, in words; empty when
 * the approval still holds. While a writer runs, its own commits move the latest snapshot and row
 * count: those count only when nothing should be writing. The writer this restore stopped, and
 * the tag of its savepoint, are expected changes.
 */
export function planChanges(approved: RestorePlan, now: RestorePlan): string[] {
  // Before this patch a plan made after the stop, approved, saw today's tag as gone at its re-check.
  const todaysTagInBoth = patched(TODAYS_TAG_EXPECTED_IN_BOTH_PLANS);
  const changes: string[] = [];
  const a = approved.restorePoint;
  const b = now.restorePoint;
  if (a.savepointId !== b.savepointId || a.path !== b.path) {
    changes.push(`the restore point is now ${b.tag} at ${b.path} (was ${a.tag} at ${a.path})`);
  }
  const stoppedByUs = now.writer.stoppedByRestore === true;
  if (!stoppedByUs && (approved.writer.jobId !== now.writer.jobId || approved.writer.action !== now.writer.action)) {
    changes.push(
      `the writer is now ${now.writer.jobId ?? 'none'} (${now.writer.state ?? 'not running'}, ${now.writer.action}); ` +
        `was ${approved.writer.jobId ?? 'none'} (${approved.writer.state ?? 'not running'}, ${approved.writer.action})`,
    );
  }
  const expectedTag = now.writer.stoppedWithSavepoint?.tag;
  // Nothing writes: no writer when the plan was approved, or the one this restore stopped before.
  const wasQuiet = approved.writer.action === 'none';
  for (const before of approved.tables) {
    const after = now.tables.find((t) => t.table === before.table);
    if (!after) continue;
    if (before.tagSnapshotId !== after.tagSnapshotId || before.tagSchemaId !== after.tagSchemaId || before.recordsAtTag !== after.recordsAtTag) {
      changes.push(`${before.table}: tag ${b.tag} moved from snapshot ${before.tagSnapshotId} to ${after.tagSnapshotId}`);
    }
    const key = (t: { tag: string; snapshotId: number }) => `${t.tag}@${t.snapshotId}`;
    // Today's tag is in every plan made after the stop, and in none before it.
    const was = new Set(before.tagsDeleted.filter((t) => !todaysTagInBoth || t.tag !== expectedTag).map(key));
    const is = new Set(after.tagsDeleted.filter((t) => t.tag !== expectedTag).map(key));
    const appeared = [...is].filter((k) => !was.has(k));
    const vanished = [...was].filter((k) => !is.has(k));
    if (appeared.length > 0) changes.push(`${before.table}: new tag(s) the rollback would delete: ${appeared.join(', ')}`);
    if (vanished.length > 0) changes.push(`${before.table}: tag(s) gone since the plan: ${vanished.join(', ')}`);
    if (wasQuiet && before.latestSnapshotId !== after.latestSnapshotId) {
      changes.push(`${before.table}: latest snapshot moved from ${before.latestSnapshotId} to ${after.latestSnapshotId} with no writer running`);
    }
  }
  return changes;
}

/**
 * The tables whose tag of today's savepoint is not on a snapshot at least as new as the latest
 * one seen before the stop. Checkpoint ids restart at 1 for a freshly started job, and Paimon does
 * not tag a savepoint whose `savepoint-<id>` name is taken (docs/paimon-rollback.md): an old tag of
 * that name says nothing about the stop's final commit.
 */
export function staleSavepointTag(before: RestorePlan, after: RestorePlan, tag: string): string[] {
  return before.tables.flatMap((b) => {
    const found = after.tables.find((t) => t.table === b.table)?.tagsDeleted.find((t) => t.tag === tag);
    if (found && found.snapshotId >= (b.latestSnapshotId ?? 0)) return [];
    const where = found ? `snapshot ${found.snapshotId}` : `a snapshot not newer than the restore point's tag`;
    return [`${b.table} (${where}; the table was at snapshot ${b.latestSnapshotId} before the stop)`];
  });
}

/** The writer as it is now: stop it with a savepoint, cancel it, or nothing to stop. */
async function observeWriter(params: RestoreParams): Promise<{ writer: RestorePlan['writer']; jobName: string }> {
  let found: JobSummary;
  try {
    found = await rest.resolveJob({ job: params.job });
  } catch (err) {
    // No live job of that name: the job is not running, only its deployment is restarted.
    if ('jobName' in params.job && failureType(err) === FailureType.JobNotFound) {
      return { writer: { action: 'none' }, jobName: params.job.jobName };
    }
    throw err;
  }
  const action = found.state === 'RUNNING' ? 'stop-with-savepoint' : STOPPED.includes(found.state) ? 'none' : 'cancel';
  return { writer: { jobId: found.jobId, state: found.state, action }, jobName: found.name };
}

async function nameOf(params: RestoreParams): Promise<string> {
  if ('jobName' in params.job) return params.job.jobName;
  return (await rest.getJob({ jobId: params.job.jobId })).name;
}

function pick(points: RestorePoint[], ref: RestorePointRef, jobName: string): RestorePoint {
  const known = () => (points.length === 0 ? 'none' : points.map((p) => `${p.tag}${p.restorable ? '' : ' (not restorable)'}`).join(', '));
  if (ref === 'latest-restorable') {
    const latest = points.find((p) => p.restorable);
    if (!latest) {
      throw fatal(
        WorkflowFailureType.RestorePointNotFound,
        `job '${jobName}' has no restorable restore point on these tables (known: ${known()}). Nothing was changed.`,
      );
    }
    return latest;
  }
  const savepointId = 'savepointId' in ref ? ref.savepointId : Number(ref.tag.slice('savepoint-'.length));
  const point = points.find((p) => p.savepointId === savepointId);
  if (!point) {
    throw fatal(
      WorkflowFailureType.RestorePointNotFound,
      `job '${jobName}' has no restore point savepoint-${savepointId} (no record and no tag on the sink tables; known: ${known()}). ` +
        'Nothing was changed.',
    );
  }
  return point;
}

/** The plan's otherWriters (left running by request) and readers, with what each will see. */
function tableUsersOfPlan(
  users: TableUsers,
  leftRunning: TableUsers['otherWriters'],
  radius: TableBlastRadius[],
  tag: string,
  theirCommits: CommitsSince[] | undefined,
): Pick<RestorePlan, 'otherWriters' | 'readers'> {
  return {
    otherWriters: theirCommits
      ? planOtherWriters(leftRunning, theirCommits)
      : leftRunning.map((j) => ({
          jobId: j.jobId,
          name: j.name,
          state: j.state,
          tables: j.writes,
          note:
            `left running because options.notWriters names it: it writes a table named ${j.writes.map(shortName).join(', ')} (${BY_NAME_ONLY}); ` +
            'if that is one of these tables, it writes on over the restored table',
        })),
    readers: planReaders(users, tag, (table) => radius.find((r) => r.table === table)?.tagSnapshotId),
  };
}

function undoText(undoName: string, tables: TableRef[]): string {
  const copy = tables
    .map((t) => {
      const [db, name] = t.split('.');
      return `INSERT OVERWRITE \`${db}\`.\`${name}\` SELECT * FROM \`${db}\`.\`${name}$branch_${undoName}\``;
    })
    .join('; ');
  return (
    `Before the rollback every sink table gets branch '${undoName}' on its latest snapshot (once the writer stopped; made from today's savepoint tag, or a tag of the same name). ` +
    'rollback_to deletes newer tags but not branches, so the rows from before the restore stay readable in ' +
    `<table>$branch_${undoName}. To undo the restore: stop the job, copy the rows back (with 'table.dml-sync' = 'true': ${copy}), ` +
    "then start the job from today's savepoint (in the result). Not CALL sys.fast_forward: in Paimon 1.3.1 it leaves a gap in " +
    "main's snapshot ids and reading <table>$snapshots fails afterwards (docs/paimon-rollback.md)."
  );
}

function irreversibleText(tables: TableBlastRadius[], writerStopsWithSavepoint: boolean, dropsStateOf?: string): string {
  const lost = tables.flatMap((t) => t.tagsDeleted.map((d) => `${d.tag} on ${t.table}`));
  const parts: string[] = [];
  if (lost.length > 0) {
    parts.push(
      `rollback_to deletes these tags for good and the undo branch does not bring them back: ${lost.join(', ')}; ` +
        'a savepoint-<id> among them is a restore point that can no longer be restored with these tables (its savepoint files stay)',
    );
  }
  if (writerStopsWithSavepoint) {
    parts.push("the tag of today's savepoint (taken when the writer stops) is deleted by the rollback too; today's rows stay only in the undo branch");
  }
  if (dropsStateOf !== undefined) {
    parts.push(`${dropsStateOf} starts with allowNonRestoredState: state in the restore point's savepoint that none of its operators claims is dropped`);
  }
  parts.push('anything that reads the tables (downstream jobs, queries) sees the rows after the tag disappear at once');
  return `${parts.join('. ')}.`;
}

function summaryText(plan: RestorePlan): string {
  const writer =
    plan.writer.action === 'stop-with-savepoint'
      ? `stop job ${plan.writer.jobId} with a savepoint (a restore that ends before any table is rolled back starts ` +
        `${plan.deploymentVersion} from it in that job's place)`
      : plan.writer.action === 'cancel'
        ? `cancel job ${plan.writer.jobId} (${plan.writer.state}: no savepoint possible)`
        : 'no writer to stop';
  const others = (plan.otherWriters ?? [])
    .map((j) => {
      const lost = (j.rolledBack ?? []).map((l) => `${l.snapshots} snapshot(s) with ${l.records} record(s) in data files on ${l.table}`);
      return `; job '${j.name}' (${j.jobId}) is left running by request (options.notWriters)${lost.length > 0 ? `, and the rollback deletes what it committed since the tag: ${lost.join(', ')}` : ''}`;
    })
    .join('');
  const readers = (plan.readers ?? []).map((r) => `${r.job ? `job '${r.job.name}'` : 'consumer'}${r.consumerId ? ` (consumer ${r.consumerId})` : ''} reads ${r.table}`);
  const readersText = readers.length > 0 ? ` Readers, each with its remedy in the plan: ${readers.join('; ')}.` : '';
  // The running writer commits until it stops: its figures are estimates, and its stop adds today's tag.
  const estimate = plan.writer.action === 'stop-with-savepoint';
  const tables = plan.tables
    .map(
      (t) =>
        `${t.table}: snapshot ${t.latestSnapshotId ?? 'none'} -> ${t.tagSnapshotId}; ` +
        `${estimate ? 'about ' : ''}${t.snapshotsDeleted} snapshot(s) and ${t.tagsDeleted.length} tag(s) deleted${estimate ? ", plus today's savepoint tag" : ''}` +
        `${t.restorePointsLost.length ? ` (restore points lost: ${t.restorePointsLost.join(', ')})` : ''}; ` +
        `${t.recordsNow ?? 'unknown'} now, ${t.recordsAtTag ?? 'unknown'} at the tag`,
    )
    .join('; ');
  const counted = estimate ? ' Figures are estimates until the writer stops; the result counts what the rollback deleted.' : '';
  return (
    `Plan v${plan.version} for job '${plan.job}': ${writer}${others}; roll ${plan.tables.length} table(s) back to ${plan.restorePoint.tag}; ` +
    `start ${plan.deploymentVersion} from ${plan.restorePoint.path}. ${tables} (${RECORDS_MEANING}).${counted}${readersText}`
  );
}
