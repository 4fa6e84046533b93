// P4's two workloads on the fake cluster, each over N fake jobs seeded for it: a fan-out of N
// savepoint workflows (through their schedules' triggers, or started directly), and N concurrent
// upgrades. Each says how its runs ended and what the fake was asked.
import type { Client } from '@temporalio/client';
import { createSavepointSchedule, deleteSavepointSchedule, triggerSavepointSchedule } from '../src/client/schedules';
import { startUpgrade } from '../src/client/start-upgrade';
import { savepointWorkflowId } from '../src/domain/job-name';
import { closedRuns, fakeCall, failureReasons, latencyStats, pad, terminateRunning, waitClosed } from './p4-support';
import { demoScript } from './stack';

export type FanOutMode = 'schedule' | 'direct';

/** In job names: a shared server (BENCH_P4_TEMPORAL_ADDRESS) keeps earlier runs' schedules and ids. */
const RUN = Date.now().toString(36).slice(-4);

interface FakeStats {
  requests: Record<string, number>;
  /** calls the fake had no answer for (routes, SQL statements): the workflows changed under it */
  unanswered: Record<string, number>;
}

export interface Phase {
  client: Client;
  taskQueue: string;
  fakePort: number;
  n: number;
}

/**
 * N fake jobs, each with a database of its own holding two sink tables. The tables' names are unique
 * too, not only their databases: Paimon names its writer after the table alone (`Writer : seq_a`),
 * so N jobs writing `seq_a` in N databases would each be another writer of every job's tables, and
 * the upgrade would rightly refuse (as it would on a real cluster).
 */
async function seedJobs(fakePort: number, prefix: string, n: number) {
  await fakeCall(fakePort, 'POST', '/_fake/reset');
  const jobs = Array.from({ length: n }, (_, i) => {
    const db = `bench_fake_${prefix}${pad(i)}`;
    return { name: `bench-fake-${prefix}-${pad(i)}`, tables: [`${db}.seq_a_${prefix}${pad(i)}`, `${db}.seq_b_${prefix}${pad(i)}`] };
  });
  await fakeCall(fakePort, 'POST', '/_fake/seed', { jobs });
  return jobs;
}

export async function fanOutPhase({ client, taskQueue, fakePort, n }: Phase, mode: FanOutMode, timeoutMs: number) {
  const jobs = await seedJobs(fakePort, `sp${RUN}`, n);
  let schedulesCreatedMs: number | undefined;
  if (mode === 'schedule') {
    const c0 = Date.now();
    for (let i = 0; i < jobs.length; i += 50) {
      await Promise.all(
        jobs.slice(i, i + 50).map((job) =>
          // A yearly cron: nothing fires on its own during the benchmark, the trigger starts each run.
          createSavepointSchedule(client, { savepoint: { job: { jobName: job.name }, tables: job.tables }, cron: '0 0 1 1 *' }, { taskQueue }),
        ),
      );
    }
    schedulesCreatedMs = Date.now() - c0;
  }
  const t0 = Date.now();
  await Promise.all(
    jobs.map((job) =>
      mode === 'schedule'
        ? triggerSavepointSchedule(client, job.name)
        : client.workflow.start('takeSavepointWorkflow', {
            taskQueue,
            workflowId: `${savepointWorkflowId(job.name)}-${t0}`,
            args: [{ job: { jobName: job.name }, tables: job.tables }],
          }),
    ),
  );
  const triggerCallsMs = Date.now() - t0;
  const allClosed = await waitClosed(client, 'takeSavepointWorkflow', n, timeoutMs, taskQueue);
  const runs = await closedRuns(client, 'takeSavepointWorkflow', taskQueue);
  const terminated = allClosed ? 0 : await terminateRunning(client, 'takeSavepointWorkflow', taskQueue);
  const restorable = await Promise.all(
    runs.filter((r) => r.status === 'COMPLETED').map((r) => client.workflow.getHandle(r.workflowId, r.runId).result().then((v: { restorable: boolean }) => v.restorable)),
  );
  const { requests, unanswered } = await fakeCall<FakeStats>(fakePort, 'GET', '/_fake/stats');
  if (mode === 'schedule') {
    for (let i = 0; i < jobs.length; i += 50) await Promise.all(jobs.slice(i, i + 50).map((job) => deleteSavepointSchedule(client, job.name).catch(() => undefined)));
  }
  return {
    mode,
    ...latencyStats(runs, t0, n),
    schedulesCreatedMs,
    triggerCallsMs,
    allClosed,
    cutShortAfterMs: allClosed ? undefined : timeoutMs,
    terminated,
    restorable: restorable.filter(Boolean).length,
    failureReasons: await failureReasons(client, runs),
    fakeRequests: requests,
    fakeUnanswered: unanswered,
  };
}

export async function upgradePhase({ client, taskQueue, fakePort, n }: Phase, timeoutMs: number) {
  const jobs = await seedJobs(fakePort, `up${RUN}`, n);
  const t0 = Date.now();
  await Promise.all(
    jobs.map((job) => {
      const [a, b] = job.tables;
      const script = (file: string) => demoScript(file, job.name, { 'paimon.demo.seq_a': `paimon.${a}`, 'paimon.demo.seq_b': `paimon.${b}` });
      return startUpgrade(
        client,
        {
          job: { jobName: job.name },
          newVersion: { kind: 'sql', version: 'v2', script: script('pipeline-v2.sql') },
          oldVersion: { kind: 'sql', version: 'v1', script: script('pipeline-v1.sql') },
          sinkTables: job.tables,
        },
        { taskQueue },
      );
    }),
  );
  const startCallsMs = Date.now() - t0;
  const allClosed = await waitClosed(client, 'upgradeWorkflow', n, timeoutMs, taskQueue);
  const runs = await closedRuns(client, 'upgradeWorkflow', taskQueue);
  const terminated = allClosed ? 0 : await terminateRunning(client, 'upgradeWorkflow', taskQueue);
  const outcomes = await Promise.all(
    runs.filter((r) => r.status === 'COMPLETED').map((r) => client.workflow.getHandle(r.workflowId, r.runId).result().then((v: { status: string }) => v.status)),
  );
  const { requests, unanswered } = await fakeCall<FakeStats>(fakePort, 'GET', '/_fake/stats');
  return {
    ...latencyStats(runs, t0, n),
    startCallsMs,
    allClosed,
    cutShortAfterMs: allClosed ? undefined : timeoutMs,
    terminated,
    upgraded: outcomes.filter((s) => s === 'upgraded').length,
    failureReasons: await failureReasons(client, runs),
    fakeRequests: requests,
    fakeUnanswered: unanswered,
  };
}
