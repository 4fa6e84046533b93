// Why one activity call takes longer than another with the same work: each HTTP request it makes
// (undici's diagnostics channels: created, headers sent, answered, done), whether it had to open a
// connection first, and how late this process's timers ran while it was in flight (the event loop
// busy with something else). Steps of both routes are timed inside `timedCall`, so the workflow's
// activities (in the worker, activity-timer.ts) and the floor's (routes.ts' stepper) compare alike.
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

interface RequestTiming {
  what: string;
  createdAt: number;
  sentAt?: number;
  answeredAt?: number;
  doneAt?: number;
  newConnection?: boolean;
}

/** What one call's requests and this process's event loop did while it ran. */
export interface CallCost {
  requests: number;
  /** requests that waited for a connection of their own to open */
  newConnections: number;
  /** union of created -> headers sent: waiting for a free or a new connection */
  waitingToSendMs: number;
  /** union of headers sent -> answer's headers: the server's (and the network's) time */
  serverMs: number;
  /** the call's time with no request of its own in flight: our code, or the loop busy elsewhere */
  outsideRequestsMs: number;
  /** how late a 10 ms timer of this process fired, summed over the call's span */
  eventLoopLagMs: number;
  /** the three slowest requests: `<server ms> <method path>` */
  slowest: string[];
}

const calls = new AsyncLocalStorage<RequestTiming[]>();
const byRequest = new WeakMap<object, RequestTiming>();
const usedSockets = new WeakSet<Socket>();
const newSockets = new WeakSet<Socket>();
let installed = false;

/** Lags of this process's event loop (> 2 ms late), [at, lagMs]; the last few minutes. */
const lags: [number, number][] = [];
const LAG_EVERY_MS = 10;

function install(): void {
  if (installed) return;
  installed = true;
  diagnostics.subscribe('undici:request:create', (message) => {
    const { request } = message as { request: { method: string; origin: string; path: string } };
    const timings = calls.getStore();
    if (!timings) return;
    const timing: RequestTiming = { what: `${request.method} ${request.path.replace(/[0-9a-f]{32}/g, ':id').replace(/\/[0-9a-f-]{36}/g, '/:handle')}`, createdAt: performance.now() };
    timings.push(timing);
    byRequest.set(request, timing);
  });
  diagnostics.subscribe('undici:client:sendHeaders', (message) => {
    const { request, socket } = message as { request: object; socket: Socket };
    const timing = byRequest.get(request);
    if (!timing) return;
    timing.sentAt = performance.now();
    timing.newConnection = newSockets.has(socket) && !usedSockets.has(socket);
    usedSockets.add(socket);
  });
  diagnostics.subscribe('undici:client:connected', (message) => {
    newSockets.add((message as { socket: Socket }).socket);
  });
  diagnostics.subscribe('undici:request:headers', (message) => {
    const timing = byRequest.get((message as { request: object }).request);
    if (timing) timing.answeredAt = performance.now();
  });
  const done = (message: unknown) => {
    const timing = byRequest.get((message as { request: object }).request);
    if (timing) timing.doneAt ??= performance.now();
  };
  diagnostics.subscribe('undici:request:trailers', done);
  diagnostics.subscribe('undici:request:error', done);
  let expected = performance.now() + LAG_EVERY_MS;
  setInterval(() => {
    const now = performance.now();
    const lag = now - expected;
    if (lag > 2) lags.push([now, lag]);
    while (lags.length > 0 && lags[0]![0] < now - 300_000) lags.shift();
    expected = now + LAG_EVERY_MS;
  }, LAG_EVERY_MS).unref();
}

// Before any connection is opened: a socket is new when it connected after this.
install();

/** Runs `fn` with its HTTP requests recorded; gives its result and what its time went to. */
export async function timedCall<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; ms: number; cost: CallCost }> {
  const timings: RequestTiming[] = [];
  const started = performance.now();
  const outcome = await calls.run(timings, fn).then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
  const ended = performance.now();
  return { ...outcome, ms: ended - started, cost: costOf(timings, started, ended) };
}

function union(spans: [number, number][]): number {
  const sorted = spans.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let [from, to] = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (const [a, b] of sorted) {
    if (a > to) {
      if (to > from) total += to - from;
      [from, to] = [a, b];
    } else to = Math.max(to, b);
  }
  if (to > from) total += to - from;
  return total;
}

function costOf(timings: RequestTiming[], started: number, ended: number): CallCost {
  const end = (t: RequestTiming) => t.doneAt ?? t.answeredAt ?? ended;
  const server = (t: RequestTiming) => (t.answeredAt ?? end(t)) - (t.sentAt ?? t.createdAt);
  return {
    requests: timings.length,
    newConnections: timings.filter((t) => t.newConnection).length,
    waitingToSendMs: union(timings.map((t) => [t.createdAt, t.sentAt ?? t.createdAt])),
    serverMs: union(timings.map((t) => [t.sentAt ?? t.createdAt, t.answeredAt ?? end(t)])),
    outsideRequestsMs: ended - started - union(timings.map((t) => [t.createdAt, end(t)])),
    eventLoopLagMs: lags.filter(([at]) => at >= started && at <= ended).reduce((a, [, lag]) => a + lag, 0),
    slowest: [...timings]
      .sort((a, b) => server(b) - server(a))
      .slice(0, 3)
      .map((t) => `${Math.round(server(t))} ms ${t.what}${t.newConnection ? ' (new connection)' : ''}`),
  };
}
