// The approval gate on its own (workflows/approval-gate.ts): who may answer, what an approver is
// told, a plan that changes under an approval, a refused signal, and no decision in time.
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { approveSignal, approveUpdate, rejectUpdate } from '../../workflows/restore-messages';
import { unique, useWorkflowTestEnv } from '../support/temporal-env';
import { finishSignal, planChangedSignal, type approvalGateWorkflow, type GateRun } from './gate/workflow';

const temporal = useWorkflowTestEnv(() => bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'gate', 'workflow.ts'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } }));

async function withGate<T>(input: Parameters<typeof approvalGateWorkflow>[0], fn: (h: Awaited<ReturnType<typeof start>>) => Promise<T>): Promise<{ out: T; run: GateRun }> {
  const taskQueue = unique('gate');
  const worker = await Worker.create({ connection: temporal.env.nativeConnection, taskQueue, workflowBundle: temporal.bundle });
  return worker.runUntil(async () => {
    const handle = await start(taskQueue, input);
    const out = await fn(handle);
    await handle.signal(finishSignal);
    return { out, run: await handle.result() };
  });
}
const start = (taskQueue: string, input: Parameters<typeof approvalGateWorkflow>[0]) =>
  temporal.env.client.workflow.start<typeof approvalGateWorkflow>('approvalGateWorkflow', { taskQueue, workflowId: unique('gate'), args: [input] });

/**
 * Until the gate waits: a validator says 'not an approver' only then (it checks that it waits
 * first), and a refused update is never recorded, so asking changes nothing.
 */
async function untilWaiting(h: Awaited<ReturnType<typeof start>>): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const problem = await refusal(h.executeUpdate(approveUpdate, { args: [{ approver: 'nobody-probing' }] }));
    if (problem?.includes('is not an approver')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the gate never waited');
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: { cause?: { message?: string } }) => e.cause?.message,
  );

describe('approval gate', () => {
  it('refuses a stranger and the requester (four-eyes) by validator; an approver is told the restore proceeds', async () => {
    const { out, run } = await withGate({ approvers: ['alice', 'bob'], requestedBy: 'bob', timeoutMs: 20_000 }, async (h) => {
      await untilWaiting(h);
      const stranger = await refusal(h.executeUpdate(approveUpdate, { args: [{ approver: 'mallory' }] }));
      const requester = await refusal(h.executeUpdate(approveUpdate, { args: [{ approver: 'bob' }] }));
      const stale = await refusal(h.executeUpdate(approveUpdate, { args: [{ approver: 'alice', planVersion: 3 }] }));
      const answer = await h.executeUpdate(approveUpdate, { args: [{ approver: ' alice ', comment: 'ok', planVersion: 1 }] });
      const late = await refusal(h.executeUpdate(approveUpdate, { args: [{ approver: 'alice' }] }));
      return { stranger, requester, stale, answer, late };
    });
    expect(out.stranger).toBe("'mallory' is not an approver of this restore (approvers: alice, bob)");
    expect(out.requester).toBe("four-eyes: 'bob' asked for this restore and cannot approve it too");
    expect(out.stale).toContain('plan version 3 was reviewed, but the plan is now version 1');
    expect(out.answer).toEqual({ planVersion: 1, outcome: 'proceeding' });
    expect(out.late).toBe('the restore is not waiting for an approval now');
    expect(run.decisions).toEqual([{ kind: 'approved', seq: 1, approval: { approver: 'alice', comment: 'ok', planVersion: 1, via: 'update', at: expect.any(String) } }]);
  });

  it('an approval of a plan that then changed is answered plan-changed, and the next decision is about the new plan', async () => {
    const { out, run } = await withGate({ approvers: ['alice'], timeoutMs: 20_000 }, async (h) => {
      await untilWaiting(h);
      await h.signal(planChangedSignal);
      const first = await h.executeUpdate(approveUpdate, { args: [{ approver: 'alice' }] });
      const second = await h.executeUpdate(approveUpdate, { args: [{ approver: 'alice', planVersion: 2 }] });
      return { first, second };
    });
    expect(out.first).toEqual({ planVersion: 1, outcome: 'plan-changed', changes: ['a tag appeared'] });
    expect(out.second).toEqual({ planVersion: 2, outcome: 'proceeding' });
    expect(run.decisions.map((d) => d?.kind === 'approved' && d.approval.planVersion)).toEqual([1, 2]);
  });

  it('a refused signal is reported (a signal gets no answer); a rejection ends the wait', async () => {
    const { run } = await withGate({ approvers: ['alice'], requestedBy: 'carol', timeoutMs: 20_000 }, async (h) => {
      await untilWaiting(h);
      await h.signal(approveSignal, { approver: 'mallory' });
      // The requester may withdraw its own request.
      await h.executeUpdate(rejectUpdate, { args: [{ approver: 'carol', comment: 'not needed' }] });
    });
    expect(run.refused).toEqual([{ approver: 'mallory', problem: "'mallory' is not an approver of this restore (approvers: alice)", at: expect.any(String) }]);
    expect(run.decisions).toEqual([{ kind: 'rejected', rejection: { rejectedBy: 'carol', comment: 'not needed', planVersion: 1, at: expect.any(String) } }]);
  });

  it('no decision in time: undefined', async () => {
    const { run } = await withGate({ approvers: ['alice'], timeoutMs: 1_000 }, async () => undefined);
    expect(run.decisions).toEqual([null]); // undefined, as JSON carries it
  });
});
