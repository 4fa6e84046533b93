// Fault injection with a fake Flink REST server: a job that cannot get task slots. On the shared
// stack a real shortage would take the slots other tests' jobs need (a job asking for more slots
// than are free holds what it gets while it waits), so the JobManager's answers are played from
// Flink 1.20's payloads as they are then: the job RUNNING with tasks SCHEDULED, no free slot; and
// later its exception history with NoResourceAvailableException after slot.request.timeout.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlinkClient } from '../../../activities/flink/client';
import { slotShortage } from '../../../activities/flink/slots';

const JOB = '0123456789abcdef0123456789abcdef';

let server: Server;
let flink: FlinkClient;
/** What the fake JobManager answers now. */
const scene = { scheduled: 2, free: 0 };

beforeAll(async () => {
  server = createServer((req, res) => {
    const send = (body: unknown) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    if (req.url === '/overview') return send({ taskmanagers: 1, 'slots-total': 16, 'slots-available': scene.free, 'jobs-running': 16, 'flink-version': '1.20.3' });
    if (req.url === `/jobs/${JOB}`) {
      return send({
        jid: JOB,
        name: 'slots-fault',
        state: 'RUNNING',
        'start-time': Date.now(),
        vertices: [{ name: 'Source', status: scene.scheduled > 0 ? 'SCHEDULED' : 'RUNNING' }],
        'status-counts': { SCHEDULED: scene.scheduled, RUNNING: 0, CREATED: 0 },
      });
    }
    res.statusCode = 404;
    send({ errors: ['Not found'] });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  flink = new FlinkClient({ restUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requestTimeoutMs: 5_000 } as never);
});

afterAll(async () => {
  await flink.close();
  await new Promise((resolve) => server.close(resolve));
});

describe('slotShortage (fake Flink REST: fault injection)', () => {
  it('names a job whose tasks wait for a slot on a full cluster, with the cluster\'s slots and the remedy', async () => {
    Object.assign(scene, { scheduled: 2, free: 0 });
    const text = await slotShortage(flink, JOB);
    expect(text).toContain(`job ${JOB} cannot get task slots: 2 of its tasks wait for a slot`);
    expect(text).toContain('0 free of 16 task slot(s) on 1 TaskManager(s), held by 16 running job(s)');
    expect(text).toContain('TASK_SLOTS=N scripts/stack.sh up');
  });

  it("says it in Flink's words once the slot request timed out (NoResourceAvailableException)", async () => {
    Object.assign(scene, { scheduled: 0, free: 0 });
    const text = await slotShortage(flink, JOB, 'NoResourceAvailableException: Could not acquire the minimum required resources.');
    expect(text).toMatch(/could not get task slots \(Flink: NoResourceAvailableException: Could not acquire/);
  });

  it('says nothing about slots for a job that runs, or one that waits while slots are free', async () => {
    Object.assign(scene, { scheduled: 0, free: 3 });
    expect(await slotShortage(flink, JOB, 'ArithmeticException: / by zero')).toBeUndefined();
    Object.assign(scene, { scheduled: 1, free: 3 });
    expect(await slotShortage(flink, JOB)).toBeUndefined();
  });
});
