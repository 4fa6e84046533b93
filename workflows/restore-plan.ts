// The restore's plan: observe everything the restore will touch and change nothing. Which
// savepoint and tag the restore point is, that the tag is on every sink table and the savepoint's
// files exist, and the blast radius of `rollback_to` per table.
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities, CommitsSince } from '../activities/contract';
import { FailureType } from '../src/domain/failure-types';
import { savepointTagNames, type JobSummary, type NewerSnapshots, type TableRef, type TagInfo } from '../src/domain/model';
import { TAG_REMADE, type RestorePoint } from '../src/domain/restore-points';
import { restCall } from './activity-options';
import { checkDeploymentsBeforeStop } from './deployment-check';
import { failureType, fatal, STOPPED } from './job-steps';
import { WorkflowFailureType } from './messages';
import type { RestoreParams, RestorePointRef } from './restore-input';
import type { RestorePlan, TableBlastRadius } from './restore-messages';
import { otherWritersLossText, PLAN_COUNTS_OTHER_WRITERS_COMMITS, planOtherWriters } from './other-writer-commits';
import { PLAN_READS_AT_ONCE, planReads } from './restore-plan-reads';
import { irreversibleText, summaryText, undoText } from './restore-plan-text';
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

export { planChanges, staleSavepointTag } from './restore-plan-changes';

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
    /** in the same read, per table with the restore point's tag: its latest snapshot and the count newer than the tag's */
    newerAfterStop?: Record<TableRef, NewerSnapshots>;
  };
}

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
