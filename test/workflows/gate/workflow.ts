// A workflow that is only the approval gate, for its own tests: it decides once per plan version
// and acts on what the test asks (the plan changed, or go on).
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import { ApprovalGate, type Decision, type RefusedSignal } from '../../../workflows/approval-gate';
import { planDigest } from '../../../workflows/approval-proof';
import { planQuery, type ApproverKeysStatus, type RestorePlan } from '../../../workflows/restore-messages';

export const planChangedSignal = defineSignal<[]>('test-plan-changed');
export const finishSignal = defineSignal<[]>('test-finish');
export const keysQuery = defineQuery<ApproverKeysStatus | undefined>('test-keys');

export interface GateRun {
  decisions: (Decision | undefined)[];
  refused: RefusedSignal[];
}

/** A stand-in plan: what the gate needs of one (its version and digest), and a field that changes. */
function planOf(version: number): RestorePlan {
  const plan = { version, job: 'gate-test', summary: `plan ${version}` } as unknown as RestorePlan;
  return { ...plan, digest: planDigest(plan) };
}

export async function approvalGateWorkflow(input: { approvers: string[]; requestedBy?: string; timeoutMs: number }): Promise<GateRun> {
  let plan = planOf(1);
  let keys: ApproverKeysStatus | undefined;
  let changeNext = false;
  let finish = false;
  setHandler(planChangedSignal, () => void (changeNext = true));
  setHandler(finishSignal, () => void (finish = true));
  setHandler(planQuery, () => plan);
  setHandler(keysQuery, () => keys);
  const run: GateRun = { decisions: [], refused: [] };
  const gate = new ApprovalGate(
    { approvers: input.approvers, fourEyes: true, requestedBy: input.requestedBy },
    () => plan,
    (r) => run.refused.push(r),
    (k) => void (keys = k),
  );
  for (;;) {
    await gate.readKeys();
    const decision = await gate.decide(input.timeoutMs);
    run.decisions.push(decision);
    if (decision?.kind !== 'approved') break;
    if (changeNext) {
      changeNext = false;
      gate.answer('plan-changed', ['a tag appeared']);
      plan = planOf(plan.version + 1);
      gate.reopen();
      continue;
    }
    gate.answer('proceeding');
    break;
  }
  // Stays open until the test is done asking, as a restore stays open while it acts.
  await condition(() => finish);
  return run;
}
