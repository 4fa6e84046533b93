// RunAdmission (src/worker/run-admission.ts): the workflow task slots that keep runs new to the worker
// in the task queue while its cache is full and it has work in hand. The scale benchmark (P4) measures
// what it does under load; this checks the rule itself.
import { describe, expect, it } from 'vitest';
import type { SlotReserveContext, WorkflowSlotInfo } from '@temporalio/worker';
import { RunAdmission } from '../src/worker/run-admission';

const poll = (isSticky: boolean) => ({ isSticky, slotType: 'workflow', taskQueue: 'q', workerIdentity: 'w', workerBuildId: '' }) as SlotReserveContext;
const info: WorkflowSlotInfo = { type: 'workflow', workflowType: 'upgradeWorkflow', isSticky: false };
const settled = async (p: Promise<unknown>) => Promise.race([p.then(() => true), new Promise((r) => setTimeout(() => r(false), 30))]);

function admission(cached: { n: number }, slots = 4, runs = 2, idleMs = 1_000) {
  const a = new RunAdmission({ slots, runs, recheckMs: 5, idleMs });
  a.countCachedRunsWith(() => cached.n);
  return a;
}

describe('RunAdmission', () => {
  it('never hands out more slots than it has', () => {
    const a = admission({ n: 0 }, 2, 100);
    expect(a.tryReserveSlot(poll(true))).not.toBeNull();
    expect(a.tryReserveSlot(poll(true))).not.toBeNull();
    expect(a.tryReserveSlot(poll(true))).toBeNull();
  });

  it('counts polls of the shared queue as runs that may enter the cache', () => {
    const a = admission({ n: 1 });
    const first = a.tryReserveSlot(poll(false));
    expect(first).not.toBeNull();
    a.markSlotUsed({ slotInfo: info, permit: first! });
    // 1 cached + 1 polled = the cache's 2, and a task is in hand: the next new run waits
    expect(a.tryReserveSlot(poll(false))).toBeNull();
    // a cached run's own task (its sticky queue) still gets a slot
    expect(a.tryReserveSlot(poll(true))).not.toBeNull();
  });

  it('lets a new run wait until a cached run ends, then polls for it', async () => {
    const cached = { n: 2 };
    const a = admission(cached);
    const working = a.tryReserveSlot(poll(true))!;
    a.markSlotUsed({ slotInfo: { ...info, isSticky: true }, permit: working });
    const waiting = a.reserveSlot(poll(false), new AbortController().signal);
    expect(await settled(waiting)).toBe(false);
    cached.n = 1;
    expect(await settled(waiting)).toBe(true);
  });

  it('polls for a new run, full cache or not, when no task has been in hand for idleMs (the cached runs all wait)', async () => {
    const a = admission({ n: 2 });
    expect(await settled(a.reserveSlot(poll(false), new AbortController().signal))).toBe(true);
  });

  it('with a full cache, a moment with no task in hand between two tasks does not let a new run in; an idle worker does', async () => {
    const a = admission({ n: 2 }, 4, 2, 150);
    const task = a.tryReserveSlot(poll(true))!;
    a.markSlotUsed({ slotInfo: { ...info, isSticky: true }, permit: task });
    a.releaseSlot({ slotInfo: { ...info, isSticky: true }, permit: task });
    // no task in hand now, but only just: the cached runs' next tasks are on their way
    expect(a.tryReserveSlot(poll(false))).toBeNull();
    const waiting = a.reserveSlot(poll(false), new AbortController().signal);
    expect(await settled(waiting)).toBe(false);
    // another task of a cached run restarts the wait
    const next = a.tryReserveSlot(poll(true))!;
    a.markSlotUsed({ slotInfo: { ...info, isSticky: true }, permit: next });
    await new Promise((r) => setTimeout(r, 160));
    expect(await settled(waiting)).toBe(false);
    a.releaseSlot({ slotInfo: { ...info, isSticky: true }, permit: next });
    // idle for 150 ms: the cached runs all wait, so a new run may come in
    await new Promise((r) => setTimeout(r, 160));
    expect(await settled(waiting)).toBe(true);
  });

  it('with a full cache, lets a new run in after quietMs with neither a task nor an activity in hand, not while an activity runs', async () => {
    const a = new RunAdmission({ slots: 4, runs: 2, recheckMs: 5, idleMs: 60_000, quietMs: 100 });
    a.countCachedRunsWith(() => 2);
    const activities = { n: 1 };
    a.countActivitiesWith(() => activities.n);
    const task = a.tryReserveSlot(poll(true))!;
    a.markSlotUsed({ slotInfo: { ...info, isSticky: true }, permit: task });
    a.releaseSlot({ slotInfo: { ...info, isSticky: true }, permit: task });
    const waiting = a.reserveSlot(poll(false), new AbortController().signal);
    // an activity of a cached run is running: its run's next task is near
    await new Promise((r) => setTimeout(r, 150));
    expect(await settled(waiting)).toBe(false);
    // nothing in hand: the cached runs wait on what this worker does not run (children in the queue)
    activities.n = 0;
    expect(await settled(waiting)).toBe(false);
    await new Promise((r) => setTimeout(r, 110));
    expect(await settled(waiting)).toBe(true);
  });

  it('gives up a waiting reservation when the SDK aborts it', async () => {
    const a = admission({ n: 2 });
    const working = a.tryReserveSlot(poll(true))!;
    a.markSlotUsed({ slotInfo: { ...info, isSticky: true }, permit: working });
    const abort = new AbortController();
    const waiting = a.reserveSlot(poll(false), abort.signal);
    abort.abort(new Error('poller stopped'));
    await expect(waiting).rejects.toThrow('poller stopped');
  });

  it('frees the slot and the new-run count of a poll that found nothing', () => {
    const a = admission({ n: 1 }, 4, 2);
    const sticky = a.tryReserveSlot(poll(true))!;
    a.markSlotUsed({ slotInfo: { ...info, isSticky: true }, permit: sticky });
    const empty = a.tryReserveSlot(poll(false))!;
    expect(a.tryReserveSlot(poll(false))).toBeNull();
    a.releaseSlot({ permit: empty });
    expect(a.tryReserveSlot(poll(false))).not.toBeNull();
  });
});
