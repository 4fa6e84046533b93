// Everything a refused operation must leave as it was, read from the real stack: our job and its
// checkpoint history, our live jobs, our savepoint directories and restore-point records, and per
// sink table its tags, branches, latest snapshot and ids. Compared before and after each refusal.
import { readdir } from 'node:fs/promises';
import { expect } from 'vitest';
import { RestorePointStore } from '../../activities/catalog/store';
import type { TableRef } from '../../src/domain/model';
import { liveJobsNamed } from '../support/demo-pipeline';
import { config, flinkGet, paimonQuery } from '../support/stack';
import type { BadInputStack } from './fixture';

export interface TableWorld {
  tags: string[];
  branches: string[];
  latestSnapshotId: number;
  rows: number;
  minId: number;
  maxId: number;
}

export interface World {
  job: { jobId: string; state: string; startTime: number };
  /** Flink's checkpoint history of our job: savepoints taken, restores */
  checkpoints: { latestSavepointId: number | null; savepointIdsInHistory: number[]; restored: number };
  /** our live jobs (`badinput-<file>-*`), as `name jobId` */
  liveJobs: string[];
  /** savepoint directories Flink wrote for our job (`savepoint-<first 6 of the job id>-…`) */
  savepointDirs: string[];
  /** restore-point records of our job name */
  records: string[];
  tables: Record<TableRef, TableWorld>;
}

interface CheckpointStats {
  counts: { restored: number };
  latest: { savepoint: { id: number } | null };
  history: { id: number; is_savepoint: boolean }[];
}

const quoted = (table: TableRef, system?: string) => {
  const [db, name] = table.split('.');
  return `\`${db}\`.\`${name}${system ? `$${system}` : ''}\``;
};

/**
 * Tags, branches, latest snapshot and ids of every sink table. The job keeps committing while we
 * read, and each scan of a batch query picks its own latest snapshot, so a table's row count and
 * ids come from one scan of it (one snapshot): two batch queries.
 */
async function readTables(tables: TableRef[]): Promise<Record<TableRef, TableWorld>> {
  const parts = tables.flatMap((t) => [
    `SELECT '${t}' AS t, 'tag' AS kind, tag_name AS name, CAST(0 AS BIGINT) AS n FROM ${quoted(t, 'tags')}`,
    `SELECT '${t}', 'branch', branch_name, CAST(0 AS BIGINT) FROM ${quoted(t, 'branches')}`,
    `SELECT '${t}', 'snapshot', '', MAX(snapshot_id) FROM ${quoted(t, 'snapshots')}`,
  ]);
  const rows = await paimonQuery(parts.join(' UNION ALL '));
  const ids = await paimonQuery(
    tables.map((t) => `SELECT '${t}' AS t, COUNT(*) AS row_count, MIN(id) AS min_id, MAX(id) AS max_id FROM ${quoted(t)}`).join(' UNION ALL '),
  );
  const of = (t: TableRef, kind: string) => rows.filter((r) => r.t === t && r.kind === kind);
  const number = (t: TableRef, kind: string) => Number(of(t, kind)[0]?.n ?? 0);
  const idsOf = (t: TableRef, column: string) => Number(ids.find((r) => r.t === t)?.[column] ?? 0);
  return Object.fromEntries(
    tables.map((t): [TableRef, TableWorld] => [
      t,
      {
        tags: of(t, 'tag').map((r) => String(r.name)).sort(),
        branches: of(t, 'branch').map((r) => String(r.name)).sort(),
        latestSnapshotId: number(t, 'snapshot'),
        rows: idsOf(t, 'row_count'),
        minId: idsOf(t, 'min_id'),
        maxId: idsOf(t, 'max_id'),
      },
    ]),
  );
}

async function list(dir: string, prefix = ''): Promise<string[]> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  return names.filter((n) => n.startsWith(prefix)).sort();
}

export async function snapshotOfTheWorld({ jobName, jobId, jobPrefix, sinks }: BadInputStack): Promise<World> {
  const job = await flinkGet<{ jid: string; state: string; 'start-time': number }>(`/jobs/${jobId}`);
  const stats = await flinkGet<CheckpointStats>(`/jobs/${jobId}/checkpoints`);
  const store = new RestorePointStore(config.flink.savepointDir);
  return {
    job: { jobId: job.jid, state: job.state, startTime: job['start-time'] },
    checkpoints: {
      latestSavepointId: stats.latest.savepoint?.id ?? null,
      savepointIdsInHistory: stats.history.filter((h) => h.is_savepoint).map((h) => h.id),
      restored: stats.counts.restored,
    },
    liveJobs: (await liveJobsNamed(jobPrefix)).map((j) => `${j.name} ${j.jid}`).sort(),
    savepointDirs: await list(store.savepointDir, `savepoint-${jobId.slice(0, 6)}-`),
    records: await list(store.jobDir(jobName)),
    tables: await readTables(sinks),
  };
}

/**
 * Nothing changed: the same job still RUNNING and never restarted, no savepoint taken, no job
 * started, the same tags and branches, and every table only grew: ids 1..max, each once.
 */
export function expectNothingChanged(before: World, after: World): void {
  expect(after.job, 'our job').toEqual({ ...before.job, state: 'RUNNING' });
  expect(after.checkpoints.latestSavepointId, 'latest savepoint of our job').toBe(before.checkpoints.latestSavepointId);
  expect(after.checkpoints.restored, 'restores of our job').toBe(before.checkpoints.restored);
  // The history keeps the last few checkpoints only; a savepoint in it must be an old one.
  for (const id of after.checkpoints.savepointIdsInHistory) {
    expect(id, 'a savepoint in the checkpoint history').toBeLessThanOrEqual(before.checkpoints.latestSavepointId ?? -1);
  }
  expect(after.liveJobs, 'our live jobs').toEqual(before.liveJobs);
  expect(after.savepointDirs, 'savepoint directories of our job').toEqual(before.savepointDirs);
  expect(after.records, 'restore-point records of our job').toEqual(before.records);
  for (const table of Object.keys(before.tables)) {
    const b = before.tables[table]!;
    const a = after.tables[table]!;
    expect(a.tags, `${table} tags`).toEqual(b.tags);
    expect(a.branches, `${table} branches`).toEqual(b.branches);
    expect(a.latestSnapshotId, `${table} latest snapshot (not rolled back)`).toBeGreaterThanOrEqual(b.latestSnapshotId);
    expect(a.rows, `${table} rows (only grow)`).toBeGreaterThanOrEqual(b.rows);
    expect({ min: a.minId, rows: a.rows }, `${table} ids 1..max, each once`).toEqual({ min: 1, rows: a.maxId });
  }
}
