// Small statistics and formatting helpers for the benchmarks: medians, percentiles, a text table.

export const median = (values: number[]): number => percentile(values, 50);

/** Nearest-rank percentile of the finite values; NaN when there are none. */
export function percentile(values: number[], p: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  if (p === 50 && sorted.length % 2 === 0) {
    const mid = sorted.length / 2;
    return (sorted[mid - 1]! + sorted[mid]!) / 2;
  }
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

export const seconds = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'n/a');
export const millis = (ms: number): string => (Number.isFinite(ms) ? `${Math.round(ms)} ms` : 'n/a');
export const ratio = (r: number): string => (Number.isFinite(r) ? r.toFixed(2) : 'n/a');
export const mib = (bytes: number): string => (Number.isFinite(bytes) ? `${Math.round(bytes / 2 ** 20)} MiB` : 'n/a');

export type Verdict = 'met' | 'NOT met' | 'n/a';
export const verdict = (ok: boolean | undefined): Verdict => (ok === undefined ? 'n/a' : ok ? 'met' : 'NOT met');

export interface Row {
  part: string;
  metric: string;
  value: string;
  target?: string;
  verdict?: Verdict;
}

/** A plain text table, columns padded to their widest cell. */
export function table(rows: Row[]): string {
  const header: Row = { part: 'part', metric: 'metric', value: 'value', target: 'target', verdict: 'n/a' };
  const cells = [header, ...rows].map((r, i) => [
    r.part,
    r.metric,
    r.value,
    r.target ?? '',
    i === 0 ? 'verdict' : r.target ? (r.verdict ?? '') : '',
  ]);
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}

/**
 * The distinct sets of activity calls the runs made, each as its sorted names: calls made side by
 * side (the tag reads beside the preflight checks, the undo of every table) end in any order, so
 * two routes do the same work when they make the same calls, whatever order they end in.
 */
export function activityCallsOf(runs: { steps: { name: string }[] }[]): string[] {
  return [...new Set(runs.map((r) => r.steps.map((s) => s.name).sort().join(' ')))];
}

/** Both routes made one and the same set of calls in every run. */
export const sameCalls = (calls: { workflow: string[]; direct: string[] }): boolean =>
  calls.workflow.length === 1 && calls.direct.length === 1 && calls.workflow[0] === calls.direct[0];
