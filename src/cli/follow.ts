// Waiting for a workflow the way a person watches it: each new step as it starts, then the result.
import { defaultPayloadConverter } from '@temporalio/common';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from './context';

const POLL_MS = 1_000;

interface Stepped {
  step?: string;
}

/** Prints each step the workflow enters (from its `status` query) until it closes; returns its result. */
export async function follow<T>(ctx: Context, handle: WorkflowHandle, describe?: (status: any) => string | undefined): Promise<T> {
  let shown: string | undefined;
  let shownProgress: string | undefined;
  const result = handle.result() as Promise<T>;
  let done = false;
  void result.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) {
    try {
      const status = (await handle.query('status')) as Stepped;
      const line = status.step ? `  ${status.step}${describe ? (describe(status) ?? '') : ''}` : undefined;
      if (line && line !== shown && !ctx.json) ctx.out(line);
      shown = line ?? shown;
    } catch {
      // Not every workflow answers `status`, and a closing one may not answer at all.
    }
    const progress = await heartbeatProgress(handle);
    if (progress && progress !== shownProgress && !ctx.json) ctx.out(`    ${progress}`);
    shownProgress = progress ?? shownProgress;
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
    const shown = Object.entries(details)
      .filter(([key]) => key !== 'deadline')
      .map(([key, value]) => `${key}=${key === 'waitedMs' ? `${Math.round(Number(value) / 1000)}s` : JSON.stringify(value)}`)
      .join(' ');
    return `${pending.activityType?.name}: ${shown}`;
  } catch {
    return undefined;
  }
}
