// A FAKE Flink 1.20 JobManager REST API and SQL gateway, for P4 (scale) only: just enough of both
// for the activities of upgradeWorkflow and takeSavepointWorkflow, with simulated latencies. It
// runs in its own process (`node fake-flink-server.js`), tells its parent its ports over IPC, and
// takes seed and stats requests on /_fake/*. Nothing here is Flink: numbers measured against it
// are about our worker and Temporal, not about a cluster.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeCluster, FAKE_LATENCY, type FakeJob } from './fake-cluster';
import { FakeGateway } from './fake-gateway';

export { FAKE_LATENCY };

type Handler = (req: IncomingMessage, url: URL, body: any) => { status?: number; json: unknown };

const notFound = (what: string) => ({ status: 404, json: { errors: [`org.apache.flink.runtime.rest.NotFoundException: ${what}`] } });

/** The current fake cluster and its gateway; /_fake/reset swaps both for new ones. */
interface Holder {
  cluster: FakeCluster;
  gateway: FakeGateway;
}

const fresh = (): Holder => {
  const cluster = new FakeCluster();
  return { cluster, gateway: new FakeGateway(cluster) };
};

function flinkRoutes(h: Holder): [string, RegExp, (m: RegExpExecArray, url: URL, body: any) => { status?: number; json: unknown }][] {
  const withJob = (jid: string, then: (job: FakeJob) => { status?: number; json: unknown }) => {
    const job = h.cluster.job(jid);
    return job ? then(job) : notFound(`Job ${jid} not found`);
  };
  return [
    ['GET /config', /^GET \/config$/, () => ({ json: { 'flink-version': '1.20.3', 'flink-revision': 'fake' } })],
    ['GET /overview', /^GET \/overview$/, () => ({ json: h.cluster.overview() })],
    ['GET /jobs/overview', /^GET \/jobs\/overview$/, () => ({ json: { jobs: h.cluster.jobsOverview() } })],
    ['GET /jobs/:id', /^GET \/jobs\/(\w+)$/, (m) => withJob(m[1]!, (j) => ({ json: h.cluster.details(j) }))],
    ['GET /jobs/:id/status', /^GET \/jobs\/(\w+)\/status$/, (m) => withJob(m[1]!, (j) => ({ json: { status: j.state } }))],
    ['GET /jobs/:id/plan', /^GET \/jobs\/(\w+)\/plan$/, (m) => withJob(m[1]!, (j) => ({ json: h.cluster.plan(j) }))],
    ['GET /jobs/:id/config', /^GET \/jobs\/(\w+)\/config$/, (m) => withJob(m[1]!, (j) => ({ json: h.cluster.config(j) }))],
    ['GET /jobs/:id/checkpoints', /^GET \/jobs\/(\w+)\/checkpoints$/, (m) => withJob(m[1]!, (j) => ({ json: h.cluster.checkpoints(j) }))],
    [
      'GET /jobs/:id/checkpoints/config',
      /^GET \/jobs\/(\w+)\/checkpoints\/config$/,
      (m) => withJob(m[1]!, () => ({ json: { mode: 'exactly_once', interval: FAKE_LATENCY.checkpointIntervalMs, timeout: 600_000 } })),
    ],
    ['GET /jobs/:id/metrics', /^GET \/jobs\/(\w+)\/metrics$/, (m) => withJob(m[1]!, () => ({ json: [{ id: 'numRestarts', value: '0' }] }))],
    [
      'GET /jobs/:id/exceptions',
      /^GET \/jobs\/(\w+)\/exceptions$/,
      (m) => withJob(m[1]!, () => ({ json: { 'root-exception': null, exceptionHistory: { entries: [], truncated: false } } })),
    ],
    ['PATCH /jobs/:id', /^PATCH \/jobs\/(\w+)$/, (m) => withJob(m[1]!, (j) => (h.cluster.cancel(j), { status: 202, json: {} }))],
    [
      'POST /jobs/:id/stop',
      /^POST \/jobs\/(\w+)\/stop$/,
      (m, _u, body) => withJob(m[1]!, (j) => ({ status: 202, json: { 'request-id': h.cluster.savepoint(j, body.triggerId, true) } })),
    ],
    [
      'POST /jobs/:id/savepoints',
      /^POST \/jobs\/(\w+)\/savepoints$/,
      (m, _u, body) => withJob(m[1]!, (j) => ({ status: 202, json: { 'request-id': h.cluster.savepoint(j, body.triggerId, false) } })),
    ],
    [
      'GET /jobs/:id/savepoints/:trigger',
      /^GET \/jobs\/(\w+)\/savepoints\/(\w+)$/,
      (m) =>
        withJob(m[1]!, (j) => {
          const status = h.cluster.savepointStatus(j, m[2]!);
          return status ? { json: status } : notFound(`no savepoint operation with trigger ${m[2]}`);
        }),
    ],
  ];
}

function gatewayRoutes(h: Holder): [string, RegExp, (m: RegExpExecArray, url: URL, body: any) => { status?: number; json: unknown }][] {
  return [
    ['GET /v1/info', /^GET \/v1\/info$/, () => ({ json: { productName: 'Apache Flink (fake)', version: '1.20.3' } })],
    ['POST /v1/sessions', /^POST \/v1\/sessions$/, (_m, _u, body) => ({ json: { sessionHandle: h.gateway.openSession(body?.properties ?? {}) } })],
    ['DELETE /v1/sessions/:s', /^DELETE \/v1\/sessions\/([\w-]+)$/, (m) => (h.gateway.closeSession(m[1]!), { json: { status: 'CLOSED' } })],
    [
      'POST /v1/sessions/:s/statements',
      /^POST \/v1\/sessions\/([\w-]+)\/statements$/,
      (m, _u, body) => {
        const outcome = h.gateway.execute(m[1]!, String(body?.statement ?? ''));
        if ('error' in outcome) return { status: outcome.status, json: { errors: ['Internal server error.', outcome.error] } };
        return { json: { operationHandle: outcome.operationHandle } };
      },
    ],
    [
      'GET /v1/sessions/:s/operations/:o/result/:t',
      /^GET \/v1\/sessions\/([\w-]+)\/operations\/([\w-]+)\/result\/(\d+)$/,
      (m) => {
        const page = h.gateway.fetch(m[1]!, m[2]!, Number(m[3]));
        return page ? { json: page } : { status: 404, json: { errors: [`Can not find the operation ${m[2]}`] } };
      },
    ],
    ['DELETE /v1/sessions/:s/operations/:o/close', /^DELETE \/v1\/sessions\/([\w-]+)\/operations\/([\w-]+)\/close$/, () => ({ json: { status: 'CLOSED' } })],
  ];
}

/** Requests per route, what the fake's stats report (how many calls an upgrade costs). */
const counts = new Map<string, number>();
/** Requests no route of the fake answers, by method and path. */
const unanswered = new Map<string, number>();

function serve(holder: Holder, routes: ReturnType<typeof flinkRoutes>): Server {
  const control: Record<string, Handler> = {
    'POST /_fake/seed': (_r, _u, body) => ({ json: { jobs: holder.cluster.seed(body.jobs) } }),
    /** A new, empty cluster: each P4 phase runs on its own jobs only. */
    'POST /_fake/reset': () => (Object.assign(holder, fresh()), counts.clear(), unanswered.clear(), { json: {} }),
    'GET /_fake/stats': () => ({ json: { requests: Object.fromEntries(counts), unanswered: { ...Object.fromEntries(unanswered), ...Object.fromEntries([...holder.gateway.notUnderstood].map(([k, n]) => [`SQL ${k}`, n])) }, jobs: holder.cluster.size, latency: FAKE_LATENCY } }),
    'POST /_fake/reset-stats': () => (counts.clear(), unanswered.clear(), { json: {} }),
  };
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const key = `${req.method} ${url.pathname}`;
      let body: any;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      } catch {
        return reply(res, 400, { errors: ['bad JSON'] });
      }
      if (control[key]) {
        const out = control[key](req, url, body);
        return reply(res, out.status ?? 200, out.json);
      }
      const route = routes.find(([, pattern]) => pattern.test(key));
      if (!route) {
        // Counted apart: a call our activities make that the fake cannot answer means the benchmark no
        // longer measures what it says (P4 fails when any was seen).
        const pathOf = key.replace(/\b[0-9a-f]{32}\b/g, ':id');
        unanswered.set(pathOf, (unanswered.get(pathOf) ?? 0) + 1);
        return reply(res, 404, { errors: [`Not found: ${key} (the fake implements only what our activities use)`] });
      }
      counts.set(route[0], (counts.get(route[0]) ?? 0) + 1);
      // The work happens after the simulated latency, as a server's processing would.
      setTimeout(() => {
        try {
          const out = route[2](route[1].exec(key)!, url, body);
          reply(res, out.status ?? 200, out.json);
        } catch (err) {
          reply(res, 500, { errors: [`fake server error: ${String(err)}`] });
        }
      }, FAKE_LATENCY.callMinMs + Math.random() * (FAKE_LATENCY.callMaxMs - FAKE_LATENCY.callMinMs));
    });
  });
}

function reply(res: ServerResponse, status: number, json: unknown): void {
  const text = JSON.stringify(json);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function listen(server: Server): Promise<number> {
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export async function startFakeFlink(): Promise<{ restPort: number; gatewayPort: number; close: () => Promise<void> }> {
  const holder = fresh();
  const rest = serve(holder, flinkRoutes(holder));
  const gateway = serve(holder, gatewayRoutes(holder));
  const [restPort, gatewayPort] = [await listen(rest), await listen(gateway)];
  const close = async () => {
    for (const s of [rest, gateway]) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  };
  return { restPort, gatewayPort, close };
}

// Run as a child process: report the ports to the parent, stop when it says so or goes away.
if (require.main === module) {
  void startFakeFlink().then(({ restPort, gatewayPort, close }) => {
    process.send?.({ type: 'ready', restPort, gatewayPort });
    process.on('message', (m: { type?: string }) => {
      if (m?.type === 'stop') void close().then(() => process.exit(0));
    });
    process.on('disconnect', () => process.exit(0));
  });
}
