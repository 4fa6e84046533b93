// Where the same activity costs more inside the worker than in the floor: per activity name, the
// medians of its run time and of what its requests and the event loop did meanwhile
// (request-timer.ts), side by side, and one line for each activity that costs more in the worker.
import type { CallCost } from './request-timer';
import { median, ratio, type Row } from './stats';

interface Timed {
  steps: { name: string; ms: number; cost?: CallCost; endedAt?: number }[];
}

type Figure = 'ms' | 'requests' | 'newConnections' | 'waitingToSendMs' | 'serverMs' | 'outsideRequestsMs' | 'eventLoopLagMs';
const FIGURES: Figure[] = ['ms', 'requests', 'newConnections', 'waitingToSendMs', 'serverMs', 'outsideRequestsMs', 'eventLoopLagMs'];

export type CostMedians = Record<string, Record<Figure, number>>;

/** Per activity name, each figure summed over its calls in a run, then the median over the runs. */
export function costMedians(runs: Timed[]): CostMedians {
  const names = [...new Set(runs.flatMap((r) => r.steps.map((s) => s.name)))];
  const figure = (s: Timed['steps'][number], f: Figure) => (f === 'ms' ? s.ms : (s.cost?.[f] ?? Number.NaN));
  return Object.fromEntries(
    names.map((name) => [
      name,
      Object.fromEntries(
        FIGURES.map((f) => [f, median(runs.map((r) => r.steps.filter((s) => s.name === name).reduce((a, s) => a + figure(s, f), 0)))]),
      ) as Record<Figure, number>,
    ]),
  );
}

/** What made each activity that took longer in the worker (by `minMs` and 20 %) take longer. */
export function whyCostlier(worker: CostMedians, floor: CostMedians, minMs = 20): string[] {
  const ms = (x: number) => `${Math.round(x)}`;
  const delta = (x: number) => `${x >= 0 ? '+' : ''}${Math.round(x)}`;
  return Object.entries(worker)
    .filter(([name, w]) => floor[name] && w.ms - floor[name]!.ms > minMs && w.ms > 1.2 * floor[name]!.ms)
    .map(([name, w]) => {
      const f = floor[name]!;
      const parts = [
        `server ${delta(w.serverMs - f.serverMs)}`,
        `waiting to send ${delta(w.waitingToSendMs - f.waitingToSendMs)}`,
        `outside its requests ${delta(w.outsideRequestsMs - f.outsideRequestsMs)}`,
        `event-loop lag ${delta(w.eventLoopLagMs - f.eventLoopLagMs)}`,
      ];
      return (
        `${name} ${ms(w.ms)} vs ${ms(f.ms)} ms: ${parts.join(', ')} ms; ` +
        `requests ${ms(w.requests)} vs ${ms(f.requests)}, new connections ${ms(w.newConnections)} vs ${ms(f.newConnections)}`
      );
    });
}

/**
 * The downtime path: when each activity that ran after the stop returned, counted from the stop's
 * return (the last call of a name in a run; medians over the runs), in the order they ended.
 */
export function afterStop(runs: Timed[], stop = 'stopWithSavepoint'): { name: string; endedAfterMs: number }[] {
  const offsets = runs.map((r) => {
    const stopped = r.steps.find((s) => s.name === stop)?.endedAt;
    const after: Record<string, number> = {};
    if (stopped === undefined) return after;
    for (const s of r.steps) {
      if (s.endedAt === undefined || s.endedAt <= stopped || s.name === stop) continue;
      after[s.name] = Math.max(after[s.name] ?? 0, s.endedAt - stopped);
    }
    return after;
  });
  const names = [...new Set(offsets.flatMap((o) => Object.keys(o)))];
  return names
    .map((name) => ({ name, endedAfterMs: median(offsets.map((o) => o[name] ?? Number.NaN)) }))
    .sort((a, b) => a.endedAfterMs - b.endedAfterMs);
}

export const pathText = (path: { name: string; endedAfterMs: number }[], until = 'deployJob'): string => {
  const end = path.findIndex((p) => p.name === until);
  return (end < 0 ? path : path.slice(0, end + 1)).map((p) => `${p.name} +${Math.round(p.endedAfterMs)}`).join(', ');
};

/** Median CPU ms per process over the runs (cpu.ts). */
export function cpuMedians(runs: { cpuMs?: Record<string, number> }[]): Record<string, number> {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.cpuMs ?? {})))];
  return Object.fromEntries(names.map((n) => [n, median(runs.map((r) => r.cpuMs?.[n] ?? Number.NaN))]));
}

/** `process a / b / c` for each process, in the order of the first route's figures. */
export const cpuText = (...routes: Record<string, number>[]): string =>
  Object.keys(routes[0] ?? {})
    .map((name) => `${name} ${routes.map((r) => (Number.isFinite(r[name]) ? (r[name]! / 1000).toFixed(1) : 'n/a')).join(' / ')}`)
    .join('; ');

/** The rows that show each route's stop waiting behind a checkpoint in flight, and the ratio without it. */
export function queuedRows(part: string, q: { roundsMs: { workflow: (number | null)[]; direct: (number | null)[] }; ratioLessQueue: number }): Row[] {
  const rounds = (xs: (number | null)[]) => xs.map((x) => (x === null ? '?' : String(x))).join(', ');
  return [
    { part, metric: "stop's savepoint queued behind a checkpoint in flight, ms per round: wf / direct", value: `${rounds(q.roundsMs.workflow)} / ${rounds(q.roundsMs.direct)}` },
    { part, metric: 'ratio less that wait (the luck of the checkpoint cycle)', value: ratio(q.ratioLessQueue) },
  ];
}

/**
 * The stop's savepoint waiting in Flink behind a checkpoint in flight, per route (each round's, in
 * round order), and the wall ratio without it: that wait is the luck of where in the old job's
 * checkpoint cycle the stop lands, not either route's work.
 */
export function queuedBehindCheckpoint<R extends { wallMs: number; savepointQueuedMs?: number }>(wf: R[], dr: R[]) {
  const lessQueue = (rs: R[]) => median(rs.map((r) => r.wallMs - (r.savepointQueuedMs ?? Number.NaN)));
  return {
    roundsMs: { workflow: wf.map((r) => r.savepointQueuedMs ?? null), direct: dr.map((r) => r.savepointQueuedMs ?? null) },
    ratioLessQueue: lessQueue(wf) / lessQueue(dr),
  };
}
