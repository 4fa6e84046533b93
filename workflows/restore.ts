// Restore a Flink job and its Paimon sink tables to a restore point, once a person approved the
// plan: stop the writer with a savepoint (today's state stays a restore point), branch every
// table as the undo, roll every table back to the tag, start the job from the restore point's
// savepoint, and let the health gate say whether it runs. Each step is a module of its own:
// restore-review (approval), restore-replan and restore-stop, restore-undo, restore-rollback,
// restore-lost-points, restore-deploy.
import { allHandlersFinished, condition, log, patched, setHandler } from '@temporalio/workflow';
import { fatal } from './job-steps';
import { jobLabel, WorkflowFailureType } from './messages';
import { requireOperationWorkflowId } from './operation-id';
import { withOutcomeMemo } from './outcome-memo';
import { Progress } from './progress';
import { deployRestored } from './restore-deploy';
import { parseRestoreInput, type RestoreInput, type RestoreParams } from './restore-input';
import { startMarkingLostPoints } from './restore-lost-points';
import { planForApproval, planQuery, restoreStatusQuery, type RestorePlan, type RestoreResult, type RestoreStatus } from './restore-messages';
import { makePlan } from './restore-plan';
import { answerPlanWaits } from './restore-plan-wait';
import { lookAgain, type LookedAgain, type PlanBasis } from './restore-replan';
import type { ApprovalGate } from './approval-gate';
import { approvalGate, askAgain, awaitDecision, endUnapproved } from './restore-review';
import { rollBack } from './restore-rollback';
import type { WriterStop } from './restore-stop';
import { makeUndoBranches, type UndoBranches } from './restore-undo';
import { messageOf, Saga } from './saga';
import { stepToken } from './tokens';

export async function restoreWorkflow(input: RestoreInput): Promise<RestoreResult> {
  return withOutcomeMemo(() => runRestore(input));
}

async function runRestore(input: RestoreInput): Promise<RestoreResult> {
  const progress = new Progress<RestoreStatus>();
  setHandler(restoreStatusQuery, () => progress.snapshot());
  let plan: RestorePlan | undefined;
  setHandler(planQuery, () => plan);
  answerPlanWaits(() => plan, progress);

  const params = validated(input);
  await requireOperationWorkflowId(params.job, 'restore');
  const { options } = params;
  progress.forJob(params.job);
  const rules = { approvers: options.approvers, fourEyes: options.fourEyes, requestedBy: options.requestedBy };
  const gate = approvalGate(rules, () => plan, progress);
  const basis: PlanBasis = { params, undoName: `before_restore_${stepToken('undo').slice(0, 8)}` };

  progress.enter('planning');
  // The approvers' keys before the plan is shown: once it can be read, an answer to it can be checked.
  plan = planForApproval(await withKeys(gate, () => makePlan({ ...basis, version: 1 })), rules);
  progress.note({ plan });

  const saga = new Saga(progress, 'the restore');
  let writer: WriterStop = {};
  /** The tables as they are once the approved plan held, after the writer stopped: what the undo branches keep. */
  let held: RestorePlan;
  let undo: UndoBranches;
  /** what each table's rollback will delete, when read with today's tag */
  let counted: LookedAgain['counted'];
  try {
    for (;;) {
      const decision = await awaitDecision(gate, plan, options.approvalTimeout, progress);
      if (decision?.kind !== 'approved') return await endUnapproved(decision, { job: params.job, approvalTimeout: options.approvalTimeout }, saga, progress);
      // Never act on a stale plan: look again (and stop the writer once it holds), and ask again if anything material moved.
      const looked = await lookAgain(plan, writer, basis, progress, saga);
      writer = looked.writer;
      if (looked.changes.length > 0) {
        plan = askAgain(decision.approval, looked, gate, rules, progress);
        continue;
      }
      progress.note({ approval: decision.approval });
      gate.answer('proceeding');
      held = looked.fresh;
      counted = looked.counted;
      break;
    }
    // The undo, before anything is deleted: a branch survives rollback_to (docs/restore.md).
    undo = await makeUndoBranches(held, { undoName: basis.undoName, undo: plan.undo, stopped: writer.stopped }, progress);
  } catch (err) {
    // Nothing rolled back yet: restart the writer if this restore stopped it.
    gate.answer('ended');
    const reason = messageOf(err);
    await saga.compensate(reason);
    progress.finish('failed', { reason });
    throw err;
  }

  // From the first rollback on, restarting the old writer would be wrong: failures say exactly
  // where the restore stands instead.
  saga.forget();
  try {
    const rolled = await rollBack(plan, undo.instructions, progress, counted);
    // The tags the rollback deleted took their restore points with them: the catalog says so beside
    // the deploy, before the restored run's savepoints can take the same ids again. Never fails the restore.
    const lost = await startMarkingLostPoints(held, progress);
    await deployRestored({ plan, rolled, parallelism: writer.parallelism, undoInstructions: undo.instructions, alongside: lost.marked }, params, progress);
    await lost.marked;
  } catch (err) {
    await writer.prepared?.release();
    throw err;
  }
  log.info('restored', { job: jobLabel(params.job), tag: plan.restorePoint.tag });
  await condition(allHandlersFinished);
  return progress.finish('restored');
}

/** Histories recorded before this patch read the approvers' keys before the plan's first read. */
export const KEYS_BESIDE_PLAN = 'restore-keys-beside-plan';

/** The first plan, made while the approvers' keys are read; it is returned once both are in. */
async function withKeys(gate: ApprovalGate, plan: () => Promise<RestorePlan>): Promise<RestorePlan> {
  if (!patched(KEYS_BESIDE_PLAN)) {
    await gate.readKeys();
    return plan();
  }
  const [, made] = await Promise.all([gate.readKeys(), plan()]);
  return made;
}

/** Input typed into the Temporal UI reaches us unchecked: refuse it before touching anything. */
function validated(input: RestoreInput): RestoreParams {
  const parsed = parseRestoreInput(input);
  if (!parsed.ok) throw fatal(WorkflowFailureType.InvalidInput, `invalid restore input: ${parsed.problems.join('; ')}`);
  return parsed.value;
}
