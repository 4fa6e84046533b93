// Savepoint paths the real stack does not show on demand, against a scripted Flink: a savepoint
// missing from the checkpoint statistics (id from _metadata), progress heartbeats while it is
// IN_PROGRESS, and a conflicting trigger (HTTP 409) that must stay retryable.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activities, activityEnv, expectRetryable, run } from '../../support/flink-fixtures';
import { savepointHeader } from '../../support/savepoint-files';

const JOB = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const BUSY = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const TRIGGER = 'cccccccccccccccccccccccccccccccc';

/** A savepoint directory whose _metadata header says checkpoint 77, as Flink 1.20 writes it. */
function fakeSavepoint(): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'flinktest-fallback-')), 'savepoint-aaaaaa-000000000001');
  mkdirSync(dir);
  writeFileSync(path.join(dir, '_metadata'), savepointHeader(77));
  return dir;
}

describe('savepoints against a scripted fake Flink — fault injection: statistics that forgot a savepoint, a 409 conflict', () => {
  const location = `file:${fakeSavepoint()}`;
  let triggered = false;
  let polls = 0;
  let checksAfterSavepoint = 0;
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = req.url!.split('?')[0];
    const job = url.split('/')[2];
    if (req.method === 'GET' && url === `/jobs/${job}/status`) {
      // As Flink does: the savepoint reads COMPLETED while the stopped job is still finishing.
      const finished = job === JOB && polls >= 3 && ++checksAfterSavepoint > 1;
      return send(200, { status: finished ? 'FINISHED' : 'RUNNING' });
    }
    if (req.method === 'GET' && url === `/jobs/${job}`) {
      // Job details come from a cache (web.refresh-interval): they still say RUNNING.
      return send(200, { jid: job, name: 'scripted', state: 'RUNNING', 'start-time': 1, vertices: [{ name: 'src', status: 'RUNNING' }] });
    }
    if (req.method === 'GET' && url === `/jobs/${JOB}/savepoints/${TRIGGER}`) {
      if (!triggered) return send(404, { errors: [`There is no savepoint operation with triggerId=${TRIGGER} for job ${JOB}.`] });
      polls += 1;
      return polls < 3 ? send(200, { status: { id: 'IN_PROGRESS' } }) : send(200, { status: { id: 'COMPLETED' }, operation: { location } });
    }
    if (req.method === 'GET' && url === `/jobs/${BUSY}/savepoints/${TRIGGER}`) return send(404, { errors: ['no such operation'] });
    if (req.method === 'POST' && url === `/jobs/${JOB}/stop`) {
      triggered = true;
      return send(202, { 'request-id': TRIGGER });
    }
    if (req.method === 'POST' && url === `/jobs/${BUSY}/stop`) {
      return send(409, { errors: ['Another savepoint operation is already in progress for this job'] });
    }
    if (req.method === 'GET' && url === `/jobs/${JOB}/checkpoints`) {
      // web.checkpoints.history has already dropped the savepoint
      return send(200, { counts: { completed: 9, failed: 0, in_progress: 0 }, latest: { completed: null, savepoint: null, failed: null }, history: [] });
    }
    send(500, { errors: [`unscripted ${req.method} ${url}`] });
  });
  let url: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  it('takes the savepoint id from _metadata when the statistics no longer list it, and returns once the stopped job finished, heartbeating meanwhile', async () => {
    const flink = activities({ restUrl: url });
    const heartbeats: unknown[] = [];
    const env = activityEnv();
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    const savepoint = await run(flink.stopWithSavepoint, { jobId: JOB, triggerId: TRIGGER, drain: false }, env);
    expect(savepoint).toMatchObject({ savepointId: 77, path: location, jobId: JOB, stopped: true });
    expect(heartbeats).toEqual([
      // From the first call on, so a worker that dies before Flink answers is noticed too.
      { triggerId: TRIGGER, status: 'LOOKING-UP', waitedMs: 0 },
      expect.objectContaining({ triggerId: TRIGGER, status: 'IN_PROGRESS' }),
      expect.objectContaining({ triggerId: TRIGGER, status: 'IN_PROGRESS' }),
      expect.objectContaining({ triggerId: TRIGGER, status: 'COMPLETED', jobState: 'RUNNING' }),
    ]);
    expect(checksAfterSavepoint).toBe(2);
  });

  it('a conflicting savepoint (HTTP 409) is retryable', async () => {
    const flink = activities({ restUrl: url });
    const err = await expectRetryable(run(flink.stopWithSavepoint, { jobId: BUSY, triggerId: TRIGGER, drain: false }));
    expect(err.message).toMatch(/HTTP 409: Another savepoint operation is already in progress/);
  });
});
