import type { CustomSlotSupplier, SlotMarkUsedContext, SlotPermit, SlotReleaseContext, SlotReserveContext, WorkflowSlotInfo } from '@temporalio/worker';

/**
 * How long the worker has had no workflow task in hand before a run new to it may enter a full
 * cache: long enough that the gaps between the tasks of runs in progress never reach it (they
 * reached 1 s under 1,000 upgrades at once), short beside a restore's wait for its approval.
 */
export const IDLE_MS = 10_000;

/**
 * How long the worker has had neither a workflow task nor an activity in hand before a run new to it
 * may enter a full cache: the cached runs then wait on nothing this worker runs (children still in
 * the task queue behind the cache, timers, an approval), so none of their tasks is near.
 */
export const QUIET_MS = 1_000;

/**
 * Workflow task slots that take a run new to this worker only while its workflow cache has room.
 *
 * A task for a run the worker holds comes from its sticky queue; a run new to it (or one whose
 * sticky task timed out) comes from the shared task queue. The SDK polls both as long as a slot is
 * free, and when a new run meets a full cache it evicts the least recently used run. The evicted
 * run's next task still comes from the sticky queue, which is always polled: the worker fetches and
 * replays its whole history, evicting another run to make room, whose next task does the same. So
 * every run let in beyond the cache keeps one run out of it until enough runs end, and with many
 * let in nearly every task replays: 1,000 upgrades at once, let in whenever the worker had no task
 * in hand, missed the cache at 11,240 of 13,046 tasks, took 448 s and 473 ms of worker CPU each
 * (on Temporal's server on PostgreSQL 537 s and 517 ms); let in only while the cache had room,
 * 0 misses, 194 s and 165 ms (bench/README.md, P4).
 *
 * Here a poll of the shared queue waits while the cached runs, and the new ones already polled,
 * are `runs` or more: the rest wait in the task queue, and the runs in progress finish first. Once
 * the worker has had no workflow task in hand for `idleMs`, it polls anyway: the cached runs all
 * wait (a restore on its approval, a parent on a child still in the queue, long activities), the
 * workflow thread would otherwise sit idle, and a task of a cached run whose sticky wait expired is
 * never stuck behind the cache. It polls after `quietMs` already when no activity runs in the worker
 * either: a scheduled savepoint's run waits on its child, which comes from the shared queue, and
 * with the cache full of such parents the worker sat idle 10 s at a time (bench/README.md, P4).
 */
export class RunAdmission implements CustomSlotSupplier<WorkflowSlotInfo> {
  readonly type = 'custom';
  private inUse = 0;
  /** slots with a task in hand (the rest wait on a poll) */
  private working = 0;
  /** when the last task in hand was released (working fell to 0); the worker starts idle */
  private idleSince = Number.NEGATIVE_INFINITY;
  /** slots reserved for the shared queue and not yet released: each may bring a run into the cache */
  private newRuns = 0;
  private cachedRuns: () => number = () => 0;
  /** activities running in this worker; unknown (never quiet) until the worker says */
  private activities: () => number = () => Number.POSITIVE_INFINITY;
  /** when the worker was first seen with neither a task nor an activity in hand */
  private quietSince: number | undefined;
  private wake: (() => void)[] = [];
  /** slots granted so far: for sticky polls, for the shared queue, and of those beyond a full cache (idle) */
  readonly granted = { sticky: 0, shared: 0, beyondCache: 0 };

  constructor(
    private readonly limits: { slots: number; runs: number; recheckMs?: number; idleMs?: number; quietMs?: number },
  ) {}

  /** Where the worker's count of cached runs is read (it exists only once the worker does). */
  countCachedRunsWith(count: () => number): void {
    this.cachedRuns = count;
  }

  /** Where the worker's count of activities in flight (local ones too) is read. */
  countActivitiesWith(count: () => number): void {
    this.activities = count;
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
    this.quietSince = undefined;
  }

  releaseSlot(ctx: SlotReleaseContext<WorkflowSlotInfo>): void {
    this.inUse--;
    if (ctx.slotInfo && --this.working === 0) this.idleSince = Date.now();
    if ((ctx.permit as Permit).newRun) this.newRuns--;
    for (const wake of this.wake.splice(0)) wake();
  }

  private grant(sticky: boolean): Permit | null {
    if (this.inUse >= this.limits.slots) return null;
    const full = !sticky && this.cachedRuns() + this.newRuns >= this.limits.runs;
    if (full && !this.idleFor(this.limits.idleMs ?? IDLE_MS) && !this.quietFor(this.limits.quietMs ?? QUIET_MS)) return null;
    this.inUse++;
    if (!sticky) this.newRuns++;
    if (sticky) this.granted.sticky++;
    else this.granted.shared++;
    if (full) this.granted.beyondCache++;
    return { newRun: !sticky };
  }

  /** What the slots hold now (the scale benchmark's trace). */
  snapshot(): { inUse: number; working: number; newRuns: number; cachedRuns: number } {
    return { inUse: this.inUse, working: this.working, newRuns: this.newRuns, cachedRuns: this.cachedRuns() };
  }

  private idleFor(ms: number): boolean {
    return this.working === 0 && Date.now() - this.idleSince >= ms;
  }

  /** No task and no activity in hand, seen for `ms` (seen at each recheck while a new run waits). */
  private quietFor(ms: number): boolean {
    if (this.working > 0 || this.activities() > 0) {
      this.quietSince = undefined;
      return false;
    }
    this.quietSince ??= Date.now();
    return Date.now() - this.quietSince >= ms;
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
