// A workflow that is only the approval gate, for its own tests: it decides once per plan version
// and acts on what the test asks (the plan changed, or go on).
import { condition, defineSignal, setHandler } from '@temporalio/workflow';
import { ApprovalGate, type Decision, type RefusedSignal } from '../../../workflows/approval-gate';

export const planChangedSignal = defineSignal<[]>('test-plan-changed');
export const finishSignal = defineSignal<[]>('test-finish');

export interface GateRun {
  decisions: (Decision | undefined)[];
  refused: RefusedSignal[];
}

export async function approvalGateWorkflow(input: { approvers: string[]; requestedBy?: string; timeoutMs: number }): Promise<GateRun> {
  let version = 1;
  let changeNext = false;
  let finish = false;
  setHandler(planChangedSignal, () => void (changeNext = true));
  setHandler(finishSignal, () => void (finish = true));
  const run: GateRun = { decisions: [], refused: [] };
  const gate = new ApprovalGate({ approvers: input.approvers, fourEyes: true, requestedBy: input.requestedBy }, () => version, (r) => run.refused.push(r));
  for (;;) {
    const decision = await gate.decide(input.timeoutMs);
    run.decisions.push(decision);
    if (decision?.kind !== 'approved') break;
    if (changeNext) {
      changeNext = false;
      gate.answer('plan-changed', ['a tag appeared']);
      version += 1;
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
