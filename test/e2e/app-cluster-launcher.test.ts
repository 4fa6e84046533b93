// The local launcher of application mode (scripts/app-cluster.sh), on REAL Flink processes: one
// standalone application cluster (JobManager + TaskManager, free ports) per job version, as the
// Flink Kubernetes Operator or YARN application mode run a job. A SQL version runs through the
// repository's SQL application runner from the same script file the session target deploys.
//
// v1 writes ids into a primary-key table and an append table; it is stopped with a savepoint over
// its own cluster's REST (the cluster stays up after the job ends, so the savepoint's result stays
// readable); Paimon tags both tables `savepoint-<id>`; v2 starts in a NEW cluster from that
// savepoint (at the same parallelism: a SQL graph built at another one names its operators apart,
// README); then every id lands exactly once, v1's payload up to the savepoint
// and v2's after it. A second start with the same token starts nothing; reaping stops the clusters
// whose jobs ended and leaves no process or port behind; with no reap, a cluster stops itself
// APP_ENDED_GRACE_S after its job ended (v2's, stopped with a savepoint).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/config/repo-root';
import { portOpen, processesOf as processesIn } from '../support/app-cluster-leftovers';
import { freshDatabase } from '../support/paimon-fixtures';
import { config, paimonQuery, requireStack, until } from '../support/stack';

const run = promisify(execFile);
const RUN = `${process.pid}_${Date.now().toString(36)}`;
const DB = `app_launch_${RUN}`;
const JOB = `app-launch-${RUN}`;
const LAUNCHER = path.join(repoRoot(), 'scripts', 'app-cluster.sh');
const APPS = path.join(process.env.STACK_HOME ?? path.join(repoRoot(), '.stack'), 'apps');
// How long a cluster outlives its ended job (the launcher's default is 300 s).
const ENDED_GRACE_S = 20;
process.env.APP_ENDED_GRACE_S = String(ENDED_GRACE_S);

interface Launch {
  token: string;
  name: string;
  restUrl: string;
  jobId: string;
  alive: boolean;
}

async function launcher(...args: string[]): Promise<string> {
  const { stdout } = await run('bash', [LAUNCHER, ...args], { encoding: 'utf8', timeout: 180_000 });
  return stdout;
}

async function launch(...args: string[]): Promise<Launch> {
  const lines = (await launcher('start', ...args)).trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Launch;
}

async function rest<T = any>(base: string, urlPath: string, init?: { method: 'POST' | 'PATCH'; body?: unknown }): Promise<T> {
  const res = await request(`${base}${urlPath}`, {
    method: init?.method ?? 'GET',
    headers: { 'content-type': 'application/json' },
    body: init?.body === undefined ? undefined : JSON.stringify(init.body),
    headersTimeout: 10_000,
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${init?.method ?? 'GET'} ${base}${urlPath}: HTTP ${res.statusCode} ${text}`);
  return JSON.parse(text) as T;
}

const completedCheckpoint = (l: Launch) =>
  until(`a completed checkpoint of ${l.token}`, 180_000, async () => {
    const cps = await rest<{ latest?: { completed?: { id: number } | null } }>(l.restUrl, `/jobs/${l.jobId}/checkpoints`).catch(() => undefined);
    return cps?.latest?.completed?.id;
  });

async function stopWithSavepoint(l: Launch): Promise<{ savepointId: number; location: string }> {
  const { 'request-id': trigger } = await rest<{ 'request-id': string }>(l.restUrl, `/jobs/${l.jobId}/stop`, { method: 'POST', body: { drain: false } });
  const location = await until(`stop-with-savepoint of ${l.token}`, 120_000, async () => {
    const s = await rest<{ status: { id: string }; operation?: { location?: string } }>(l.restUrl, `/jobs/${l.jobId}/savepoints/${trigger}`);
    if (s.status.id !== 'COMPLETED') return undefined;
    if (!s.operation?.location) throw new Error(`stop-with-savepoint failed: ${JSON.stringify(s.operation)}`);
    return s.operation.location;
  });
  const savepointId = await until('the savepoint in the checkpoint history', 30_000, async () => {
    const cps = await rest<{ history: { id: number; is_savepoint: boolean; external_path?: string }[] }>(l.restUrl, `/jobs/${l.jobId}/checkpoints`);
    return cps.history.find((cp) => cp.is_savepoint && cp.external_path === location)?.id;
  });
  return { savepointId, location };
}

const processesOf = (token: string) => processesIn(path.join(APPS, token));
/** The command lines of a cluster's processes, for a failure that says what was left. */
const commandLines = async (token: string) =>
  Promise.all((await processesOf(token)).map(async (pid) => (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '(gone)')).split('\0').join(' ').slice(0, 300)));

const versionSql = (version: string) => `-- ${version} of the launcher test's pipeline
SET 'pipeline.name' = '${JOB}';
CREATE TEMPORARY TABLE ids (id BIGINT) WITH (
  'connector' = 'datagen', 'rows-per-second' = '20',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '1000000'
);
EXECUTE STATEMENT SET BEGIN
  INSERT INTO paimon.${DB}.keyed SELECT id, CONCAT('${version}:', CAST(id AS STRING)) FROM ids;
  INSERT INTO paimon.${DB}.appended SELECT id, '${version}; -- not a comment' FROM ids;
END;
`;

describe('application-mode local launcher (real standalone application clusters)', () => {
  let dir: string;
  const tokens = [`${JOB}-v1`, `${JOB}-v2`, `${JOB}-broken`, `${JOB}-prepared`, `${JOB}-released`];

  beforeAll(async () => {
    await requireStack();
    dir = await mkdtemp(path.join(os.tmpdir(), 'app-launch-'));
    await freshDatabase(DB);
    await paimonQuery(
      `CREATE TABLE \`${DB}\`.keyed (id BIGINT NOT NULL, payload STRING, PRIMARY KEY (id) NOT ENFORCED) ` +
        `WITH ('bucket' = '2', 'sink.savepoint.auto-tag' = 'true')`,
      `CREATE TABLE \`${DB}\`.appended (id BIGINT, payload STRING) WITH ('bucket' = '-1', 'sink.savepoint.auto-tag' = 'true')`,
    );
    await paimonQuery(`CREATE TABLE \`${DB}\`.prepared (id BIGINT NOT NULL, PRIMARY KEY (id) NOT ENFORCED) WITH ('bucket' = '1')`);
    await writeFile(
      path.join(dir, 'prepared.sql'),
      `SET 'pipeline.name' = '${JOB}-prepared';\n` +
        `CREATE TEMPORARY TABLE ids (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '5', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '1000000');\n` +
        `INSERT INTO paimon.${DB}.prepared SELECT id FROM ids;\n`,
    );
    await writeFile(path.join(dir, 'v1.sql'), versionSql('v1'));
    await writeFile(path.join(dir, 'v2.sql'), versionSql('v2'));
    await writeFile(path.join(dir, 'broken.sql'), `SET 'pipeline.name' = '${JOB}';\nINSERT INTO paimon.${DB}.no_such_table SELECT 1, 'x';\n`);
  });

  afterAll(async () => {
    for (const token of tokens) await launcher('stop', '--token', token).catch(() => undefined);
  });

  it('runs v1, stops it with a tagged savepoint, runs v2 from it in a new cluster, and every id lands once', async () => {
    const v1 = await launch('--token', tokens[0]!, '--name', JOB, '--sql-file', path.join(dir, 'v1.sql'));
    expect(v1).toMatchObject({ token: tokens[0], name: JOB, alive: true });
    expect(v1.jobId).toMatch(/^[0-9a-f]{32}$/);
    expect(v1.restUrl).not.toBe(config.flink.restUrl);
    const job = await rest<{ jid: string; name: string }>(v1.restUrl, `/jobs/${v1.jobId}`);
    expect(job).toMatchObject({ jid: v1.jobId, name: JOB });
    await completedCheckpoint(v1);

    // The same token again (a retried activity, a worker killed during the launch): the same cluster, no second one.
    const before = await processesOf(tokens[0]!);
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(await launch('--token', tokens[0]!, '--name', JOB, '--sql-file', path.join(dir, 'v1.sql'))).toMatchObject({
      restUrl: v1.restUrl,
      jobId: v1.jobId,
      alive: true,
    });
    expect((await processesOf(tokens[0]!)).sort()).toEqual(before.sort());

    const sp = await stopWithSavepoint(v1);
    // The cluster stays up after its job ended: the stop's result was readable above, and the job says FINISHED.
    expect((await rest<{ state: string }>(v1.restUrl, `/jobs/${v1.jobId}`)).state).toBe('FINISHED');
    for (const table of ['keyed', 'appended']) {
      const tags = await paimonQuery(`SELECT tag_name FROM \`${DB}\`.\`${table}$tags\``);
      expect(tags.map((t) => t.tag_name)).toContain(`savepoint-${sp.savepointId}`);
    }
    const atSavepoint = await paimonQuery(
      `SELECT MAX(id) AS hi FROM \`${DB}\`.keyed /*+ OPTIONS('scan.tag-name' = 'savepoint-${sp.savepointId}') */`,
    );
    const lastV1 = Number(atSavepoint[0]!.hi);
    expect(lastV1).toBeGreaterThan(0);

    // Reaping stops the cluster whose job ended: no process, no port.
    await launcher('reap');
    expect(await processesOf(tokens[0]!)).toEqual([]);
    expect(await portOpen(v1.restUrl)).toBe(false);

    const v2 = await launch(
      '--token', tokens[1]!, '--name', JOB, '--sql-file', path.join(dir, 'v2.sql'),
      '--savepoint', sp.location, '--parallelism', '1',
    );
    expect(v2.restUrl).not.toBe(v1.restUrl);
    expect(v2.jobId).not.toBe(v1.jobId);
    await completedCheckpoint(v2);
    const restored = await rest<{ latest: { restored?: { external_path: string } | null } }>(v2.restUrl, `/jobs/${v2.jobId}/checkpoints`);
    expect(restored.latest.restored?.external_path).toBe(sp.location);
    const end = await stopWithSavepoint(v2);
    // No reap and no further launch: the cluster's watcher stops it once the grace has passed.
    const endedAt = Date.now();
    await until('v2\'s cluster to stop itself', (ENDED_GRACE_S + 60) * 1000, async () =>
      (await processesOf(tokens[1]!)).length === 0 && !(await portOpen(v2.restUrl)) ? true : undefined,
    );
    console.info(`v2's cluster stopped itself ${((Date.now() - endedAt) / 1000).toFixed(1)} s after its stop-with-savepoint (grace ${ENDED_GRACE_S} s)`);

    // Exactly once across the switch, compared like with like: merged keys and appended rows, read at v2's savepoint tag.
    const [keyed] = await paimonQuery(
      `SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi, SUM(CASE WHEN payload LIKE 'v1:%' THEN 1 ELSE 0 END) AS v1 ` +
        `FROM \`${DB}\`.keyed /*+ OPTIONS('scan.tag-name' = 'savepoint-${end.savepointId}') */`,
    );
    const [appended] = await paimonQuery(
      `SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS ids, MAX(id) AS hi ` +
        `FROM \`${DB}\`.appended /*+ OPTIONS('scan.tag-name' = 'savepoint-${end.savepointId}') */`,
    );
    const hi = Number(keyed!.hi);
    expect(hi).toBeGreaterThan(lastV1);
    expect({ n: Number(keyed!.n), lo: Number(keyed!.lo), v1: Number(keyed!.v1) }).toEqual({ n: hi, lo: 1, v1: lastV1 });
    expect({ n: Number(appended!.n), ids: Number(appended!.ids), hi: Number(appended!.hi) }).toEqual({ n: hi, ids: hi, hi });
  }, 900_000);

  it('refuses a missing script before starting anything, and a version that fails leaves a FAILED job to read, then nothing', async () => {
    await expect(launcher('start', '--token', `${JOB}-missing`, '--name', JOB, '--sql-file', path.join(dir, 'nope.sql'))).rejects.toThrow(
      /SQL file '.*nope\.sql' does not exist/,
    );
    expect(await processesOf(`${JOB}-missing`)).toEqual([]);

    const broken = await launch('--token', tokens[2]!, '--name', JOB, '--sql-file', path.join(dir, 'broken.sql'));
    // The main method fails (no such table): Flink keeps a FAILED job, the application driver, with the error
    // behind the fixed job id (GET /jobs/<id> answers such a job with a NullPointerException: read the overview).
    const failed = await until('the broken version to fail', 120_000, async () => {
      const { jobs } = await rest<{ jobs: { jid: string; state: string }[] }>(broken.restUrl, '/jobs/overview').catch(() => ({ jobs: [] }));
      return jobs.find((j) => j.jid === broken.jobId && j.state === 'FAILED');
    });
    expect(failed.state).toBe('FAILED');
    const exceptions = await rest<{ 'root-exception'?: string }>(
      broken.restUrl,
      `/jobs/${broken.jobId}/exceptions`,
    );
    expect(exceptions['root-exception']).toMatch(/The main method caused an error: Cannot find table .*no_such_table/);
    await launcher('reap');
    expect(await processesOf(tokens[2]!)).toEqual([]);
    expect(await portOpen(broken.restUrl)).toBe(false);
  }, 600_000);

  it('prepare starts a TaskManager and no job; start runs the job with that TaskManager; release stops only a cluster never started', async () => {
    const [prepared, released] = [tokens[3]!, tokens[4]!];
    const version = ['--name', `${JOB}-prepared`, '--sql-file', path.join(dir, 'prepared.sql')];
    const prepare = async (token: string) => JSON.parse((await launcher('prepare', '--token', token, ...version)).trim().split('\n').pop()!);
    const taskManagerPid = async (token: string) => Number((await readFile(path.join(APPS, token, 'run', 'taskmanager.pid'), 'utf8')).trim());
    const jvms = async (token: string) => {
      const kinds: string[] = [];
      for (const pid of await processesOf(token)) {
        const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
        if (args.some((a) => a.endsWith('TaskManagerRunner'))) kinds.push('taskmanager');
        if (args.some((a) => a.endsWith('StandaloneApplicationClusterEntryPoint'))) kinds.push('jobmanager');
      }
      return kinds.sort();
    };

    expect(await prepare(prepared)).toEqual({ token: prepared, prepared: true });
    expect(await prepare(prepared)).toEqual({ token: prepared, prepared: false });
    // taskmanager.sh becomes the TaskManager's JVM once Flink's scripts have built its command line.
    expect(await until('the prepared TaskManager JVM', 60_000, async () => ((await jvms(prepared)).length > 0 ? jvms(prepared) : undefined))).toEqual(['taskmanager']);
    const tm = await taskManagerPid(prepared);
    // Not a launch yet: nothing to list, reap or answer for.
    expect((await launcher('list')).includes(prepared)).toBe(false);

    const launched = await launch('--token', prepared, ...version);
    expect(await taskManagerPid(prepared)).toBe(tm);
    await completedCheckpoint(launched);
    expect(await jvms(prepared)).toEqual(['jobmanager', 'taskmanager']);
    expect(JSON.parse((await launcher('release', '--token', prepared)).trim())).toEqual({ token: prepared, released: false });
    expect((await rest<{ jobs: { jid: string; state: string }[] }>(launched.restUrl, '/jobs/overview')).jobs).toEqual([
      expect.objectContaining({ jid: launched.jobId, state: 'RUNNING' }),
    ]);
    await launcher('stop', '--token', prepared);
    expect(await commandLines(prepared)).toEqual([]);

    expect(await prepare(released)).toEqual({ token: released, prepared: true });
    expect(JSON.parse((await launcher('release', '--token', released)).trim())).toEqual({ token: released, released: true });
    expect(await commandLines(released)).toEqual([]);
    expect(existsSync(path.join(APPS, released))).toBe(false);
  }, 600_000);
});
