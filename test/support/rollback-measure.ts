// The pieces of test/e2e/rollback-as-latest.test.ts: one streaming job writing ids 1, 2, 3, … into
// two sets of sink tables (a primary-key, an append and an aggregate table each), checkpoints and
// savepoints triggered by hand so their ids are known in advance, and the checks of what the tables
// hold. Real stack only: Flink's REST API and Paimon through the SQL gateway.
import { execFileSync } from 'node:child_process';
import { request } from 'undici';
import { SqlGatewayClient } from '../../activities/sql-gateway/client';
import { config, flinkGet, flinkPost, paimonQuery, until } from './stack';

export const DB = 'rollback_as_latest';
export const JOB_NAME = 'rollback-as-latest-measure';
/** Aggregates per key k = id % KEYS, as the soak's seq_agg. */
const KEYS = 7;

export const tablesOf = (set: string) => [`${set}_pk`, `${set}_app`, `${set}_agg`];
const q = (t: string) => `\`${DB}\`.\`${t}\``;

export async function createTables(sets: string[]): Promise<void> {
  const opts = "'sink.savepoint.auto-tag' = 'true', 'snapshot.time-retained' = '7 d'";
  const statements = [`CREATE DATABASE IF NOT EXISTS \`${DB}\``];
  for (const set of sets) {
    const [pk, app, agg] = tablesOf(set) as [string, string, string];
    for (const t of [pk, app, agg]) statements.push(`DROP TABLE IF EXISTS ${q(t)}`);
    statements.push(
      `CREATE TABLE ${q(pk)} (id BIGINT NOT NULL, payload STRING, PRIMARY KEY (id) NOT ENFORCED) WITH ('bucket' = '1', ${opts})`,
      `CREATE TABLE ${q(app)} (id BIGINT NOT NULL, payload STRING) WITH ('bucket' = '-1', ${opts})`,
      `CREATE TABLE ${q(agg)} (k INT NOT NULL, cnt BIGINT, total BIGINT, max_id BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('bucket' = '1', ${opts})`,
    );
  }
  await paimonQuery(...statements);
}

/**
 * Starts the job (from `savepoint` if given). Periodic checkpoints every hour, i.e. none during the
 * run: every checkpoint is triggered by hand, so a restored job's ids are known in advance.
 */
export async function submitJob(sets: string[], savepoint?: string): Promise<string> {
  const client = new SqlGatewayClient({ url: config.sqlGateway.url, requestTimeoutMs: 30_000 });
  const session = await client.openSession({
    'execution.runtime-mode': 'streaming',
    'pipeline.name': JOB_NAME,
    'execution.checkpointing.interval': '1 h',
    ...(savepoint ? { 'execution.state-recovery.path': savepoint } : {}),
  });
  try {
    await client.execute(session, `CREATE CATALOG IF NOT EXISTS \`${config.paimon.catalog}\` WITH ('type' = 'paimon', 'warehouse' = '${config.paimon.warehouse}')`);
    await client.execute(session, `USE CATALOG \`${config.paimon.catalog}\``);
    await client.execute(
      session,
      "CREATE TEMPORARY TABLE seq (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '20', " +
        "'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '1000000')",
    );
    const inserts = sets.flatMap((set) => {
      const [pk, app, agg] = tablesOf(set) as [string, string, string];
      return [
        `INSERT INTO ${q(pk)} SELECT id, CONCAT('v1:', CAST(id AS STRING)) FROM seq;`,
        `INSERT INTO ${q(app)} SELECT id, CONCAT('v1:', CAST(id AS STRING)) FROM seq;`,
        `INSERT INTO ${q(agg)} SELECT CAST(MOD(id, ${KEYS}) AS INT), COUNT(*), SUM(id), MAX(id) FROM seq GROUP BY CAST(MOD(id, ${KEYS}) AS INT);`,
      ];
    });
    const { jobId } = await client.execute(session, `EXECUTE STATEMENT SET BEGIN\n${inserts.join('\n')}\nEND`);
    if (!jobId) throw new Error('the SQL gateway reported no job id');
    await settled(jobId);
    return jobId;
  } finally {
    await client.closeSession(session).catch(() => undefined);
    await client.close();
  }
}

interface JobDetails { state: string; vertices: { status: string }[] }
const failures = async (jobId: string) =>
  (await flinkGet<{ exceptionHistory?: { entries?: { exceptionName?: string; stacktrace?: string }[] } }>(`/jobs/${jobId}/exceptions`))
    .exceptionHistory?.entries ?? [];

/** RUNNING with every task up and no new failure for 8 s: a restored job may fail over once on purpose. */
export async function settled(jobId: string): Promise<void> {
  let since = 0;
  let seen = -1;
  await until(`job ${jobId} running and settled`, 300_000, async () => {
    const job = await flinkGet<JobDetails>(`/jobs/${jobId}`);
    if (['FAILED', 'CANCELED', 'FINISHED'].includes(job.state)) throw new Error(`job ${jobId} is ${job.state}`);
    const n = (await failures(jobId)).length;
    const up = job.state === 'RUNNING' && job.vertices.every((v) => v.status === 'RUNNING');
    if (!up || n !== seen) since = 0;
    else if (!since) since = Date.now();
    seen = n;
    return since && Date.now() - since > 8_000 ? true : undefined;
  });
}

async function operation(path: string): Promise<Record<string, any>> {
  return until(`${path} completed`, 180_000, async () => {
    const r = await flinkGet<{ status: { id: string }; operation?: Record<string, any> }>(path);
    if (r.status.id !== 'COMPLETED') return undefined;
    if (r.operation?.['failure-cause']) throw new Error(`${path}: ${JSON.stringify(r.operation['failure-cause']).slice(0, 2000)}`);
    return r.operation ?? {};
  });
}

export async function checkpoint(jobId: string): Promise<number> {
  const { 'request-id': trigger } = await flinkPost<{ 'request-id': string }>(`/jobs/${jobId}/checkpoints`, { checkpointType: 'FULL' });
  return Number((await operation(`/jobs/${jobId}/checkpoints/${trigger}`)).checkpointId);
}

async function latestSavepointId(jobId: string): Promise<number> {
  const { latest } = await flinkGet<{ latest: { savepoint: { id: number } | null } }>(`/jobs/${jobId}/checkpoints`);
  return latest.savepoint!.id;
}

/** An intermediate savepoint: its id and path. */
export async function savepoint(jobId: string): Promise<{ id: number; path: string }> {
  const body = { 'target-directory': config.flink.savepointDir, 'cancel-job': false, formatType: 'CANONICAL' };
  const { 'request-id': trigger } = await flinkPost<{ 'request-id': string }>(`/jobs/${jobId}/savepoints`, body);
  const path = String((await operation(`/jobs/${jobId}/savepoints/${trigger}`)).location);
  return { id: await latestSavepointId(jobId), path };
}

export async function stopWithSavepoint(jobId: string): Promise<{ id: number; path: string }> {
  const body = { targetDirectory: config.flink.savepointDir, drain: false, formatType: 'CANONICAL' };
  const { 'request-id': trigger } = await flinkPost<{ 'request-id': string }>(`/jobs/${jobId}/stop`, body);
  const path = String((await operation(`/jobs/${jobId}/savepoints/${trigger}`)).location);
  await until(`job ${jobId} stopped`, 60_000, async () =>
    ['FINISHED', 'CANCELED', 'FAILED'].includes((await flinkGet<JobDetails>(`/jobs/${jobId}`)).state) ? true : undefined,
  );
  return { id: await latestSavepointId(jobId), path };
}

export async function cancelJob(jobId: string): Promise<void> {
  const res = await request(`${config.flink.restUrl}/jobs/${jobId}?mode=cancel`, { method: 'PATCH', headersTimeout: 10_000 });
  await res.body.text();
}

/**
 * A failover between the first checkpoint a restored job completes and that checkpoint's commit:
 * every sink table's manifest/ directory is made immutable (chattr +i; root on a local ext4-like
 * warehouse), so Paimon's commit in notifyCheckpointComplete throws and the job restores from that
 * checkpoint with its committables not yet committed. Paimon's filterCommitted decides what then
 * happens to them. Returns the checkpoint id and the failure Flink recorded.
 */
export async function failoverBeforeFirstCommit(jobId: string, tables: string[]): Promise<{ checkpointId: number; failure: string }> {
  const warehouse = config.paimon.warehouse.replace(/^file:\/\//, '');
  const dirs = tables.map((t) => `${warehouse}/${DB}.db/${t}/manifest`);
  const before = (await failures(jobId)).length;
  execFileSync('chattr', ['+i', ...dirs]);
  let checkpointId: number;
  let failure: string;
  try {
    checkpointId = await checkpoint(jobId);
    const entries = await until('the commit to fail', 60_000, async () => {
      const e = await failures(jobId);
      return e.length > before ? e : undefined;
    });
    failure = `${entries[0]!.exceptionName ?? ''}: ${(entries[0]!.stacktrace ?? '').split('\n').slice(0, 2).join(' ')}`;
  } finally {
    execFileSync('chattr', ['-i', ...dirs]);
  }
  await settled(jobId);
  return { checkpointId, failure };
}

export interface TableIds { rows: number; distinct: number; min: number; max: number; missing: string[]; duplicated: number }

/** Ids 1..max each once? Missing ids as ranges; duplicated = rows beyond the distinct ids. */
export async function idsOf(table: string): Promise<TableIds> {
  const [r] = await paimonQuery(`SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d, MIN(id) AS lo, MAX(id) AS hi FROM ${q(table)}`);
  const [rows, distinct, min, max] = [r!.n, r!.d, r!.lo ?? 0, r!.hi ?? 0].map(Number) as [number, number, number, number];
  let missing: string[] = [];
  if (distinct !== max || min !== 1) {
    const have = new Set((await paimonQuery(`SELECT DISTINCT id FROM ${q(table)}`)).map((x) => Number(x.id)));
    missing = ranges(Array.from({ length: max }, (_, i) => i + 1).filter((id) => !have.has(id)));
  }
  return { rows, distinct, min, max, missing, duplicated: rows - distinct };
}

/** The aggregate table against what ids 1..max give: the keys that differ. */
export async function wrongAggregates(table: string, max: number): Promise<string[]> {
  const got = new Map((await paimonQuery(`SELECT k, cnt, total, max_id FROM ${q(table)}`)).map((r) => [Number(r.k), `${r.cnt}/${r.total}/${r.max_id}`]));
  const want = new Map<number, [number, number, number]>();
  for (let id = 1; id <= max; id++) {
    const [c, s] = want.get(id % KEYS) ?? [0, 0, 0];
    want.set(id % KEYS, [c + 1, s + id, id]);
  }
  return [...want].filter(([k, v]) => got.get(k) !== v.join('/')).map(([k, v]) => `k=${k}: ${got.get(k)} expected ${v.join('/')}`);
}

export interface TagRow { tag: string; snapshot: number; records: number }
export async function tagsOf(table: string): Promise<TagRow[]> {
  return (await paimonQuery(`SELECT tag_name, snapshot_id, record_count FROM ${q(`${table}$tags`)} ORDER BY snapshot_id`)).map((r) => ({
    tag: String(r.tag_name),
    snapshot: Number(r.snapshot_id),
    records: Number(r.record_count),
  }));
}

export interface SnapshotRow { id: number; user: string; identifier: string; kind: string; records: number }
export async function snapshotsOf(table: string): Promise<SnapshotRow[]> {
  return (
    await paimonQuery(`SELECT snapshot_id, commit_user, commit_identifier, commit_kind, total_record_count FROM ${q(`${table}$snapshots`)} ORDER BY snapshot_id`)
  ).map((r) => ({ id: Number(r.snapshot_id), user: String(r.commit_user), identifier: String(r.commit_identifier), kind: String(r.commit_kind), records: Number(r.total_record_count) }));
}

export async function rollBack(procedure: string, table: string, tag: string): Promise<Record<string, unknown>> {
  const [row] = await paimonQuery(`CALL sys.${procedure}(\`table\` => '${DB}.${table}', tag => '${tag}')`);
  return row ?? {};
}

function ranges(ids: number[]): string[] {
  const out: [number, number][] = [];
  for (const id of ids) {
    const last = out[out.length - 1];
    if (last && last[1] === id - 1) last[1] = id;
    else out.push([id, id]);
  }
  return out.map(([a, b]) => (a === b ? `${a}` : `${a}..${b}`));
}
