// The approval gate on its own (workflows/approval-gate.ts): who may answer, with which signature,
// what an approver is told, a plan that changes under an approval, a refused signal, a key removed
// from the allowed-signers file while the gate waits, and no decision in time.
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApproverActivities } from '../../activities/approvers/activities';
import type { Config } from '../../src/config/config';
import { approveSignal, approveUpdate, rejectUpdate, type ApprovalInput } from '../../workflows/restore-messages';
import { signedBy, testApproverActivities } from '../support/approvals';
import { makeApproverKeys } from '../support/approver-keys';
import { unique, useWorkflowTestEnv } from '../support/temporal-env';
import { finishSignal, keysQuery, planChangedSignal, type approvalGateWorkflow, type GateRun } from './gate/workflow';

const temporal = useWorkflowTestEnv(() => bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'gate', 'workflow.ts'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } }));

type Handle = WorkflowHandle<typeof approvalGateWorkflow>;

async function withGate<T>(
  input: Parameters<typeof approvalGateWorkflow>[0],
  fn: (h: Handle) => Promise<T>,
  activities: object = testApproverActivities(),
): Promise<{ out: T; run: GateRun }> {
  const taskQueue = unique('gate');
  const worker = await Worker.create({ connection: temporal.env.nativeConnection, taskQueue, workflowBundle: temporal.bundle, activities });
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
 * Until the gate waits with its keys read: a validator says 'not an approver' only then (it checks
 * that it waits first), and a refused update is never recorded, so asking changes nothing.
 */
async function untilWaiting(h: Handle): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const problem = await refusal(h.executeUpdate(approveUpdate, { args: [{ approver: 'nobody-probing' }] }));
    if (problem?.includes('is not an approver') && (await h.query(keysQuery))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the gate never waited');
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: { cause?: { message?: string } }) => e.cause?.message,
  );

const approve = async (h: Handle, given: ApprovalInput, signer?: string) =>
  h.executeUpdate(approveUpdate, { args: [await signedBy(h, given, 'approve', signer)] });

/** The accepted updates in the history: a refused one is never recorded. */
async function acceptedUpdates(h: Handle): Promise<unknown[]> {
  const history = await h.fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).map((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
}

const proof = { kind: 'ssh-signature', key: expect.stringMatching(/^SHA256:/), planDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) };

describe('approval gate', () => {
  it('refuses a stranger, the requester (four-eyes), a forged identity, a missing or malformed signature by validator; a signed approver is told the restore proceeds', async () => {
    const { out, run } = await withGate({ approvers: ['alice', 'bob'], requestedBy: 'bob', timeoutMs: 20_000 }, async (h) => {
      await untilWaiting(h);
      const stranger = await refusal(approve(h, { approver: 'mallory' }));
      const requester = await refusal(approve(h, { approver: 'bob' }));
      const stale = await refusal(approve(h, { approver: 'alice', planVersion: 3 }));
      // bob, the requester, signs as alice with his own key; mallory signs as alice with a key no file lists.
      const forged = await refusal(approve(h, { approver: 'alice' }, 'bob'));
      const unlisted = await refusal(approve(h, { approver: 'alice' }, 'mallory'));
      const unsigned = await refusal(h.executeUpdate(approveUpdate, { args: [{ approver: 'alice', planVersion: 1 }] }));
      const malformed = await refusal(h.executeUpdate(approveUpdate, { args: [{ approver: 'alice', signature: '-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----' }] }));
      // alice's signature of a rejection does not approve.
      const turned = await refusal(h.executeUpdate(approveUpdate, { args: [await signedBy(h, { approver: 'alice' }, 'reject')] }));
      const before = await acceptedUpdates(h);
      const answer = await approve(h, { approver: ' alice ', comment: 'ok', planVersion: 1 });
      const late = await refusal(approve(h, { approver: 'alice' }));
      return { stranger, requester, stale, forged, unlisted, unsigned, malformed, turned, before, answer, late, after: await acceptedUpdates(h) };
    });
    expect(out.stranger).toBe("'mallory' is not an approver of this restore (approvers: alice, bob)");
    expect(out.requester).toBe("four-eyes: 'bob' asked for this restore and cannot approve it too");
    expect(out.stale).toContain('plan version 3 was reviewed, but the plan is now version 1');
    expect(out.forged).toMatch(/^key SHA256:\S+ may not sign as 'alice': the allowed signers do not list this key for 'alice'$/);
    expect(out.unlisted).toMatch(/may not sign as 'alice'/);
    expect(out.unsigned).toMatch(/^an approval needs the approver's SSH signature/);
    expect(out.malformed).toMatch(/^malformed signature/);
    expect(out.turned).toMatch(/does not match this approval by 'alice' of plan v1/);
    // Nothing refused entered the history; the one approval did, with its signature.
    expect(out.before).toEqual([]);
    expect(out.after).toHaveLength(1);
    expect(out.answer).toEqual({ planVersion: 1, outcome: 'proceeding' });
    expect(out.late).toBe('the restore is not waiting for an approval now');
    expect(run.decisions).toEqual([
      { kind: 'approved', seq: 1, approval: { approver: 'alice', comment: 'ok', planVersion: 1, via: 'update', at: expect.any(String), proof } },
    ]);
  });

  it('an approval of a plan that then changed is answered plan-changed; the new plan needs a new signature', async () => {
    const { out, run } = await withGate({ approvers: ['alice'], timeoutMs: 20_000 }, async (h) => {
      await untilWaiting(h);
      const v1 = await signedBy(h, { approver: 'alice', planVersion: 1 });
      await h.signal(planChangedSignal);
      const first = await h.executeUpdate(approveUpdate, { args: [v1] });
      // The signature of plan v1 replayed with v2 written in: refused, never recorded.
      const replayed = await refusal(h.executeUpdate(approveUpdate, { args: [{ ...v1, planVersion: 2 }] }));
      const second = await approve(h, { approver: 'alice', planVersion: 2 });
      return { first, replayed, second };
    });
    expect(out.first).toEqual({ planVersion: 1, outcome: 'plan-changed', changes: ['a tag appeared'] });
    expect(out.replayed).toMatch(/does not match this approval by 'alice' of plan v2/);
    expect(out.second).toEqual({ planVersion: 2, outcome: 'proceeding' });
    expect(run.decisions.map((d) => d?.kind === 'approved' && d.approval.planVersion)).toEqual([1, 2]);
  });

  it('a refused signal is reported (a signal gets no answer); a signed rejection by the requester ends the wait', async () => {
    const { run } = await withGate({ approvers: ['alice'], requestedBy: 'carol', timeoutMs: 20_000 }, async (h) => {
      await untilWaiting(h);
      await h.signal(approveSignal, { approver: 'mallory' });
      await h.signal(approveSignal, await signedBy(h, { approver: 'alice' }, 'approve', 'carol'));
      // The requester may withdraw its own request.
      await h.executeUpdate(rejectUpdate, { args: [await signedBy(h, { approver: 'carol', comment: 'not needed' }, 'reject')] });
    });
    expect(run.refused).toEqual([
      { approver: 'mallory', problem: "'mallory' is not an approver of this restore (approvers: alice)", at: expect.any(String) },
      { approver: 'alice', problem: expect.stringMatching(/^key SHA256:\S+ may not sign as 'alice'/), at: expect.any(String) },
    ]);
    expect(run.decisions).toEqual([{ kind: 'rejected', rejection: { rejectedBy: 'carol', comment: 'not needed', planVersion: 1, at: expect.any(String), proof } }]);
  });

  it('a signed approval by signal proceeds', async () => {
    const { run } = await withGate({ approvers: ['alice'], requestedBy: 'carol', timeoutMs: 20_000 }, async (h) => {
      await untilWaiting(h);
      await h.signal(approveSignal, await signedBy(h, { approver: 'alice', planVersion: 1 }));
    });
    expect(run.refused).toEqual([]);
    expect(run.decisions).toEqual([{ kind: 'approved', seq: 1, approval: { approver: 'alice', planVersion: 1, via: 'signal', at: expect.any(String), proof } }]);
  });

  describe('with its own allowed-signers file', () => {
    const ring = makeApproverKeys(['alice', 'bob']);
    afterAll(() => ring.remove());
    const activities = createApproverActivities({ approvals: { allowedSignersFile: ring.allowedSigners } } as Config);
    const signWith = async (h: Handle, name: string) => {
      const unsigned = await signedBy(h, { approver: name });
      const { runId } = await h.describe();
      const plan = (await h.query('plan')) as { version: number; digest: string };
      return { ...unsigned, signature: ring.sign(name, { decision: 'approve', approver: name, workflowId: h.workflowId, runId, planVersion: plan.version, planDigest: plan.digest }) };
    };

    it('a key removed from the file while the gate waits is refused from then on; the file is followed with one activity per change', async () => {
      const { out } = await withGate(
        { approvers: ['alice', 'bob'], timeoutMs: 30_000 },
        async (h) => {
          await untilWaiting(h);
          const first = (await h.query(keysQuery))!;
          ring.writeAllowed([ring.line('bob')]);
          let now = first;
          for (let i = 0; i < 50 && now.version === first.version; i++) {
            await new Promise((r) => setTimeout(r, 200));
            now = (await h.query(keysQuery))!;
          }
          const removed = await refusal(h.executeUpdate(approveUpdate, { args: [await signWith(h, 'alice')] }));
          const kept = await h.executeUpdate(approveUpdate, { args: [await signWith(h, 'bob')] });
          const history = await h.fetchHistory();
          const keyReads = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'awaitApproverKeys').length;
          return { first, now, removed, kept, keyReads };
        },
        activities,
      );
      expect(out.first).toMatchObject({ keys: 2, principals: ['alice', 'bob'], source: ring.allowedSigners });
      expect(out.now).toMatchObject({ keys: 1, principals: ['bob'] });
      expect(out.removed).toMatch(/may not sign as 'alice': the allowed signers do not list this key/);
      expect(out.kept).toEqual({ planVersion: 1, outcome: 'proceeding' });
      // The first read, the wait that saw the change, and the wait after it (cancelled by the approval).
      expect(out.keyReads).toBe(3);
    });

    it('without a file configured, every answer is refused saying so', async () => {
      const none = createApproverActivities({ approvals: {} } as Config);
      const { out, run } = await withGate(
        { approvers: ['alice'], timeoutMs: 5_000 },
        async (h) => {
          await untilWaiting(h);
          return { refused: await refusal(h.executeUpdate(approveUpdate, { args: [await signWith(h, 'alice')] })), keys: await h.query(keysQuery) };
        },
        none,
      );
      expect(out.refused).toMatch(/^no approval can be verified now: this worker has no approvers' keys \(APPROVERS_ALLOWED_SIGNERS is not set\)/);
      expect(out.keys).toMatchObject({ keys: 0, problem: expect.stringContaining('APPROVERS_ALLOWED_SIGNERS') });
      expect(run.decisions).toEqual([null]);
    });
  });

  it('no decision in time: undefined', async () => {
    const { run } = await withGate({ approvers: ['alice'], timeoutMs: 1_000 }, async () => undefined);
    expect(run.decisions).toEqual([null]); // undefined, as JSON carries it
  });
});
