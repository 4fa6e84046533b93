// The demo pipeline as real-stack tests use it: their own sink tables shaped like the demo's,
// demo/sql scripts aimed at those tables under the test's job name, and the test's jobs.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { repoRoot } from '../../src/config/repo-root';
import { config, flinkGet, paimonQuery, until } from './stack';

const TERMINAL = ['FINISHED', 'CANCELED', 'FAILED'];

/** Fresh sink tables `<database>.<table>` shaped like the demo's, with savepoint auto-tags. */
export async function createSinkTables(database: string, tables: string[]): Promise<void> {
  await paimonQuery(`CREATE DATABASE IF NOT EXISTS \`${database}\``);
  for (const table of tables) {
    await paimonQuery(
      `DROP TABLE IF EXISTS \`${database}\`.\`${table}\``,
      `CREATE TABLE \`${database}\`.\`${table}\` (id BIGINT NOT NULL, payload STRING, PRIMARY KEY (id) NOT ENFORCED) ` +
        `WITH ('bucket' = '1', 'sink.savepoint.auto-tag' = 'true')`,
    );
  }
}

/** Sink tables `<database>.<name>` shaped like the demo's, created only where they are missing. */
export async function ensureSinkTables(database: string, names: readonly string[]): Promise<void> {
  const { catalog } = config.paimon;
  const table = (name: string) =>
    `CREATE TABLE IF NOT EXISTS \`${catalog}\`.${database}.${name} (id BIGINT NOT NULL, payload STRING, PRIMARY KEY (id) NOT ENFORCED)
       WITH ('bucket' = '1', 'sink.savepoint.auto-tag' = 'true')`;
  await paimonQuery(`CREATE DATABASE IF NOT EXISTS \`${catalog}\`.${database}`, ...names.map(table));
}

/**
 * A demo pipeline script (demo/sql/<file>) aimed at our database and named after our test; with
 * `tables`, its seq_a and seq_b renamed (upgrades and restores refuse tables of a name another
 * live job writes, and the demo's own job writes seq_a and seq_b).
 */
export function demoScript(file: string, database: string, jobName: string, tables?: { seq_a: string; seq_b: string }): string {
  let text = readFileSync(path.join(repoRoot(), 'demo', 'sql', file), 'utf8')
    .replaceAll('paimon.demo.', `paimon.${database}.`)
    .replace(/SET 'pipeline\.name' = '[^']*'/, `SET 'pipeline.name' = '${jobName}'`);
  if (tables) text = text.replaceAll(`paimon.${database}.seq_a `, `paimon.${database}.${tables.seq_a} `).replaceAll(`paimon.${database}.seq_b `, `paimon.${database}.${tables.seq_b} `);
  return text;
}

/**
 * A fresh folder the worker may deploy from: under the deployments root (DEPLOYMENTS_ROOT, by
 * default the worker's working directory, the repository under vitest), git-ignored.
 */
export function deployableDir(prefix: string): string {
  const parent = path.join(repoRoot(), '.test-results');
  mkdirSync(parent, { recursive: true });
  return mkdtempSync(path.join(parent, prefix));
}

/** Writes demo scripts aimed at `database` into a folder the worker may deploy from. */
export function demoScripts(database: string, tables?: { seq_a: string; seq_b: string }): (file: string, jobName: string) => string {
  const dir = deployableDir(`${database}-`);
  return (file, jobName) => {
    const target = path.join(dir, `${jobName}-${file}`);
    writeFileSync(target, demoScript(file, database, jobName, tables));
    return target;
  };
}

export async function tagNames(database: string, table: string): Promise<string[]> {
  const rows = await paimonQuery(`SELECT tag_name FROM \`${database}\`.\`${table}$tags\``);
  return rows.map((r) => String(r.tag_name)).sort();
}

/** The job's state now: GET /jobs/:id answers from a cache that lives for web.refresh-interval (3 s). */
export async function jobState(jobId: string): Promise<string> {
  return (await flinkGet<{ status: string }>(`/jobs/${jobId}/status`)).status;
}

/** Live (not terminal) jobs whose names start with `prefix`. */
export async function liveJobsNamed(prefix: string): Promise<{ jid: string; name: string; state: string }[]> {
  const { jobs } = await flinkGet<{ jobs: { jid: string; name: string; state: string }[] }>('/jobs/overview');
  return jobs.filter((j) => j.name.startsWith(prefix) && !TERMINAL.includes(j.state));
}

/** Cancels a job and waits until it is terminal: a job still cancelling may yet commit. */
export async function cancelAndWait(jobId: string): Promise<void> {
  if (!TERMINAL.includes(await jobState(jobId))) {
    const res = await request(`${config.flink.restUrl}/jobs/${jobId}?mode=cancel`, { method: 'PATCH' });
    await res.body.text();
  }
  await until(`job ${jobId} to stop`, 60_000, async () => (TERMINAL.includes(await jobState(jobId)) ? true : undefined));
}

/** Cancels our live jobs whose names start with `prefix` (never other tests' jobs) and waits until none is live. */
export async function cancelJobsNamed(prefix: string): Promise<void> {
  for (const job of await liveJobsNamed(prefix)) await cancelAndWait(job.jid);
}

/**
 * Whether the job has completed a checkpoint and Flink's job details show every task running.
 * Both are needed before a savepoint: the REST API serves checkpoint statistics cached for 500 ms
 * (scripts/stack-lib.sh) but job details cached for up to `web.refresh-interval` (3 s), and the
 * savepoint activity goes by the job details (a task still CREATED there is a retry).
 */
export async function checkpointedAndRunning(jobId: string): Promise<boolean> {
  const job = await flinkGet<{ state: string; vertices: { status: string }[] }>(`/jobs/${jobId}`).catch(() => undefined);
  if (job?.state !== 'RUNNING' || job.vertices.some((v) => v.status !== 'RUNNING' && v.status !== 'FINISHED')) return false;
  const cps = await flinkGet<{ counts: { completed: number } }>(`/jobs/${jobId}/checkpoints`);
  return cps.counts.completed > 0;
}

export async function awaitCheckpointedRun(jobId: string, timeoutMs = 120_000): Promise<void> {
  await until(`job ${jobId} to run every task and complete a checkpoint`, timeoutMs, async () =>
    (await checkpointedAndRunning(jobId)) ? true : undefined,
  );
}
