// Durations as people write them: read from input ('90s', '2m', '30d', or milliseconds) and given
// back in messages ('30s', not 30000 ms). Pure: bundled into workflow code.
import { msToNumber, type Duration } from '@temporalio/common';
import { z } from 'zod';

const UNITS: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/** 30000 -> '30s', 5400000 -> '1h30m', 1500 -> '1.5s', 250 -> '250ms'. */
export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return `${ms} ms`;
  if (ms < 1_000) return `${ms}ms`;
  // Under a minute a fraction of a second is kept ('1.5s'); above, whole seconds are enough.
  if (ms < 60_000) return `${Number((ms / 1_000).toFixed(3))}s`;
  let rest = Math.round(ms / 1_000) * 1_000;
  let text = '';
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) text += `${n}${unit}`;
    rest -= n * size;
  }
  return text;
}

const YEAR_MS = 366 * 24 * 60 * 60 * 1000;

/** Milliseconds, or a duration string like '90s', '2m' or '30d'; normalised to milliseconds. */
export const duration = (what: string, options: { min?: number; max?: number } = {}) =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    const { min = 1, max = YEAR_MS } = options;
    let ms: number;
    try {
      ms = msToNumber(value as Duration);
    } catch {
      ms = Number.NaN;
    }
    if (!Number.isInteger(ms) || ms < min || ms > max) {
      ctx.addIssue({
        code: 'custom',
        message: `${what} must be milliseconds or a duration like '2m' or '30d', from ${min} ms to ${max} ms; got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    return ms;
  });
