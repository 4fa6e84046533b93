// What the Paimon activity tests share: the activities on the real stack behind a gateway that
// counts what it is sent, an activity context, failure assertions, and our own tables and jobs.
import { request } from 'undici';
import type { PaimonActivities } from '../../activities/contract';
import { createPaimonActivities } from '../../activities/paimon/activities';
import type { SqlGateway } from '../../activities/paimon/session';
import { SqlGatewayClient, type ExecuteOptions } from '../../activities/sql-gateway/client';
import type { Config } from '../../src/config/config';
import { config, flinkGet, paimonQuery, until } from './stack';
export { activityEnv, expectFatal, expectRetryable, failureOf, run } from './activity-calls';
export { config, paimonQuery };

/** The real gateway client, counting sessions and recording every statement sent. */
export class CountingGateway implements SqlGateway {
  sessions = 0;
  readonly statements: string[] = [];
  readonly #client: SqlGatewayClient;

  constructor(url = config.sqlGateway.url) {
    this.#client = new SqlGatewayClient({ url, requestTimeoutMs: 30_000 });
  }

  openSession(properties?: Record<string, string>, sessionName?: string) {
    this.sessions++;
    return this.#client.openSession(properties, sessionName);
  }

  execute(sessionHandle: string, statement: string, options?: ExecuteOptions) {
    this.statements.push(statement);
    return this.#client.execute(sessionHandle, statement, options);
  }

  closeSession(sessionHandle: string) {
    return this.#client.closeSession(sessionHandle);
  }

  reset(): void {
    this.sessions = 0;
    this.statements.length = 0;
  }
}

export function paimonActivities(
  gateway: SqlGateway = new CountingGateway(),
  paimon: Partial<Config['paimon']> = {},
): PaimonActivities {
  return createPaimonActivities({ ...config, paimon: { ...config.paimon, ...paimon } }, { gateway, pollIntervalMs: 500 });
}

/** A fresh database of our own (never `demo`: the demo job writes there). */
export async function freshDatabase(database: string): Promise<void> {
  await paimonQuery(`DROP DATABASE IF EXISTS \`${database}\` CASCADE`, `CREATE DATABASE \`${database}\``);
}

export async function createTable(database: string, table: string, autoTag: boolean): Promise<void> {
  const options = autoTag ? ", 'sink.savepoint.auto-tag' = 'true'" : '';
  await paimonQuery(
    `CREATE TABLE \`${database}\`.\`${table}\` (id BIGINT NOT NULL, payload STRING, PRIMARY KEY (id) NOT ENFORCED) ` +
      `WITH ('bucket' = '1'${options})`,
  );
}

/** One batch INSERT: one new snapshot. Waits for the job (table.dml-sync). */
export async function insertRows(database: string, table: string, ids: number[]): Promise<void> {
  const values = ids.map((id) => `(${id}, 'row ${id}')`).join(', ');
  await paimonQuery(`SET 'table.dml-sync' = 'true'`, `INSERT INTO \`${database}\`.\`${table}\` VALUES ${values}`);
}

export { tagNames } from './demo-pipeline';

export async function snapshotIds(database: string, table: string): Promise<number[]> {
  const rows = await paimonQuery(`SELECT snapshot_id FROM \`${database}\`.\`${table}$snapshots\``);
  return rows.map((r) => Number(r.snapshot_id)).sort((a, b) => a - b);
}

export async function tableExists(database: string, table: string): Promise<boolean> {
  const dbs = await paimonQuery('SHOW DATABASES');
  if (!dbs.some((r) => Object.values(r)[0] === database)) return false;
  const tables = await paimonQuery(`SHOW TABLES FROM \`${database}\``);
  return tables.some((r) => Object.values(r)[0] === table);
}

/**
 * Starts a streaming job (named `jobName`) that writes a datagen sequence into every table, from
 * a savepoint if given, and waits for its first completed checkpoint. Returns the job id.
 */
export async function startWriter(
  database: string,
  tables: string[],
  jobName: string,
  firstId: number,
  savepointPath?: string,
): Promise<string> {
  const client = new SqlGatewayClient({ url: config.sqlGateway.url, requestTimeoutMs: 30_000 });
  const properties: Record<string, string> = { 'execution.runtime-mode': 'streaming', 'pipeline.name': jobName };
  if (savepointPath) properties['execution.savepoint.path'] = savepointPath;
  const session = await client.openSession(properties);
  let jobId: string | undefined;
  try {
    const { catalog, warehouse } = config.paimon;
    await client.execute(session, `CREATE CATALOG IF NOT EXISTS \`${catalog}\` WITH ('type' = 'paimon', 'warehouse' = '${warehouse}')`);
    await client.execute(
      session,
      `CREATE TEMPORARY TABLE seq (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '20', ` +
        `'fields.id.kind' = 'sequence', 'fields.id.start' = '${firstId}', 'fields.id.end' = '${firstId + 1_000_000}')`,
    );
    const inserts = tables
      .map((t) => `INSERT INTO \`${catalog}\`.\`${database}\`.\`${t}\` SELECT id, CAST(id AS STRING) FROM seq;`)
      .join('\n');
    jobId = (await client.execute(session, `EXECUTE STATEMENT SET BEGIN\n${inserts}\nEND`)).jobId;
  } finally {
    await client.closeSession(session).catch(() => undefined);
    await client.close();
  }
  if (!jobId) throw new Error(`the SQL gateway gave no job id for ${jobName}`);
  const id = jobId;
  await until(`a first completed checkpoint of ${jobName}`, 90_000, async () => {
    const cp = await flinkGet<{ latest?: { completed: unknown } }>(`/jobs/${id}/checkpoints`).catch(() => undefined);
    return cp?.latest?.completed ? true : undefined;
  });
  return id;
}

/** The ids of the job's checkpoints that failed or were aborted (e.g. by stop-with-savepoint). */
export async function failedCheckpointIds(jobId: string): Promise<number[]> {
  const cps = await flinkGet<{ history: { id: number; status: string }[] }>(`/jobs/${jobId}/checkpoints`);
  return cps.history.filter((cp) => cp.status === 'FAILED').map((cp) => cp.id);
}

/** Stop-with-savepoint through Flink REST: the savepoint id (its checkpoint id) and its location. */
export async function stopWithSavepoint(jobId: string): Promise<{ savepointId: number; location: string }> {
  const res = await request(`${config.flink.restUrl}/jobs/${jobId}/stop`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ drain: false }),
  });
  const { 'request-id': trigger } = (await res.body.json()) as { 'request-id': string };
  const location = await until(`stop-with-savepoint of ${jobId}`, 90_000, async () => {
    const s = await flinkGet<{ status: { id: string }; operation?: { location?: string; 'failure-cause'?: unknown } }>(
      `/jobs/${jobId}/savepoints/${trigger}`,
    );
    if (s.status.id !== 'COMPLETED') return undefined;
    if (!s.operation?.location) throw new Error(`stop-with-savepoint failed: ${JSON.stringify(s.operation)}`);
    return s.operation.location;
  });
  // The checkpoint statistics can trail the savepoint's completion by a moment.
  const savepointId = await until(`the checkpoint id of savepoint ${location}`, 30_000, async () => {
    const cps = await flinkGet<{ history: { id: number; is_savepoint: boolean; external_path?: string }[] }>(
      `/jobs/${jobId}/checkpoints`,
    );
    return cps.history.find((cp) => cp.is_savepoint && cp.external_path === location)?.id;
  });
  return { savepointId, location };
}

/** Cancels jobs this test file started (by name prefix) that are still alive. */
export async function cancelOurJobs(namePrefix: string): Promise<void> {
  const { jobs } = await flinkGet<{ jobs: { jid: string; name: string; state: string }[] }>('/jobs/overview');
  for (const job of jobs) {
    if (job.name.startsWith(namePrefix) && !['FINISHED', 'CANCELED', 'FAILED'].includes(job.state)) {
      await request(`${config.flink.restUrl}/jobs/${job.jid}?mode=cancel`, { method: 'PATCH' }).then((r) => r.body.dump());
    }
  }
}
