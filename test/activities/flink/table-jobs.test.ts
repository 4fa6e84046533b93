// findTableJobs on plan descriptions as Flink 1.20.3 + Paimon 1.3.1 gave them on this stack
// (docs/restore.md): Paimon sink operators name the table only, sources the full identifier.
import { describe, expect, it } from 'vitest';
import type { FlinkClient } from '../../../activities/flink/client';
import { findTableJobs, PlanCache } from '../../../activities/flink/table-jobs';
import { HttpStatusError } from '../../../activities/http';

type Job = { jid: string; name: string; state: string; descriptions?: string[] | 'gone' };

/** A Flink client answering /jobs/overview and /jobs/:id/plan from `jobs`. */
function flinkWith(jobs: Job[]): FlinkClient {
  return {
    jobsOverview: async () => ({ jobs: jobs.map(({ jid, name, state }) => ({ jid, name, state, 'start-time': 1 })) }),
    jobPlan: async (jobId: string) => {
      const job = jobs.find((j) => j.jid === jobId)!;
      if (job.descriptions === 'gone') throw new HttpStatusError(404, 'GET', `/jobs/${jobId}/plan`, 'Job not found', 'Flink REST');
      return { plan: { jid: jobId, nodes: (job.descriptions ?? []).map((description, i) => ({ id: String(i), description })) } };
    },
  } as unknown as FlinkClient;
}

const id = (n: number) => n.toString(16).padStart(32, '0');

describe('findTableJobs', () => {
  it('finds writers by table name (every Paimon sink operator form) and readers by full identifier with the consumer id', async () => {
    const flink = flinkWith([
      { jid: id(1), name: 'ours', state: 'RUNNING', descriptions: ['Writer : seq_a<br/>+- Global Committer : seq_a<br/>   +- end: Writer<br/>'] },
      {
        jid: id(2),
        name: 'append-and-write-only',
        state: 'RUNNING',
        descriptions: [
          'Compact Worker: seq_b<br/>+- Global Committer : seq_b<br/>   +- end: Writer<br/>',
          'Compact Coordinator: seq_b<br/>',
          'Writer(write-only) : counts<br/>+- Global Committer : counts<br/>   +- end: Writer<br/>',
          "[1]:TableSourceScan(table=[[default_catalog, default_database, seq]], fields=[id])<br/>:- [2]:Calc(select=[id, 'x' AS EXPR$1])<br/>:  +- Map<br/>:     +- Writer : other<br/>",
        ],
      },
      {
        jid: id(3),
        name: 'copy',
        state: 'RUNNING',
        descriptions: [
          'Writer : copy<br/>+- Global Committer : copy<br/>   +- end: Writer<br/>',
          '[4622]:TableSourceScan(table=[[paimon, demo, seq_a]], fields=[id, payload], hints=[[[OPTIONS options:{consumer-id=i4copy}]]])<br/>',
          'Source: paimon.demo.seq_a-Monitor<br/>',
        ],
      },
      {
        jid: id(4),
        name: 'lookup',
        state: 'RESTARTING',
        descriptions: ['[26693]:LookupJoin(table=[paimon.demo.seq_b], joinType=[LeftOuterJoin], lookup=[id=id], select=[id, payload])<br/>'],
      },
      // Another database's seq_a is read: not ours. Its tags system table neither.
      { jid: id(5), name: 'elsewhere', state: 'RUNNING', descriptions: ['TableSourceScan(table=[[paimon, other, seq_a]], fields=[id])', 'TableSourceScan(table=[[paimon, demo, seq_a$tags]], fields=[tag_name])'] },
      { jid: id(6), name: 'done', state: 'FINISHED', descriptions: ['Writer : seq_a<br/>'] },
      { jid: id(7), name: 'just-ended', state: 'RUNNING', descriptions: 'gone' },
    ]);
    const found = await findTableJobs(flink, { tables: ['demo.seq_a', 'demo.seq_b'] });
    expect(found).toEqual([
      { jobId: id(1), name: 'ours', state: 'RUNNING', writes: ['demo.seq_a'], reads: [] },
      { jobId: id(2), name: 'append-and-write-only', state: 'RUNNING', writes: ['demo.seq_b'], reads: [] },
      { jobId: id(3), name: 'copy', state: 'RUNNING', writes: [], reads: [{ table: 'demo.seq_a', consumerId: 'i4copy' }] },
      { jobId: id(4), name: 'lookup', state: 'RESTARTING', writes: [], reads: [{ table: 'demo.seq_b' }] },
    ]);
    // 'Writer(write-only) : counts' is a writer of any table named counts.
    expect((await findTableJobs(flink, { tables: ['x.counts'] })).map((j) => [j.name, j.writes])).toEqual([['append-and-write-only', ['x.counts']]]);
  });

  it('reads the plan of a job still INITIALIZING again until it has one', async () => {
    let reads = 0;
    const flink = {
      jobsOverview: async () => ({ jobs: [{ jid: id(8), name: 'starting', state: 'INITIALIZING', 'start-time': 1 }] }),
      // Flink 1.20 answers {"plan": {}} until the job graph is there.
      jobPlan: async () => (++reads < 3 ? { plan: {} } : { plan: { jid: id(8), nodes: [{ id: '0', description: 'Writer : seq_a<br/>' }] } }),
    } as unknown as FlinkClient;
    expect(await findTableJobs(flink, { tables: ['demo.seq_a'] })).toEqual([
      { jobId: id(8), name: 'starting', state: 'INITIALIZING', writes: ['demo.seq_a'], reads: [] },
    ]);
    expect(reads).toBe(3);
  });

  it("keeps each live job's plan for the next call and forgets the jobs that ended", async () => {
    const reads: string[] = [];
    let jobs = [id(9), id(10)];
    const flink = {
      jobsOverview: async () => ({ jobs: jobs.map((jid) => ({ jid, name: jid.slice(-2), state: 'RUNNING', 'start-time': 1 })) }),
      jobPlan: async (jobId: string) => {
        reads.push(jobId);
        return { plan: { jid: jobId, nodes: [{ id: '0', description: 'Writer : seq_a<br/>' }] } };
      },
    } as unknown as FlinkClient;
    const plans = new PlanCache();
    await findTableJobs(flink, { tables: ['demo.seq_a'] }, plans);
    const again = await findTableJobs(flink, { tables: ['demo.seq_b', 'demo.seq_a'] }, plans);
    expect(again.map((j) => j.jobId)).toEqual([id(9), id(10)]);
    expect(reads).toEqual([id(9), id(10)]);
    jobs = [id(10)];
    await findTableJobs(flink, { tables: ['demo.seq_a'] }, plans);
    expect(plans.jobIds()).toEqual([id(10)]);
    expect(reads).toEqual([id(9), id(10)]);
  });

  it('reads each plan once for calls made at the same moment, a bounded number at a time', async () => {
    const jobs = Array.from({ length: 40 }, (_, i) => id(100 + i));
    const reads: string[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const flink = {
      jobsOverview: async () => ({ jobs: jobs.map((jid) => ({ jid, name: jid.slice(-3), state: 'RUNNING', 'start-time': 1 })) }),
      jobPlan: async (jobId: string) => {
        reads.push(jobId);
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return { plan: { jid: jobId, nodes: [{ id: '0', description: `Writer : t${jobId.slice(-3)}<br/>` }] } };
      },
    } as unknown as FlinkClient;
    const plans = new PlanCache();
    const found = await Promise.all(jobs.map((jid) => findTableJobs(flink, { tables: [`db.t${jid.slice(-3)}`] }, plans)));
    expect(found.map((f) => f.map((j) => j.jobId))).toEqual(jobs.map((jid) => [jid]));
    expect(reads.sort()).toEqual([...jobs].sort());
    expect(mostInFlight).toBeLessThanOrEqual(16);
  });

  it('calls at the same moment share the jobs overview being read; a call after it reads it again', async () => {
    const jobs = Array.from({ length: 30 }, (_, i) => id(200 + i));
    let overviews = 0;
    const flink = {
      jobsOverview: async () => {
        overviews++;
        await new Promise((r) => setTimeout(r, 20));
        return { jobs: jobs.map((jid) => ({ jid, name: jid.slice(-3), state: 'RUNNING', 'start-time': 1 })) };
      },
      jobPlan: async (jobId: string) => ({ plan: { jid: jobId, nodes: [{ id: '0', description: `Writer : t${jobId.slice(-3)}<br/>` }] } }),
    } as unknown as FlinkClient;
    const plans = new PlanCache();
    const found = await Promise.all(jobs.map((jid) => findTableJobs(flink, { tables: [`db.t${jid.slice(-3)}`] }, plans)));
    expect(found.map((f) => f.map((j) => j.jobId))).toEqual(jobs.map((jid) => [jid]));
    expect(overviews).toBe(1);
    // A job that started since is seen by the next call: a finished read is never reused.
    jobs.push(id(299));
    expect((await findTableJobs(flink, { tables: [`db.t${id(299).slice(-3)}`] }, plans)).map((j) => j.jobId)).toEqual([id(299)]);
    expect(overviews).toBe(2);
  });

  it('reads a plan again after a read that failed', async () => {
    let reads = 0;
    const flink = {
      jobsOverview: async () => ({ jobs: [{ jid: id(11), name: 'x', state: 'RUNNING', 'start-time': 1 }] }),
      jobPlan: async (jobId: string) => {
        if (++reads === 1) throw new Error('connection reset');
        return { plan: { jid: jobId, nodes: [{ id: '0', description: 'Writer : seq_a<br/>' }] } };
      },
    } as unknown as FlinkClient;
    const plans = new PlanCache();
    await expect(findTableJobs(flink, { tables: ['demo.seq_a'] }, plans)).rejects.toThrow('connection reset');
    expect((await findTableJobs(flink, { tables: ['demo.seq_a'] }, plans)).map((j) => j.jobId)).toEqual([id(11)]);
    expect(reads).toBe(2);
  });

  it('refuses input that is not a list of tables', async () => {
    await expect(findTableJobs(flinkWith([]), { tables: [] })).rejects.toMatchObject({ type: 'InvalidInput' });
  });
});
