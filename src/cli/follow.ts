// Waiting for a workflow the way a person watches it: each new step as it starts, then the result.
import { defaultPayloadConverter } from '@temporalio/common';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from './context';
import { PROGRESS_MS } from './waiting';
import { words } from './views/status';

const POLL_MS = 1_000;

interface Stepped {
  step?: string;
  timings?: { step: string }[];
}

/** With nothing new to say for this long, a line that the step still runs (a wait must not look like a hang). */
const STILL_MS = PROGRESS_MS;

/**
 * Prints each step the workflow enters (from its `status` query's timings, so a step that began
 * and ended between two polls is printed too) until it closes; while one step lasts, the long
 * activity's progress, and at least every STILL_MS a line saying how long it has waited.
 */
export async function follow<T>(ctx: Context, handle: WorkflowHandle, describe?: (status: any) => string | undefined): Promise<T> {
  let stepsShown = 0;
  let shown: string | undefined;
  let shownProgress: string | undefined;
  let lastPrinted = Date.now();
  let stepSince = Date.now();
  const print = (line: string) => {
    if (ctx.json) return;
    ctx.out(line);
    lastPrinted = Date.now();
  };
  const result = handle.result() as Promise<T>;
  let done = false;
  void result.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) {
    try {
      const status = (await handle.query('status')) as Stepped;
      const extra = describe ? (describe(status) ?? '') : '';
      const timings = status.timings ?? [];
      // Steps the poll missed come first, in order; the current one with what it learnt.
      for (const t of timings.slice(stepsShown, -1)) print(`  ${t.step}`);
      const line = status.step ? `  ${status.step}${extra}` : undefined;
      if (line && line !== shown) {
        print(line);
        stepSince = Date.now();
      }
      stepsShown = Math.max(stepsShown, timings.length);
      shown = line ?? shown;
    } catch {
      // Not every workflow answers `status`, and a closing one may not answer at all.
    }
    const progress = await heartbeatProgress(handle);
    if (progress && progress !== shownProgress) print(`    ${progress}`);
    shownProgress = progress ?? shownProgress;
    if (Date.now() - lastPrinted >= STILL_MS && shown) print(`    still ${shown.trim().split(' ')[0]} (${Math.round((Date.now() - stepSince) / 1000)} s in this step)`);
    await Promise.race([sleep(POLL_MS), result.catch(() => undefined)]);
  }
  return result;
}

/** The one-line reason of a failed workflow: its root cause's message. */
export function failureReason(err: unknown): string {
  let cause: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * What the running long activity last reported (savepoint status, tables still missing a tag,
 * the job's state during the health gate): its latest heartbeat details.
 */
async function heartbeatProgress(handle: WorkflowHandle): Promise<string | undefined> {
  try {
    const { raw } = await handle.describe();
    const pending = raw.pendingActivities?.find((a) => a.heartbeatDetails?.payloads?.length);
    if (!pending) return undefined;
    const details = defaultPayloadConverter.fromPayload<Record<string, unknown>>(pending.heartbeatDetails!.payloads![0]!);
    // A job that waits for task slots says so in words (activities/flink/slots.ts).
    if (typeof details.slots === 'string') return `${pending.activityType?.name}: ${details.slots}`;
    const shown = Object.entries(details)
      .filter(([key]) => key !== 'deadline')
      .map(([key, value]) => (key === 'waitedMs' ? `waited ${Math.round(Number(value) / 1000)} s` : `${key} ${words(value)}`))
      .join(', ');
    return `${pending.activityType?.name}: ${shown}`;
  } catch {
    return undefined;
  }
}
