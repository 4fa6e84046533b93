// Every wait says what it waits for at once, and while it lasts a line every few seconds with how
// long it has waited and what the workflow is doing: a wait of 30 s must not look like a hang.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from './context';

/** How often a line says the wait goes on. */
export const PROGRESS_MS = 5_000;

/**
 * Prints `what` now, then every `everyMs` what `progress` says (or "still waiting") with the time
 * waited, until `work` settles; returns its outcome. Quiet with --json: stdout is for the data.
 */
export async function waitingFor<T>(
  ctx: Pick<Context, 'json' | 'out'>,
  what: string,
  work: Promise<T>,
  options: { progress?: () => Promise<string | undefined>; everyMs?: number } = {},
): Promise<T> {
  if (ctx.json) return work;
  const everyMs = options.everyMs ?? PROGRESS_MS;
  ctx.out(what);
  const started = Date.now();
  let settled = false;
  const done = work.then(
    () => (settled = true),
    () => (settled = true),
  );
  let last: string | undefined;
  for (;;) {
    await Promise.race([sleep(everyMs), done]);
    if (settled) break;
    const doing = options.progress ? await options.progress().catch(() => undefined) : undefined;
    const waited = `${Math.round((Date.now() - started) / 1000)} s`;
    ctx.out(doing && doing !== last ? `  ${doing} (${waited})` : `  still waiting (${waited})`);
    last = doing ?? last;
  }
  return work;
}
