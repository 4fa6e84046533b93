// What the application-mode e2e files share: their own names (database, job), their own launch
// registry and launcher settings (set in the environment before any worker starts, so the
// in-process worker, a worker process and the launchers they run all see them), the targets, the
// registry read back, what a launch leaves behind, the ids pipeline they write, and their cleanup.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { localPath, RestorePointStore } from '../../activities/catalog/store';
import type { LaunchRecord } from '../../activities/targets/registry';
import { repoRoot } from '../../src/config/repo-root';
import type { DeploymentTarget } from '../../src/domain/deployment-target';
import type { Deployment, TableRef } from '../../src/domain/model';
import { portOpen, processesOf } from './app-cluster-leftovers';
import { deployableDir } from './demo-pipeline';
import { config, paimonQuery, until } from './stack';

const exec = promisify(execFile);
export const LAUNCHER = path.join(repoRoot(), 'scripts', 'app-cluster.sh');
export const APPS = path.join(config.stackHome, 'apps');
export const LOCAL: DeploymentTarget = { kind: 'application', launcher: 'local' };
export const COMMAND: DeploymentTarget = { kind: 'application', launcher: 'command' };
/**
 * How long a cluster outlives its ended job in these tests (APP_ENDED_GRACE_S, 300 s by default):
 * long enough for the worker's reads after a stop or a cancel, short enough to wait for.
 */
export const ENDED_GRACE_S = 30;

/** The launcher run directly, on this stack. */
export const launcher = (...args: string[]) => exec('bash', [LAUNCHER, ...args], { env: { ...process.env, STACK_HOME: config.stackHome } });

export interface AppModeFixture {
  run: string;
  db: string;
  job: string;
  registry: string;
  /** where the file's version scripts are written (under the deployments root) */
  scriptDir: string;
  /** the savepoints the file made in the shared savepoint dir: removed by cleanUp */
  savepoints: string[];
  /** every launch recorded in the file's registry */
  launches(): Promise<LaunchRecord[]>;
  launchOf(jobId: string): Promise<LaunchRecord>;
  /** until the job's own cluster reports a completed checkpoint */
  checkpointed(jobId: string): Promise<void>;
  /** what the launch's cluster left: its processes (by its folder) and whether its REST port answers */
  leftovers(launch: LaunchRecord): Promise<{ version: string; processes: number[]; port: boolean }>;
  /** the launch's cluster has no process and no port left */
  expectGone(launch: LaunchRecord): Promise<void>;
  /** stops every cluster of the file's launches, removes its savepoints, restore points, database, scripts and registry */
  cleanUp(): Promise<void>;
}

/** The launcher's folders (one per deploy token) whose launch.json names the job. */
export async function clusterFoldersOf(job: string): Promise<string[]> {
  const tokens: string[] = [];
  for (const token of await readdir(APPS).catch(() => [] as string[])) {
    const launch = await readFile(path.join(APPS, token, 'launch.json'), 'utf8').then((t) => JSON.parse(t) as { name?: string }, () => undefined);
    if (launch?.name === job) tokens.push(token);
  }
  return tokens;
}

/** A file's own names and registry, set in the environment for every worker and launcher it starts. */
export function appModeFixture(prefix: string): AppModeFixture {
  const run = `${process.pid}_${Date.now().toString(36)}`;
  const db = `${prefix}_${run}`;
  const job = `${prefix}-${run}`;
  const registry = mkdtempSync(path.join(os.tmpdir(), `${prefix}-registry-`));
  process.env.APP_REGISTRY_DIR = registry;
  process.env.APP_ENDED_GRACE_S = String(ENDED_GRACE_S);
  const scriptDir = deployableDir(`${prefix}-`);
  const savepoints: string[] = [];

  async function launches(): Promise<LaunchRecord[]> {
    const files = (await readdir(registry)).filter((f) => f.endsWith('.json'));
    return Promise.all(files.map(async (f) => JSON.parse(await readFile(path.join(registry, f), 'utf8')) as LaunchRecord));
  }
  const launchOf = async (jobId: string) => (await launches()).find((l) => l.jobId === jobId)!;

  async function checkpointed(jobId: string): Promise<void> {
    const launch = await launchOf(jobId);
    await until(`a completed checkpoint of ${launch.version}`, 180_000, async () => {
      const res = await fetch(`${launch.restUrl}/jobs/${jobId}/checkpoints`).catch(() => undefined);
      const body = res?.ok ? ((await res.json()) as { latest?: { completed?: { id: number } | null } }) : undefined;
      return body?.latest?.completed?.id;
    });
  }

  const leftovers = async (launch: LaunchRecord) => ({
    version: launch.version,
    processes: await processesOf(path.join(APPS, launch.deployId)),
    port: await portOpen(launch.restUrl),
  });

  async function expectGone(launch: LaunchRecord): Promise<void> {
    expect(await leftovers(launch)).toEqual({ version: launch.version, processes: [], port: false });
  }

  async function cleanUp(): Promise<void> {
    // Every cluster of the job, by its folder: a launch that failed or was still under way is in no registry.
    for (const token of await clusterFoldersOf(job)) await launcher('stop', '--token', token).catch(() => undefined);
    for (const p of savepoints) await rm(localPath(p, 'savepoint'), { recursive: true, force: true }).catch(() => undefined);
    await rm(new RestorePointStore(config.flink.savepointDir).jobDir(job), { recursive: true, force: true });
    await paimonQuery(`DROP DATABASE IF EXISTS \`${config.paimon.catalog}\`.${db} CASCADE`).catch(() => undefined);
    await rm(scriptDir, { recursive: true, force: true });
    await rm(registry, { recursive: true, force: true });
  }

  return { run, db, job, registry, scriptDir, savepoints, launches, launchOf, checkpointed, leftovers, expectGone, cleanUp };
}

/**
 * The ids pipeline: a datagen sequence 1, 2, 3, ... (10 a second, kept in operator state) written
 * into a primary-key table `keyed` and an append table `appended`, each row carrying a payload.
 */
export function idsPipeline(fixture: AppModeFixture) {
  const tables: TableRef[] = [`${fixture.db}.keyed`, `${fixture.db}.appended`];
  const createTables = () =>
    paimonQuery(
      `CREATE TABLE \`${fixture.db}\`.keyed (id BIGINT NOT NULL, payload STRING, PRIMARY KEY (id) NOT ENFORCED) ` +
        `WITH ('bucket' = '1', 'sink.savepoint.auto-tag' = 'true')`,
      `CREATE TABLE \`${fixture.db}\`.appended (id BIGINT, payload STRING) WITH ('bucket' = '-1', 'sink.savepoint.auto-tag' = 'true')`,
    );
  /** A version whose payload is `<name>:<id>`, or the SQL expression given. */
  const version = (name: string, payload = `CONCAT('${name}:', CAST(id AS STRING))`): Deployment => {
    const scriptFile = path.join(fixture.scriptDir, `${name}.sql`);
    writeFileSync(
      scriptFile,
      `-- ${name} of the ids pipeline (test/support/app-mode.ts)
SET 'pipeline.name' = '${fixture.job}';
CREATE TEMPORARY TABLE ids (id BIGINT) WITH (
  'connector' = 'datagen', 'rows-per-second' = '10',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '1000000'
);
EXECUTE STATEMENT SET BEGIN
  INSERT INTO paimon.${fixture.db}.keyed SELECT id, ${payload} FROM ids;
  INSERT INTO paimon.${fixture.db}.appended SELECT id, ${payload} FROM ids;
END;
`,
    );
    return { kind: 'sql', version: name, scriptFile };
  };
  return { tables, createTables, version };
}
