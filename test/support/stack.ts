// The real stack (scripts/stack.sh) as tests see it: its config, a readiness check that fails
// loudly, Flink REST reads, and SQL against the Paimon catalog through the SQL gateway.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { request } from 'undici';
import { SqlGatewayClient, rowObjects } from '../../activities/sql-gateway/client';
import { loadConfig } from '../../src/config/config';
import { repoRoot } from '../../src/config/repo-root';
import { withTestApprovers } from './approvals';

/** The stack's config, with the test approvers' keys (test/support/approvals.ts). */
export const config = withTestApprovers(loadConfig());

/** Fails (never skips) when the stack is down: these tests exist to check the real thing. */
export async function requireStack(): Promise<void> {
  for (const url of [`${config.flink.restUrl}/overview`, `${config.sqlGateway.url}/v1/info`]) {
    const reachable = await request(url, { headersTimeout: 5_000 })
      .then(async (res) => (await res.body.text(), res.statusCode === 200))
      .catch(() => false);
    if (!reachable) {
      throw new Error(`the real stack is not reachable at ${url}: run 'bash scripts/stack.sh up' (npm test does)`);
    }
  }
}

/** Runs scripts/stack.sh with arguments, as a person would; returns what it printed. */
export function stackScript(...args: string[]): string {
  return execFileSync('bash', [path.join(repoRoot(), 'scripts', 'stack.sh'), ...args], { encoding: 'utf8' });
}

export async function flinkGet<T = any>(urlPath: string): Promise<T> {
  const res = await request(`${config.flink.restUrl}${urlPath}`, { headersTimeout: 10_000 });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET ${urlPath}: HTTP ${res.statusCode} ${text}`);
  return JSON.parse(text) as T;
}

export async function flinkPost<T = any>(urlPath: string, body: unknown): Promise<T> {
  const res = await request(`${config.flink.restUrl}${urlPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    headersTimeout: 10_000,
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`POST ${urlPath}: HTTP ${res.statusCode} ${text}`);
  return JSON.parse(text) as T;
}

/** The running (or restarting) job with this name, if any. */
export async function liveJobNamed(name: string): Promise<{ jid: string; state: string } | undefined> {
  const { jobs } = await flinkGet<{ jobs: { jid: string; name: string; state: string }[] }>('/jobs/overview');
  return jobs.find((j) => j.name === name && !['FINISHED', 'CANCELED', 'FAILED'].includes(j.state));
}

export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Runs statements in one batch-mode session with the Paimon catalog in use; returns the rows of
 * the last one as objects.
 */
export async function paimonQuery(...statements: string[]): Promise<Record<string, unknown>[]> {
  const client = new SqlGatewayClient({ url: config.sqlGateway.url, requestTimeoutMs: 30_000 });
  // A failing read should fail at once, not restart under the cluster's restart strategy.
  const session = await client.openSession({ 'execution.runtime-mode': 'batch', 'restart-strategy.type': 'none' });
  try {
    const { catalog, warehouse } = config.paimon;
    await client.execute(
      session,
      `CREATE CATALOG IF NOT EXISTS \`${catalog}\` WITH ('type' = 'paimon', 'warehouse' = '${warehouse}')`,
    );
    await client.execute(session, `USE CATALOG \`${catalog}\``);
    let last: Record<string, unknown>[] = [];
    for (const statement of statements) last = rowObjects(await client.execute(session, statement));
    return last;
  } finally {
    await client.closeSession(session).catch(() => undefined);
    await client.close();
  }
}

/** Ids in a demo table: how many rows, the smallest and the largest. */
export async function idRange(table: string): Promise<{ rows: number; min: number; max: number }> {
  const [row] = await paimonQuery(`SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi FROM ${table}`);
  return { rows: Number(row!.n), min: Number(row!.lo ?? 0), max: Number(row!.hi ?? 0) };
}
