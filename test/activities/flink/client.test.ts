// The REST client's transport against small local servers (what the real stack cannot show: an
// auth header, TLS with our own CA, a server that hangs, a Flink that is not 1.20) and against a
// closed port.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../../src/config/config';
import { activities, expectFatal, expectRetryable, run } from '../../support/flink-fixtures';

const SECRET = 'Bearer not-for-logs-4242';
const FLINK_119 = { 'flink-version': '1.19.1', 'flink-revision': 'x' };

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return `${server instanceof https.Server ? 'https' : 'http'}://127.0.0.1:${port}`;
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('Flink REST transport — fault injection with a fake HTTP server (hangs, 5xx, bad bodies the real one does not produce)', () => {
  const seenAuth: (string | undefined)[] = [];
  let handler: Handler = (_req, res) => json(res, 200, FLINK_119);
  const server = http.createServer((req, res) => handler(req, res));
  let url: string;

  beforeAll(async () => {
    url = await listen(server);
  });
  afterAll(() => server.close());

  it('sends the Authorization header from config, and refuses a Flink line that activities/compat.ts does not list', async () => {
    handler = (req, res) => {
      seenAuth.push(req.headers.authorization);
      json(res, 200, FLINK_119);
    };
    const flink = activities({ restUrl: url, authHeader: new Secret(SECRET) });
    const err = await expectFatal(run(flink.checkFlinkCluster, undefined), 'UnsupportedFlinkVersion');
    expect(err.message).toContain('1.19.1');
    expect(seenAuth).toEqual([SECRET]);
    expect(JSON.stringify(err)).not.toContain('not-for-logs');
  });

  it('turns a server that does not answer in time into a retryable error', async () => {
    handler = () => undefined; // never answers
    const flink = activities({ restUrl: url, requestTimeoutMs: 300, authHeader: new Secret(SECRET) });
    const err = await expectRetryable(run(flink.getJob, { jobId: 'a'.repeat(32) }));
    expect(err.message).toMatch(/did not answer GET \/jobs\/a{32}: no answer within 300 ms/);
    expect(err.message).not.toContain('not-for-logs');
  });

  it('reduces a Flink error body to its root cause, and treats a 5xx as retryable', async () => {
    handler = (_req, res) =>
      json(res, 500, {
        errors: ['Internal server error.', '<Exception on server side:\norg.x.FooException: outer\n\tat a.b(C.java:1)\nCaused by: org.x.BarException: the real reason\n\tat d.e(F.java:2)\n'],
      });
    const flink = activities({ restUrl: url });
    const err = await expectRetryable(run(flink.getJob, { jobId: 'a'.repeat(32) }));
    expect(err.message).toContain('HTTP 500: BarException: the real reason');
    expect(err.message).not.toContain('\tat ');
  });

  it('fails for good on an answer that does not match the schema (UnexpectedResponse)', async () => {
    handler = (_req, res) => json(res, 200, { jid: 'x', name: 'y', state: 'DANCING', 'start-time': 1 });
    const flink = activities({ restUrl: url });
    const err = await expectFatal(run(flink.getJob, { jobId: 'a'.repeat(32) }), 'UnexpectedResponse');
    expect(err.message).toMatch(/state/);
  });

  it('reports an unreachable Flink (closed port) as retryable, saying how to start the stack', async () => {
    const flink = activities({ restUrl: 'http://127.0.0.1:1', authHeader: new Secret(SECRET) });
    const err = await expectRetryable(run(flink.checkFlinkCluster, undefined));
    expect(err.message).toMatch(/Flink REST at http:\/\/127\.0\.0\.1:1 did not answer GET \/config: .*ECONNREFUSED/);
    expect(err.message).toContain('bash scripts/stack.sh up');
    expect(err.message).not.toContain('not-for-logs');
  });
});

describe('Flink REST over TLS with a CA file — a fake HTTPS server, as the local stack has no TLS', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'flinktest-tls-'));
  let server: https.Server;
  let url: string;

  beforeAll(async () => {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    server = https.createServer(
      { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) },
      (req, res) =>
        req.url === '/config'
          ? json(res, 200, { 'flink-version': '1.20.3' })
          : json(res, 200, { taskmanagers: 1, 'slots-total': 4, 'slots-available': 2, 'jobs-running': 1 }),
    );
    url = await listen(server);
  });
  afterAll(() => server.close());

  it('trusts the server through the configured CA file', async () => {
    const flink = activities({ restUrl: url, caFile: path.join(dir, 'cert.pem') });
    await expect(run(flink.checkFlinkCluster, undefined)).resolves.toEqual({
      flinkVersion: '1.20.3',
      taskManagers: 1,
      slotsAvailable: 2,
    });
  });

  it('refuses the same server without the CA file (retryable, with the TLS reason)', async () => {
    const flink = activities({ restUrl: url });
    const err = await expectRetryable(run(flink.checkFlinkCluster, undefined));
    expect(err.message).toMatch(/self.signed|certificate/i);
  });
});
