// The soak's own pipeline (soak/sql/): the demo's sequence into seq_a and seq_b plus its
// aggregates into seq_agg, one job. Its own scripts and tables, so the demo's (demo/sql/, which
// every other test uses) stay as they are.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../src/config/repo-root';
import { createSinkTables, deployableDir } from '../test/support/demo-pipeline';
import { paimonQuery } from '../test/support/stack';

/** Aggregates are per key k = id % KEYS (soak/sql/pipeline-*.sql). */
export const KEYS = 7;

export interface SoakTableNames {
  /** the tables that hold the sequence itself, one row per id: seq_a_<run>, seq_b_<run> */
  sequence: string[];
  /** the sequence's aggregates per key, updated every checkpoint: seq_agg_<run> */
  aggregate: string;
}

/** The scripts write seq_a, seq_b and seq_agg; a run's tables carry its run id (soakScript). */
export const soakTableNames = (runId: string): SoakTableNames => ({
  sequence: [`seq_a_${runId}`, `seq_b_${runId}`],
  aggregate: `seq_agg_${runId}`,
});

/**
 * Fresh sink tables in `database`. Every one keeps its snapshots for 7 days: the duplicate check
 * sums every commit of the sequence tables' history, and the aggregate check reads both kinds of
 * table at the latest checkpoint they share, found by the snapshots' commit identifiers.
 */
export async function createSoakTables(database: string, names: SoakTableNames): Promise<void> {
  await createSinkTables(database, names.sequence);
  await createAggregateTable(database, names.aggregate);
  for (const table of [...names.sequence, names.aggregate]) {
    await paimonQuery(`ALTER TABLE \`${database}\`.\`${table}\` SET ('snapshot.time-retained' = '7 d')`);
  }
}

/** A fresh aggregate table shaped like seq_agg: one row per key, updated in place. */
export async function createAggregateTable(database: string, table: string): Promise<void> {
  await paimonQuery(
    `DROP TABLE IF EXISTS \`${database}\`.\`${table}\``,
    `CREATE TABLE \`${database}\`.\`${table}\` (k INT NOT NULL, cnt BIGINT, total BIGINT, max_id BIGINT, ` +
      `PRIMARY KEY (k) NOT ENFORCED) WITH ('bucket' = '1', 'sink.savepoint.auto-tag' = 'true')`,
  );
}

/** A soak script (soak/sql/<file>) aimed at `database`'s tables of run `runId` and named `jobName`. */
export function soakScript(file: string, database: string, runId: string, jobName: string): string {
  return readFileSync(path.join(repoRoot(), 'soak', 'sql', file), 'utf8')
    .replace(/paimon\.soak\.(seq_[a-z]+)\b/g, (_, table: string) => `paimon.${database}.${table}_${runId}`)
    .replace(/SET 'pipeline\.name' = '[^']*'/, `SET 'pipeline.name' = '${jobName}'`);
}

/** Writes soak scripts aimed at `database` into a folder the worker may deploy from; returns the path. */
export function soakScripts(database: string, runId: string): (file: string, jobName: string) => string {
  const dir = deployableDir(`${database}-`);
  return (file, jobName) => {
    const target = path.join(dir, `${jobName}-${file}`);
    writeFileSync(target, soakScript(file, database, runId, jobName));
    return target;
  };
}
