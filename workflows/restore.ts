// Restore a Flink job and its Paimon sink tables to a restore point, once a person approved the
// plan: stop the writer with a savepoint (today's state stays a restore point), branch every
// table as the undo, roll every table back to the tag, start the job from the restore point's
// savepoint, and let the health gate say whether it runs.
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
} from '@temporalio/workflow';
import type { Activities, DeployParallelism } from '../activities/contract';
import { humanDuration } from '../src/domain/durations';
import { tagFor, type TableRef, type TableState } from '../src/domain/model';
import { longRunning, restCall, savepointWait, submitCall, tableRollback } from './activity-options';
import { ApprovalGate } from './approval-gate';
import { allAtMost, settledAtMost, TABLES_AT_ONCE } from './fan-out';
import { cancelAndWait, fatal } from './job-steps';
import { droppedStateText, jobLabel, WorkflowFailureType } from './messages';
import { requireOperationWorkflowId } from './operation-id';
import { Progress } from './progress';
import { parseRestoreInput, type RestoreInput, type RestoreParams } from './restore-input';
import {
  planForApproval,
  planQuery,
  restoreStatusQuery,
  type RestorePlan,
  type RestoreResult,
  type RestoreStatus,
  type TableRollback,
} from './restore-messages';
import { markLostRestorePoints, RESTORE_MARKS_LOST_POINTS } from './restore-lost-points';
import { CHECK_AFTER_STOP_ONLY_WHAT_IT_CHANGES, planAfterStop, type StoppedWithSavepoint } from './restore-after-stop';
import { makePlan, planChanges, staleSavepointTag, type PlanFor } from './restore-plan';
import { afterFailedStop, RESTORE_ACTS_ON_FAILED_STOP } from './restore-stop-failed';
import { rollbackMismatch } from './rollback-check';
import { messageOf, Saga } from './saga';
import { withOutcomeMemo } from './outcome-memo';
import { stepToken } from './tokens';
import { keptParallelism } from './upgrade-shape';

const rest = proxyActivities<Activities>(restCall);
const submit = proxyActivities<Activities>(submitCall);
const rollback = proxyActivities<Activities>(tableRollback);
const waitUpTo = (timeoutMs: number) => proxyActivities<Activities>(longRunning(timeoutMs));
const savepointUpTo = (timeoutMs: number) => proxyActivities<Activities>(savepointWait(timeoutMs));

/** Histories recorded before this patch made the undo branches one table after another. */
const UNDO_BRANCHES_AT_ONCE = 'undo-branches-at-once';
/** Histories recorded before this patch made each undo branch from a tag of its own. */
const UNDO_FROM_TODAYS_TAG = 'undo-branch-from-todays-tag';
/** Histories recorded before this patch rolled the tables back one after another. */
const ROLLBACKS_AT_ONCE = 'rollbacks-at-once';
/** Histories recorded before this patch started the job at the parallelism its script or jar gives. */
const KEEP_WRITER_PARALLELISM = 'restore-keeps-writer-parallelism';
/** Histories recorded before this patch checked a rollback with COUNT(*) (legacyRowCheck). */
const ROLLBACK_CHECKED_BY_METADATA = 'rollback-checked-by-metadata';
/** Histories recorded before this patch kept no count of what each rollback_to deleted. */
const ROLLBACK_COUNTS_WHAT_IT_DELETED = 'rollback-counts-what-it-deleted';

export async function restoreWorkflow(input: RestoreInput): Promise<RestoreResult> {
  return withOutcomeMemo(() => runRestore(input));
}

async function runRestore(input: RestoreInput): Promise<RestoreResult> {
  const progress = new Progress<RestoreStatus>();
  setHandler(restoreStatusQuery, () => progress.snapshot());
  let plan: RestorePlan | undefined;
  setHandler(planQuery, () => plan);

  const params = validated(input);
  await requireOperationWorkflowId(params.job, 'restore');
  const { options, sinkTables: tables, deployment } = params;
  progress.forJob(params.job);
  const rules = { approvers: options.approvers, fourEyes: options.fourEyes, requestedBy: options.requestedBy };

  const gate = new ApprovalGate(
    rules,
    () => plan,
    (refused) => progress.note({ refusedSignals: [...(progress.snapshot().refusedSignals ?? []).slice(-9), refused] }),
    (approverKeys) => progress.note({ approverKeys }),
  );

  const undoName = `before_restore_${stepToken('undo').slice(0, 8)}`;
  const planFor = (version: number, stopped?: PlanFor['stopped']) => makePlan({ params, version, undoName, stopped });

  progress.enter('planning');
  // The approvers' keys first: once the plan can be read, an answer to it can be checked.
  await gate.readKeys();
  plan = planForApproval(await planFor(1), rules);
  progress.note({ plan });

  const saga = new Saga(progress, 'the restore');
  let stopped: PlanFor['stopped'];
  /** The tables as they are once the approved plan held, after the writer stopped: what the undo branches keep. */
  let held: RestorePlan = plan;
  /** The tag the undo branches were made from. */
  let undoTag = undoName;
  /** The parallelism the writer ran at when it was stopped (set apart by an upgrade): the job started next runs at it. */
  let writerParallelism: { parallelism?: DeployParallelism } = {};
  /** Today's savepoint is the state the writer stopped with: start it again from there. */
  const restartWriter = async (savepoint: { path: string }) => {
    progress.enter('restarting-writer');
    const since = Date.now();
    const { jobId } = await submit.deployJob({
      deployment,
      deployToken: stepToken('restart-writer'),
      savepointPath: savepoint.path,
      ...writerParallelism,
    });
    progress.note({ restartedJobId: jobId });
    progress.enter('awaiting-writer-health');
    const health = await waitUpTo(options.healthTimeout).awaitHealthy({ jobId, since, timeoutMs: options.healthTimeout });
    if (!health.healthy) {
      throw fatal(WorkflowFailureType.RollbackUnhealthy, `the writer restarted from ${savepoint.path} (job ${jobId}) is not healthy: ${health.reason ?? health.state}`);
    }
  };

  try {
    for (;;) {
      progress.enter('awaiting-approval');
      upsertMemo({
        restorePlan: plan.summary,
        irreversible: plan.irreversible,
        planVersion: plan.version,
        ...(gate.signed ? { planDigest: plan.digest } : {}),
      });
      const decision = await gate.decide(options.approvalTimeout);
      if (decision?.kind !== 'approved') {
        const outcome = decision ? 'rejected' : 'expired';
        const reason = decision ? `rejected by ${decision.rejection.rejectedBy}` : `no approval within ${humanDuration(options.approvalTimeout)}`;
        if (decision) progress.note({ rejection: decision.rejection });
        if (!saga.isEmpty) await saga.compensate(reason);
        log.info(`restore ${outcome}`, { job: jobLabel(params.job), reason });
        await condition(allHandlersFinished);
        return progress.finish(outcome, { reason });
      }

      // Never act on a stale plan: look again, and ask again if anything material moved.
      progress.enter('re-planning');
      let fresh = await planFor(plan.version + 1, stopped);
      let changes = planChanges(plan, fresh);
      if (changes.length === 0 && !stopped && plan.writer.action !== 'none') {
        stopped = await stopWriter(plan);
        const quick = stopped.savepoint && patched(CHECK_AFTER_STOP_ONLY_WHAT_IT_CHANGES);
        fresh = quick ? await planAfterStop(fresh, stopped as StoppedWithSavepoint, params) : await planFor(plan.version + 1, stopped);
        // What changed is shown to the approver in a whole plan.
        if (quick && planChanges(plan, fresh).length > 0) fresh = await planFor(plan.version + 1, stopped);
        const stale = stopped.savepoint ? staleSavepointTag(plan, fresh, stopped.savepoint.tag) : [];
        if (stale.length > 0) {
          throw fatal(
            WorkflowFailureType.TagMissing,
            `tag '${stopped.savepoint!.tag}' of the savepoint the writer stopped with is an older tag of the same name on ` +
              `${stale.join(', ')}: Paimon did not tag this stop (a job started afresh counts checkpoints from 1 again), so its ` +
              'final commit cannot be confirmed; nothing was rolled back',
          );
        }
        changes = planChanges(plan, fresh);
      }
      if (changes.length > 0) {
        log.warn('plan changed after approval; asking again', { changes });
        progress.note({ supersededApprovals: [...(progress.snapshot().supersededApprovals ?? []), { ...decision.approval, changes }] });
        gate.answer('plan-changed', changes);
        plan = planForApproval(fresh, rules);
        progress.note({ plan });
        gate.reopen();
        continue;
      }
      progress.note({ approval: decision.approval });
      gate.answer('proceeding');
      held = fresh;
      break;
    }

    // The undo, before anything is deleted: a branch survives rollback_to (docs/restore.md).
    progress.enter('creating-undo-branches');
    // Today's tag is on every table's latest snapshot once the writer stopped (planAfterStop): the
    // branch is made from it, with no tag of its own. Behind patched: running restores replay.
    const fromTodaysTag = stopped?.savepoint && patched(UNDO_FROM_TODAYS_TAG) ? stopped.savepoint.tag : undefined;
    undoTag = fromTodaysTag ?? undoName;
    const undoOf = async (t: RestorePlan['tables'][number]) => {
      if (!fromTodaysTag) await rest.createTag({ table: t.table, tag: undoName, snapshotId: t.latestSnapshotId ?? undefined });
      await rest.createBranch({ table: t.table, branch: undoName, tag: undoTag });
    };
    // The job is down meanwhile, and each table's undo is its own: all tables at once.
    if (fromTodaysTag) await allAtMost(held.tables, TABLES_AT_ONCE, undoOf);
    else if (patched(UNDO_BRANCHES_AT_ONCE)) await Promise.all(held.tables.map(undoOf));
    else for (const t of held.tables) await undoOf(t);
  } catch (err) {
    // Nothing rolled back yet: restart the writer if this restore stopped it.
    gate.answer('ended');
    const reason = messageOf(err);
    await saga.compensate(reason);
    progress.finish('failed', { reason });
    throw err;
  }
  const todays = progress.snapshot().todaysSavepoint;
  const undoInstructions = plan.undo + (todays ? ` Today's savepoint: ${todays.path}.` : '');
  progress.note({ undo: { branch: undoName, tag: undoTag, instructions: undoInstructions } });

  // From the first rollback on, restarting the old writer would be wrong: failures say exactly
  // where the restore stands instead.
  saga.forget();
  const rolled = await rollBack(plan, progress);
  // The tags the rollback deleted took their restore points with them: the catalog says so now,
  // before the restored run's savepoints take the same ids again. Never fails the restore.
  if (patched(RESTORE_MARKS_LOST_POINTS)) progress.note(await markLostRestorePoints(held));

  try {
    progress.enter('deploying');
    const since = Date.now();
    const { jobId: newJobId } = await submit.deployJob({
      deployment,
      deployToken: stepToken('deploy-restored'),
      savepointPath: plan.restorePoint.path,
      ...(options.allowNonRestoredState ? { allowNonRestoredState: true } : {}),
      ...writerParallelism,
    });
    progress.note({ newJobId });
    if (options.allowNonRestoredState) progress.note({ droppedState: droppedStateText(deployment.version, plan.restorePoint.path) });
    progress.enter('awaiting-health');
    const health = await waitUpTo(options.healthTimeout).awaitHealthy({ jobId: newJobId, since, timeoutMs: options.healthTimeout });
    if (!health.healthy) {
      throw fatal(
        WorkflowFailureType.RestoreUnhealthy,
        `${deployment.version} (job ${newJobId}) was not healthy within ${humanDuration(options.healthTimeout)}: ${health.reason ?? health.state}`,
      );
    }
  } catch (err) {
    const reason =
      `every sink table was rolled back to ${plan.restorePoint.tag} (${rolled.join(', ')}), then starting ` +
      `${deployment.version} from ${plan.restorePoint.path} failed: ${messageOf(err)}. Fix the cause and start it from that savepoint by hand, ` +
      `or undo the restore: ${undoInstructions}`;
    const status = progress.finish('failed', { reason });
    const type = err instanceof ApplicationFailure && err.type === WorkflowFailureType.RestoreUnhealthy ? err.type : WorkflowFailureType.RestoreIncomplete;
    throw fatal(type, reason, [status]);
  }
  log.info('restored', { job: jobLabel(params.job), tag: plan.restorePoint.tag });
  await condition(allHandlersFinished);
  return progress.finish('restored');

  async function stopWriter(current: RestorePlan): Promise<NonNullable<PlanFor['stopped']>> {
    const jobId = current.writer.jobId!;
    if (patched(KEEP_WRITER_PARALLELISM)) {
      writerParallelism = keptParallelism(await rest.jobParallelism({ jobId }));
      if (writerParallelism.parallelism) progress.note({ writerParallelism: writerParallelism.parallelism });
    }
    progress.enter('stopping-writer');
    if (current.writer.action === 'cancel') {
      await cancelAndWait(jobId);
      return { jobId };
    }
    // A failed stop says what Flink shows the writer in, and starts it again if it is not running.
    const actsOnFailure = patched(RESTORE_ACTS_ON_FAILED_STOP);
    const stop = savepointUpTo(options.savepointTimeout).stopWithSavepoint({ jobId, triggerId: stepToken('stop-with-savepoint'), drain: options.drain });
    const savepoint = !actsOnFailure
      ? await stop
      : await stop.catch(async (err: unknown) => {
          const failedStop = { jobId, err, deployment, parallelism: writerParallelism, healthTimeout: options.healthTimeout };
          throw await afterFailedStop({ ...failedStop, otherWriters: current.otherWriters ?? [], progress });
        });
    const tag = tagFor(savepoint.savepointId);
    progress.note({ todaysSavepoint: { savepointId: savepoint.savepointId, path: savepoint.path, tag } });
    saga.add(() => restartWriter(savepoint));
    // Paimon tags a stop-with-savepoint when the commit of its final checkpoint lands: until the
    // tag is there, that commit may still come, and it must not land after the rollback.
    progress.enter('awaiting-savepoint-tag');
    // The tables' tags as read when today's tag was there: what planAfterStop checks.
    const { missing, tags: tagsAfterStop } = await waitUpTo(options.tagTimeout).awaitTag({ tables, tag, timeoutMs: options.tagTimeout, withTags: true });
    if (missing.length > 0) {
      throw fatal(
        WorkflowFailureType.TagMissing,
        `the writer stopped with savepoint ${savepoint.savepointId}, but tag '${tag}' did not appear on ${missing.join(', ')} ` +
          `within ${humanDuration(options.tagTimeout)}; nothing was rolled back`,
      );
    }
    return { jobId, savepoint: { savepointId: savepoint.savepointId, path: savepoint.path, tag }, tagsAfterStop };
  }
}

/**
 * Roll every table back and check it from its metadata (rollback-check.ts): all tables at once,
 * each table's rollback being its own. A table that fails ends the restore with exactly which
 * tables were rolled back.
 */
async function rollBack(plan: RestorePlan, progress: Progress<RestoreStatus>): Promise<TableRef[]> {
  progress.enter('rolling-back-tables');
  const tag = plan.restorePoint.tag;
  const tables: TableRollback[] = plan.tables.map((t) => ({ table: t.table, rolledBack: false }));
  progress.note({ tables });
  const rollBackOne = async (t: RestorePlan['tables'][number], i: number): Promise<void> => {
    // What rollback_to deleted, counted as it ran: the plan's figures were read before the stop.
    const counted = patched(ROLLBACK_COUNTS_WHAT_IT_DELETED);
    const done = await rollback.rollbackToTag(counted ? { table: t.table, tag, count: true } : { table: t.table, tag });
    const deleted = counted && done ? { previousSnapshotId: done.previousSnapshotId, snapshotsDeleted: done.snapshotsDeleted, tagsDeleted: done.tagsDeleted } : {};
    tables[i] = { table: t.table, rolledBack: true, ...deleted };
    progress.note({ tables: [...tables] });
    const state = await rollback.tableState({ table: t.table });
    if (patched(ROLLBACK_CHECKED_BY_METADATA)) {
      const { latestSnapshotId, schemaId, totalRecordCount } = state;
      tables[i] = { ...tables[i]!, snapshotId: latestSnapshotId ?? undefined, schemaId: schemaId ?? undefined, records: totalRecordCount };
      progress.note({ tables: [...tables] });
      const mismatch = rollbackMismatch(t, state);
      if (mismatch.length > 0) throw new Error(`after rollback_to ${t.table} is not at tag ${tag}: ${mismatch.join('; ')}`);
    } else {
      legacyRowCheck(t, state, tables, i, tag, progress);
    }
  };
  const failures: { table: TableRef; err: unknown }[] = [];
  if (patched(ROLLBACKS_AT_ONCE)) {
    const outcomes = await settledAtMost(plan.tables, TABLES_AT_ONCE, rollBackOne);
    outcomes.forEach((o, i) => {
      if (o.status === 'rejected') failures.push({ table: plan.tables[i]!.table, err: o.reason });
    });
  } else {
    for (const [i, t] of plan.tables.entries()) {
      try {
        await rollBackOne(t, i);
      } catch (err) {
        failures.push({ table: t.table, err });
        break;
      }
    }
  }
  if (failures.length === 0) return plan.tables.map((t) => t.table);

  const done = tables.filter((r) => r.rolledBack).map((r) => r.table);
  const notDone = tables.filter((r) => !r.rolledBack).map((r) => r.table);
  const byHand = notDone.map((table) => `CALL sys.rollback_to(\`table\` => '${table}', tag => '${tag}')`).join('; ');
  const what = failures.map((f) => messageOf(f.err)).join('; ');
  const where =
    notDone.length === 0
      ? `every sink table was rolled back to ${tag}, but the check after the rollback of ${failures.map((f) => f.table).join(', ')} failed: ${what}. `
      : `the restore stopped half-way at ${failures.map((f) => f.table).join(', ')}: ${what}. ` +
        `Rolled back to ${tag}: ${done.join(', ') || 'none'}; NOT rolled back: ${notDone.join(', ')}. `;
  const reason =
    `${where}No job was started. ` +
    (notDone.length > 0 ? `To finish by hand: ${byHand}; ` : 'To finish by hand: check the tables, ') +
    `then start ${plan.deploymentVersion} from ${plan.restorePoint.path}. Or undo what was done: ${progress.snapshot().undo?.instructions ?? plan.undo}`;
  const status = progress.finish('failed', { reason });
  throw fatal(WorkflowFailureType.RestoreIncomplete, reason, [status]);
}

/**
 * Histories recorded before 'rollback-checked-by-metadata' compared COUNT(*) with the tag's
 * record_count, which is wrong for any table whose keys change; kept only so they replay.
 */
function legacyRowCheck(t: RestorePlan['tables'][number], state: TableState, tables: TableRollback[], i: number, tag: string, progress: Progress<RestoreStatus>) {
  const { rowCount } = state as TableState & { rowCount?: number };
  const rowsAtTag = t.recordsAtTag;
  tables[i] = { table: t.table, rolledBack: true, snapshotId: state.latestSnapshotId ?? undefined, rowCount };
  progress.note({ tables: [...tables] });
  if (state.latestSnapshotId !== t.tagSnapshotId || (rowsAtTag !== null && rowCount !== rowsAtTag)) {
    throw new Error(
      `after rollback_to ${t.table} is at snapshot ${state.latestSnapshotId} with ${rowCount} rows; ` +
        `tag ${tag} is snapshot ${t.tagSnapshotId} with ${rowsAtTag} rows`,
    );
  }
}

/** Input typed into the Temporal UI reaches us unchecked: refuse it before touching anything. */
function validated(input: RestoreInput): RestoreParams {
  const parsed = parseRestoreInput(input);
  if (!parsed.ok) throw fatal(WorkflowFailureType.InvalidInput, `invalid restore input: ${parsed.problems.join('; ')}`);
  return parsed.value;
}

