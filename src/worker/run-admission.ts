import type { CustomSlotSupplier, SlotMarkUsedContext, SlotPermit, SlotReleaseContext, SlotReserveContext, WorkflowSlotInfo } from '@temporalio/worker';

/**
 * Workflow task slots that take a run new to this worker only while its workflow cache has room.
 *
 * A task for a run the worker holds comes from its sticky queue; a run new to it (or one whose
 * sticky task timed out) comes from the shared task queue. The SDK polls both as long as a slot is
 * free, and when a new run meets a full cache it evicts the least recently used run, which replays
 * its whole history at its next task. With more runs in progress than the cache holds, every task
 * then meets an evicted run: 1,000 upgrades at once on a cache of 400 finished 90 in 480 s
 * (bench/README.md, P4). Here a poll of the shared queue waits while the cached runs, and the new
 * ones already polled, are `runs` or more and the worker has any workflow task in hand: the rest
 * wait in the task queue, and the runs in progress finish first. With no task in hand it polls
 * anyway: the cached runs all wait (on activities, or a parent on a child still in the queue, as a
 * scheduled savepoint's run waits on its savepoint), the worker's workflow thread would otherwise
 * sit idle, and a task of a cached run whose sticky wait expired is never stuck behind the cache.
 */
export class RunAdmission implements CustomSlotSupplier<WorkflowSlotInfo> {
  readonly type = 'custom';
  private inUse = 0;
  /** slots with a task in hand (the rest wait on a poll) */
  private working = 0;
  /** slots reserved for the shared queue and not yet released: each may bring a run into the cache */
  private newRuns = 0;
  private cachedRuns: () => number = () => 0;
  private wake: (() => void)[] = [];

  constructor(
    private readonly limits: { slots: number; runs: number; recheckMs?: number },
  ) {}

  /** Where the worker's count of cached runs is read (it exists only once the worker does). */
  countCachedRunsWith(count: () => number): void {
    this.cachedRuns = count;
  }

  async reserveSlot(ctx: SlotReserveContext, abortSignal: AbortSignal): Promise<SlotPermit> {
    for (;;) {
      const permit = this.grant(ctx.isSticky);
      if (permit) return permit;
      await this.changeOrRecheck(abortSignal);
    }
  }

  tryReserveSlot(ctx: SlotReserveContext): SlotPermit | null {
    return this.grant(ctx.isSticky);
  }

  markSlotUsed(_ctx: SlotMarkUsedContext<WorkflowSlotInfo>): void {
    this.working++;
  }

  releaseSlot(ctx: SlotReleaseContext<WorkflowSlotInfo>): void {
    this.inUse--;
    if (ctx.slotInfo) this.working--;
    if ((ctx.permit as Permit).newRun) this.newRuns--;
    for (const wake of this.wake.splice(0)) wake();
  }

  private grant(sticky: boolean): Permit | null {
    if (this.inUse >= this.limits.slots) return null;
    if (!sticky && this.working > 0 && this.cachedRuns() + this.newRuns >= this.limits.runs) return null;
    this.inUse++;
    if (!sticky) this.newRuns++;
    return { newRun: !sticky };
  }

  /** Until a slot is released or `recheckMs` passed (runs also leave the cache between tasks: evictions). */
  private changeOrRecheck(abortSignal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (abortSignal.aborted) return reject(abortSignal.reason);
      const done = () => {
        clearTimeout(timer);
        this.wake = this.wake.filter((w) => w !== done);
        abortSignal.removeEventListener('abort', aborted);
        resolve();
      };
      const aborted = () => {
        clearTimeout(timer);
        this.wake = this.wake.filter((w) => w !== done);
        reject(abortSignal.reason);
      };
      const timer = setTimeout(done, this.limits.recheckMs ?? 250);
      abortSignal.addEventListener('abort', aborted, { once: true });
      this.wake.push(done);
    });
  }
}

interface Permit extends SlotPermit {
  newRun: boolean;
}
