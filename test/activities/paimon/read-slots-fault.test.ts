// Fault injection with a fake Flink REST server: the reads cluster's slots as the slot check meets
// them between two reads. Flink lists a finished read as FINISHED a moment before it frees its slot,
// so a read started right after another one ended can see every slot held and no job live (the
// soak's restore of five tables on the 4-slot reads cluster met it). That moment cannot be produced
// on demand on the real cluster, so the JobManager's two answers are played here.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ_JOB_NAME, ReadSlots } from '../../../activities/paimon/read-cluster';

type Job = { jid: string; name: string; state: string };

let server: Server;
let slots: ReadSlots;
/** What the fake JobManager answers now; `freeAfter` frees a slot after that many /overview calls. */
const scene: { free: number; jobs: Job[]; overviews: number; freeAfter?: number } = { free: 0, jobs: [], overviews: 0 };

beforeAll(async () => {
  server = createServer((req, res) => {
    const send = (body: unknown) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    if (req.url === '/overview') {
      scene.overviews += 1;
      const free = scene.freeAfter !== undefined && scene.overviews > scene.freeAfter ? 1 : scene.free;
      return send({ taskmanagers: 1, 'slots-total': 4, 'slots-available': free, 'jobs-running': scene.jobs.length, 'flink-version': '1.20.3' });
    }
    if (req.url === '/jobs/overview') return send({ jobs: scene.jobs });
    res.statusCode = 404;
    send({ errors: ['Not found'] });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  slots = new ReadSlots({ flink: { restUrl: url, requestTimeoutMs: 5_000 }, paimon: { readsRestUrl: url } } as never);
});

afterAll(async () => {
  await slots.close();
  await new Promise((resolve) => server.close(resolve));
});

const set = (s: Partial<typeof scene>) => Object.assign(scene, { free: 0, jobs: [], overviews: 0, freeAfter: undefined }, s);
const finished = (i: number): Job => ({ jid: `r${i}`, name: READ_JOB_NAME, state: 'FINISHED' });
const streaming = (i: number): Job => ({ jid: `s${i}`, name: `orders-${i}`, state: 'RUNNING' });

describe('ReadSlots.require (fake Flink REST: fault injection)', () => {
  it('passes when every slot is still held by reads that just finished: no job is live to keep them', async () => {
    set({ jobs: [0, 1, 2, 3].map(finished) });
    await expect(slots.require('listTags of shop.orders', undefined, 1_000)).resolves.toBeUndefined();
  });

  it('passes while a read of ours is live: its slot comes free in a moment', async () => {
    set({ jobs: [streaming(0), streaming(1), streaming(2), { jid: 'r', name: READ_JOB_NAME, state: 'RUNNING' }] });
    await expect(slots.require('listTags of shop.orders', undefined, 1_000)).resolves.toBeUndefined();
  });

  it('passes when a slot comes free within the settle time', async () => {
    set({ jobs: [0, 1, 2, 3].map(streaming), freeAfter: 2 });
    await expect(slots.require('listTags of shop.orders', undefined, 3_000)).resolves.toBeUndefined();
    expect(scene.overviews).toBe(3);
  });

  it('refuses, naming the cluster and its jobs, when streaming jobs hold every slot past the settle time', async () => {
    set({ jobs: [...[0, 1, 2, 3].map(streaming), finished(9)] });
    const err = await slots.require('listTags of shop.orders', undefined, 1_000).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'NoFreeTaskSlot', nonRetryable: true });
    expect((err as Error).message).toContain('listTags of shop.orders: no free task slot on the Flink cluster at http://127.0.0.1:');
    expect((err as Error).message).toContain('(4 slots on 1 TaskManager(s), all held by 4 running job(s))');
    expect((err as Error).message).toContain('Nothing was changed by this step.');
    expect(scene.overviews).toBeGreaterThan(1);
  });
});
