// P2's manual route: the same upgrade as a person does it with Flink's own tools, each step a
// timed shell command. What is timed is the commands only; a person's reading and typing between
// them (think time) is not included, so this is the manual route's floor, not its typical cost.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sameLocation } from '../activities/flink/savepoint-metadata';
import { tagFor } from '../src/domain/model';
import type { RouteResult, Step } from './routes';
import { config, downtime, restoredFrom, type RunPipeline } from './stack';

const run = promisify(execFile);
const FLINK_HOME = process.env.FLINK_HOME ?? path.join(config.stackHome, 'flink-1.20.3');
const env = { ...process.env, FLINK_CONF_DIR: process.env.FLINK_CONF_DIR ?? path.join(FLINK_HOME, 'conf') };
let scripts: string | undefined;
const gateway = new URL(config.sqlGateway.url).host;
/** How often the person re-runs a status command: as often as our activities poll (a generous floor). */
const POLL_MS = 1_000;

// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

/** The commands a person types, in order; every one is listed in the result with its time. */
export const MANUAL_COMMANDS = [
  'flink list -r                                  (find the job id by name)',
  // Two ways to stop, both measured: 'manual-cli' is what the issue names, `flink stop
  // --savepointPath` (a JVM start, then it waits for the savepoint and prints its path); 'manual'
  // stops through REST and polls the trigger, which skips that JVM start (a faster floor).
  'manual-cli: flink stop --savepointPath <dir> <jobId>   (stop-with-savepoint; prints the savepoint path)',
  'manual:     curl -X POST <rest>/jobs/<jobId>/stop      (stop-with-savepoint through REST)',
  'manual:     curl <rest>/jobs/<jobId>/savepoints/<trigger>   (every 1 s until COMPLETED: the savepoint path)',
  'curl <rest>/jobs/<jobId>/checkpoints           (the savepoint id, for the tag name)',
  'sql-client.sh gateway -e <gw> -f tags.sql      (SELECT from t$tags on both tables; again after 2 s if missing)',
  // `flink run -s <savepoint>` is for jar jobs; for a SQL pipeline the same is the savepoint path set in the SQL client.
  "sql-client.sh gateway -e <gw> -f deploy.sql    (SET 'execution.savepoint.path', then pipeline-v2)",
  'flink list -r                                  (the new job RUNNING)',
  'curl <rest>/jobs/<newJobId>/checkpoints        (every 1 s until a checkpoint completed)',
];

export async function manual(p: RunPipeline, oldJobId: string, stopWith: 'rest' | 'cli' = 'rest'): Promise<RouteResult> {
  const steps: Step[] = [];
  const timed = async (name: string, file: string, args: string[]): Promise<string> => {
    const started = Date.now();
    try {
      const { stdout, stderr } = await run(file, args, { env, maxBuffer: 16 * 2 ** 20 });
      return plain(`${stdout}\n${stderr}`);
    } finally {
      const last = steps[steps.length - 1];
      if (last?.name === name) last.ms += Date.now() - started;
      else steps.push({ name, ms: Date.now() - started });
    }
  };
  const flink = (name: string, ...args: string[]) => timed(name, path.join(FLINK_HOME, 'bin', 'flink'), args);
  const sqlClient = (name: string, file: string) =>
    timed(name, path.join(FLINK_HOME, 'bin', 'sql-client.sh'), ['gateway', '-e', gateway, '-f', file]);
  const curlJson = async (name: string, urlPath: string) => JSON.parse(await timed(name, 'curl', ['-sf', `${config.flink.restUrl}${urlPath}`]));

  /** stop-with-savepoint through REST, then the trigger polled until COMPLETED. */
  const stopByRest = async (jobId: string): Promise<string> => {
    const body = JSON.stringify({ targetDirectory: config.flink.savepointDir, drain: false });
    const stop = JSON.parse(
      await timed('curl POST /jobs/:id/stop', 'curl', ['-sf', '-X', 'POST', '-H', 'content-type: application/json', '-d', body, `${config.flink.restUrl}/jobs/${jobId}/stop`]),
    );
    for (;;) {
      const status = await curlJson('curl savepoint status until COMPLETED', `/jobs/${jobId}/savepoints/${stop['request-id']}`);
      if (status.status.id === 'COMPLETED') {
        const location: string | undefined = status.operation?.location;
        if (!location) throw new Error(`stop-with-savepoint failed: ${JSON.stringify(status.operation?.['failure-cause'] ?? status).slice(0, 500)}`);
        return location;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
      steps[steps.length - 1]!.ms += POLL_MS;
    }
  };
  /** `flink stop --savepointPath`: blocks until the savepoint completed and prints its path. */
  const stopByCli = async (jobId: string): Promise<string> => {
    const out = await flink('flink stop --savepointPath', 'stop', '--savepointPath', config.flink.savepointDir, jobId);
    const location = /Savepoint completed\. Path: (\S+)/.exec(out)?.[1];
    if (!location) throw new Error(`flink stop printed no savepoint path: ${out.slice(-800)}`);
    return location;
  };

  const result: RouteResult = { route: stopWith === 'cli' ? 'manual-cli' : 'manual', run: p.run, ok: false, wallMs: Number.NaN, downtimeMs: Number.NaN, oldJobId, steps };
  const t0 = Date.now();
  try {
    const listed = await flink('flink list -r', 'list', '-r');
    const jobId = new RegExp(` : ([0-9a-f]{32}) : ${p.jobName} \\(RUNNING\\)`).exec(listed)?.[1];
    if (jobId !== oldJobId) throw new Error(`flink list -r shows ${jobId ?? 'no running job'} for ${p.jobName}, expected ${oldJobId}`);

    const savepointPath = stopWith === 'cli' ? await stopByCli(jobId) : await stopByRest(jobId);
    result.savepointPath = savepointPath;

    // The savepoint id names the tag; Flink's checkpoint statistics (cached by the REST API for a
    // few seconds) show it once they list this savepoint, as the web UI's checkpoint tab does.
    let savepointId: number | undefined;
    for (;;) {
      const stats = await curlJson('curl checkpoints (savepoint id)', `/jobs/${jobId}/checkpoints`);
      const sp = stats.latest?.savepoint;
      if (sp?.external_path && sameLocation(sp.external_path, savepointPath)) {
        savepointId = sp.id as number;
        break;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
      steps[steps.length - 1]!.ms += POLL_MS;
    }
    const tag = tagFor(savepointId);
    const tagsSql = write(`${p.jobName}-tags.sql`, [
      "SET 'execution.runtime-mode' = 'batch';",
      "SET 'sql-client.execution.result-mode' = 'tableau';",
      catalogStatement(),
      p.tables.map((t) => `SELECT '${t}' AS table_ref, tag_name FROM paimon.${t.split('.')[0]}.\`${t.split('.')[1]}$tags\` WHERE tag_name = '${tag}'`).join(' UNION ALL ') + ';',
    ]);
    for (let attempt = 1; ; attempt++) {
      const out = await sqlClient('sql-client: check tags', tagsSql);
      if (/\[ERROR\]/.test(out)) throw new Error(`sql-client failed checking tags: ${out.slice(-800)}`);
      if (p.tables.every((t) => out.includes(t))) break;
      if (attempt >= 30) throw new Error(`tag ${tag} not on every table after ${attempt} checks`);
      await new Promise((r) => setTimeout(r, 2_000));
    }

    const deploySql = write(`${p.jobName}-deploy.sql`, [
      `SET 'execution.savepoint.path' = '${savepointPath}';`,
      catalogStatement(),
      (p.v2 as { script: string }).script,
    ]);
    const deployed = await sqlClient('sql-client: deploy v2 from savepoint', deploySql);
    const newJobId = /Job ID: ([0-9a-f]{32})/.exec(deployed)?.[1];
    if (!newJobId || /\[ERROR\]/.test(deployed)) throw new Error(`sql-client did not submit v2: ${deployed.slice(-800)}`);
    result.newJobId = newJobId;

    for (;;) {
      const list = await flink('flink list -r (new job)', 'list', '-r');
      if (list.includes(`${newJobId} : ${p.jobName} (RUNNING)`)) break;
    }
    for (;;) {
      const s = await curlJson('curl checkpoints until one completed', `/jobs/${newJobId}/checkpoints`);
      if (s.counts.completed > 0) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
      steps[steps.length - 1]!.ms += POLL_MS;
    }
    result.ok = true;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  }
  result.wallMs = Date.now() - t0;
  if (result.newJobId) {
    result.downtimeMs = await downtime(oldJobId, result.newJobId);
    const from = await restoredFrom(result.newJobId);
    const restored = !!from && !!result.savepointPath && sameLocation(from, result.savepointPath);
    result.manual = { restoredFrom: from, restoredFromSavepoint: restored };
    if (!restored) {
      result.ok = false;
      result.error ??= `v2 was not restored from ${result.savepointPath} (Flink says: ${from ?? 'no savepoint'})`;
    }
  }
  return result;
}

/** The SQL scripts the manual route wrote; removed once the benchmark is done. */
export const removeManualScripts = () => scripts && rmSync(scripts, { recursive: true, force: true });

function write(name: string, lines: string[]): string {
  scripts ??= mkdtempSync(path.join(tmpdir(), 'bench-manual-'));
  const file = path.join(scripts, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const catalogStatement = () =>
  `CREATE CATALOG IF NOT EXISTS ${config.paimon.catalog} WITH ('type' = 'paimon', 'warehouse' = '${config.paimon.warehouse}');`;
