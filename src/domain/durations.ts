// Durations as people write them, for messages: an input of '30s' comes back as '30s', not 30000 ms.
// Pure: bundled into workflow code.

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
