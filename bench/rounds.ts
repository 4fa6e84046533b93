// The rounds of a real-stack benchmark (P1/P2, P3): an in-process worker built as createWorker
// builds it, with each activity timed where it runs (activity-timer.ts); every route once per
// round on a fresh pipeline, in an order that rotates from round to round (A B C, B C A, C A B…)
// so no route always runs first or last; our jobs cancelled after each run and on Ctrl-C. Warm-up
// rounds come first and are not measured: the JVMs of a stack just started compile the SQL gateway's
// and the JobManager's paths as the first rounds run them (a restore's first round took 26 s, its
// fifth 12 s), and the route that happened to meet them would lose its medians.
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { connectWorker, createClient } from '../src/client/temporal-connection';
import { createWorker } from '../src/worker/worker';
import { withTestApprovers } from '../test/support/approvals';
import { timedActivities } from './activity-timer';
import { onInterrupt } from './interrupt';
import { cancelOurJobs, config, dropSinkTables, requireStack, type RunPipeline } from './stack';

export interface RunOutcome {
  ok: boolean;
  wallMs: number;
  downtimeMs: number;
  error?: string;
}

export interface Rounds<R extends string, T extends RunOutcome> {
  /** names the task queue: bench-<name>-<time> */
  name: string;
  runs: number;
  /** rounds run first and not measured (a failed one stops the benchmark) */
  warmup: number;
  routes: readonly R[];
  log: (line: string) => void;
  pipelineFor(n: number): RunPipeline;
  runRoute(route: R, pipeline: RunPipeline, worker: { client: Client; taskQueue: string }): Promise<T>;
  /** after our jobs are cancelled and the pipelines' tables dropped: what else the routes left */
  cleanUp(pipelines: RunPipeline[], results: T[]): Promise<void>;
}

export async function runRounds<R extends string, T extends RunOutcome>(rounds: Rounds<R, T>): Promise<T[]> {
  const { runs, routes, log } = rounds;
  await requireStack();
  const taskQueue = `bench-${rounds.name}-${Date.now()}`;
  // Restores are approved with the test keyring's keys (bench/restore-routes.ts): the worker checks against it.
  const workerConfig = withTestApprovers({ ...config, temporal: { ...config.temporal, taskQueue } });
  const connection = await connectWorker(workerConfig);
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let client: Client | undefined;
  const pipelines: RunPipeline[] = [];
  const results: T[] = [];
  const warmups: T[] = [];
  const forget = onInterrupt(() => cancelOurJobs());
  try {
    worker = await createWorker(workerConfig, connection, { activities: timedActivities(createActivities(workerConfig)) });
    running = worker.run();
    client = await createClient(config);
    for (let round = -rounds.warmup; round < runs; round++) {
      const order = routes.map((_, i) => routes[(((i + round) % routes.length) + routes.length) % routes.length]!);
      for (const route of order) {
        const p = rounds.pipelineFor(pipelines.length + 1);
        pipelines.push(p);
        const result = await rounds.runRoute(route, p, { client, taskQueue });
        const warmingUp = round < 0;
        if (warmingUp) warmups.push(result);
        else results.push(result);
        log(
          `  ${warmingUp ? `warm-up ${round + rounds.warmup + 1}/${rounds.warmup}` : `round ${round + 1}/${runs}`} ${route.padEnd(8)} ${result.ok ? 'ok    ' : 'FAILED'} wall ${(result.wallMs / 1000).toFixed(2)} s, ` +
            `downtime ${(result.downtimeMs / 1000).toFixed(2)} s${result.error ? ` (${result.error.slice(0, 300)})` : ''}`,
        );
        await cancelOurJobs();
        if (warmingUp && !result.ok) throw new Error(`the warm-up run of ${route} failed, so nothing was measured: ${result.error ?? 'no reason given'}`);
      }
    }
  } finally {
    forget();
    await cancelOurJobs().catch((err: unknown) => log(`cleanup: cancelling our jobs failed: ${String(err)}`));
    worker?.shutdown();
    await running?.catch(() => undefined);
    await connection.close();
    await client?.connection.close();
    await dropSinkTables(pipelines.flatMap((p) => p.tables)).catch((err: unknown) => log(`cleanup: dropping tables failed: ${String(err)}`));
    await rounds.cleanUp(pipelines, [...warmups, ...results]);
  }
  return results;
}
