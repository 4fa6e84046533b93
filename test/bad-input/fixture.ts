// What the bad-input suite runs against: ONE demo pipeline of its own (database `badinput`, job
// `badinput-*`) writing ids into seq_a and seq_b on the real stack, a real worker with the real
// activities on its own task queue, a client, and the CLI on that queue. Nothing shared is touched.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, type LogLevel, type NativeConnection } from '@temporalio/worker';
import { localPath, RestorePointStore } from '../../activities/catalog/store';
import { main } from '../../src/cli/main';
import type { Deployment, TableRef } from '../../src/domain/model';
import type { UpgradeInput } from '../../workflows/input';
import { connectWorker, createClient } from '../../src/client/temporal-connection';
import { createWorker } from '../../src/worker/worker';
import { run } from '../support/activity-calls';
import { activities } from '../support/flink-activities';
import { awaitCheckpointedRun, cancelJobsNamed, createSinkTables, demoScripts, jobState } from '../support/demo-pipeline';
import { config, paimonQuery, requireStack, until } from '../support/stack';

/** Every name this suite gives starts with it: jobs `badinput-*`, task queues `badinput-*`, databases `badinput_*`. */
export const JOB_PREFIX = 'badinput-';

export interface BadInputStack {
  /** this file's own Paimon database, `badinput_<name>`, and its two sink tables */
  database: string;
  sinks: TableRef[];
  /** a table like the sinks but without 'sink.savepoint.auto-tag': Paimon never tags a savepoint on it */
  noAutoTag: TableRef;
  /** this file's jobs: `badinput-<name>-` */
  jobPrefix: string;
  jobName: string;
  jobId: string;
  taskQueue: string;
  client: Client;
  v1: Deployment;
  v2: Deployment;
  /** Runs `savepointctl ...args` on our task queue. */
  cli(...args: string[]): Promise<{ code: number; out: string; err: string }>;
  /** Savepoint paths this suite made (removed at the end). */
  savepoints: string[];
  close(): Promise<void>;
}

/** A valid upgrade of the stack's job v1 -> v2, with what a case changes. */
export const upgradeOf = (stack: BadInputStack, changes: Partial<UpgradeInput> = {}): UpgradeInput => ({
  job: { jobName: stack.jobName },
  newVersion: stack.v2,
  oldVersion: stack.v1,
  sinkTables: stack.sinks,
  options: { healthTimeout: '60s', tagTimeout: '60s' },
  ...changes,
});

/** `beforeStart` runs once the sink tables exist, before the suite's job starts (e.g. to set table options it should write with). */
export async function startBadInputStack(name: string, beforeStart?: (database: string) => Promise<void>): Promise<BadInputStack> {
  await requireStack();
  // The refusals are expected: worker logs at WARN and above (TEST_LOG_LEVEL=INFO for more).
  Runtime.install({ logger: new DefaultLogger((process.env.TEST_LOG_LEVEL ?? 'WARN') as LogLevel) });
  // One database and job prefix per test file, so that two files never touch each other's tables.
  const database = `badinput_${name}`;
  const jobPrefix = `${JOB_PREFIX}${name}-`;
  const stamp = Date.now().toString(36);
  const jobName = `${jobPrefix}${stamp}`;
  const taskQueue = `${jobPrefix}${stamp}`;
  // This file's earlier runs only: the tables are dropped and made again, and a live writer would recreate rows.
  await cancelJobsNamed(jobPrefix);
  await createSinkTables(database, ['seq_a', 'seq_b']);
  await paimonQuery(
    `DROP TABLE IF EXISTS \`${database}\`.\`no_autotag\``,
    `CREATE TABLE \`${database}\`.\`no_autotag\` (id BIGINT NOT NULL, payload STRING, PRIMARY KEY (id) NOT ENFORCED) WITH ('bucket' = '1')`,
  );

  await beforeStart?.(database);

  const script = demoScripts(database);
  const v1: Deployment = { kind: 'sql', version: 'v1', scriptFile: script('pipeline-v1.sql', jobName) };
  const v2: Deployment = { kind: 'sql', version: 'v2', scriptFile: script('pipeline-v2.sql', jobName) };

  const workerConfig = { ...config, temporal: { ...config.temporal, taskQueue } };
  const workerConnection: NativeConnection = await connectWorker(workerConfig);
  const worker = await createWorker(workerConfig, workerConnection);
  const running = worker.run();
  const client = await createClient(config);

  const { jobId } = await run(activities().deployJob, { deployment: v1, deployToken: `${jobName}/v1` });
  await awaitCheckpointedRun(jobId);
  await until('rows in both sink tables', 60_000, async () => {
    const [row] = await paimonQuery(`SELECT COUNT(*) AS n FROM \`${database}\`.\`seq_b\``);
    return Number(row!.n) > 10 ? true : undefined;
  });

  const savepoints: string[] = [];
  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const [command, ...rest] = args;
    const code = await main([command!, ...rest, '--task-queue', taskQueue], {
      out: (line = '') => out.push(line),
      err: (line) => err.push(line),
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  return {
    database,
    sinks: [`${database}.seq_a`, `${database}.seq_b`],
    noAutoTag: `${database}.no_autotag`,
    jobPrefix,
    jobName,
    jobId,
    taskQueue,
    client,
    v1,
    v2,
    cli,
    savepoints,
    async close() {
      // A workflow a failed test left running must not act on its own later.
      for await (const wf of client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` })) {
        await client.workflow.getHandle(wf.workflowId, wf.runId).terminate('bad-input suite cleanup').catch(() => undefined);
      }
      await cancelJobsNamed(jobPrefix);
      worker.shutdown();
      await running.catch(() => undefined);
      await workerConnection.close();
      await client.connection.close();
      for (const p of savepoints) await rm(localPath(p, 'savepoint'), { recursive: true, force: true }).catch(() => undefined);
      await rm(new RestorePointStore(config.flink.savepointDir).jobDir(jobName), { recursive: true, force: true });
      await paimonQuery(`DROP DATABASE IF EXISTS \`${database}\` CASCADE`).catch(() => undefined);
    },
  };
}

/**
 * A job of ours that is not running: a bounded source into a blackhole, so it FINISHES on its own
 * without writing to any table.
 */
export async function finishedJob(jobName: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'badinput-'));
  const scriptFile = path.join(dir, 'bounded.sql');
  writeFileSync(
    scriptFile,
    `SET 'pipeline.name' = '${jobName}';
CREATE TEMPORARY TABLE few (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '5');
CREATE TEMPORARY TABLE nowhere (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO nowhere SELECT id FROM few;`,
  );
  const { jobId } = await run(activities().deployJob, {
    deployment: { kind: 'sql', version: 'bounded', scriptFile },
    deployToken: `${jobName}/bounded`,
  });
  await until(`job ${jobId} to finish`, 60_000, async () => ((await jobState(jobId)) === 'FINISHED' ? true : undefined));
  return jobId;
}
