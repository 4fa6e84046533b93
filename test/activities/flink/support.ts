// What the Flink activity tests share: the activities bound to the real stack, a way to call them
// in an activity context, failure assertions, and the test's own Paimon tables and jobs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createFlinkActivities } from '../../../activities/flink/activities';
import type { FlinkActivities } from '../../../activities/contract';
import type { Config } from '../../../src/config';
import { repoRoot } from '../../../src/paths';
import { run } from '../../support/activity-calls';
import { config, flinkGet, paimonQuery } from '../../support/stack';

export { activityEnv, expectFatal, expectRetryable, failureOf, run } from '../../support/activity-calls';
export { config };

export function activities(overrides: Partial<Config['flink']> = {}): FlinkActivities {
  return createFlinkActivities({ ...config, flink: { ...config.flink, ...overrides } }, { pollIntervalMs: 300 });
}

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

/** A demo pipeline script (demo/sql/<file>) aimed at our database and named after our test. */
export function demoScript(file: string, database: string, jobName: string): string {
  return readFileSync(path.join(repoRoot(), 'demo', 'sql', file), 'utf8')
    .replaceAll('paimon.demo.', `paimon.${database}.`)
    .replace(/SET 'pipeline\.name' = '[^']*'/, `SET 'pipeline.name' = '${jobName}'`);
}

export async function tagNames(database: string, table: string): Promise<string[]> {
  const rows = await paimonQuery(`SELECT tag_name FROM \`${database}\`.\`${table}$tags\``);
  return rows.map((r) => String(r.tag_name));
}

export async function jobState(jobId: string): Promise<string> {
  return (await flinkGet<{ state: string }>(`/jobs/${jobId}`)).state;
}

/** Cancels our live jobs whose names start with `prefix` (ours only: never other tests' jobs). */
export async function cancelJobsNamed(prefix: string): Promise<void> {
  const { jobs } = await flinkGet<{ jobs: { jid: string; name: string; state: string }[] }>('/jobs/overview');
  const flink = activities();
  for (const job of jobs) {
    if (job.name.startsWith(prefix) && !['FINISHED', 'CANCELED', 'FAILED'].includes(job.state)) {
      await run(flink.cancelJob, { jobId: job.jid });
    }
  }
}

/** A token unique to this run, so reruns never find an old run's job. */
export const runToken = (what: string) => `flinktest/${what}/${Date.now()}-${Math.random().toString(16).slice(2, 8)}`;
