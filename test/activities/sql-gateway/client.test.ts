// SqlGatewayClient against the real SQL gateway: rows with column names, statement errors as
// SqlFailed, unbounded queries cut at maxRows, sessions, and an unreachable gateway.
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlGatewayClient, rowObjects } from '../../../activities/sql-gateway/client';
import { config, requireStack } from '../../support/stack';

const failureOf = (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => err);

describe('SqlGatewayClient', () => {
  const client = new SqlGatewayClient({ url: config.sqlGateway.url, requestTimeoutMs: 15_000 });
  let session: string;

  beforeAll(async () => {
    await requireStack();
    session = await client.openSession({ 'execution.runtime-mode': 'batch' }, 'flinktest-sql-gateway');
  });

  afterAll(async () => {
    await client.closeSession(session);
    await client.close();
  });

  it('returns rows as field arrays with their column names', async () => {
    const result = await client.execute(session, "SELECT * FROM (VALUES (1, 'a;b'), (2, CAST(NULL AS STRING))) AS t(n, s) ORDER BY n");
    expect(result.columns).toEqual(['n', 's']);
    expect(result.rows).toEqual([[1, 'a;b'], [2, null]]);
    expect(rowObjects(result)).toEqual([{ n: 1, s: 'a;b' }, { n: 2, s: null }]);
    expect(result.jobId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('runs DDL and SET in the session', async () => {
    await expect(client.execute(session, "SET 'table.local-time-zone' = 'UTC'")).resolves.toMatchObject({ rows: [['OK']] });
    const shown = await client.execute(session, "CREATE TEMPORARY VIEW flinktest_v AS SELECT 42 AS answer");
    expect(shown.resultKind).toBe('SUCCESS');
    await expect(client.execute(session, 'SELECT answer FROM flinktest_v')).resolves.toMatchObject({ rows: [[42]] });
  });

  it('reads an unbounded query only up to maxRows and closes it', async () => {
    const streaming = await client.openSession({ 'execution.runtime-mode': 'streaming' });
    try {
      await client.execute(streaming, "CREATE TEMPORARY TABLE g (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '20', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '1000000')");
      const result = await client.execute(streaming, 'SELECT id FROM g', { maxRows: 5 });
      expect(result.rows).toEqual([[1], [2], [3], [4], [5]]);
    } finally {
      await client.closeSession(streaming);
    }
  });

  it('fails a statement the planner rejects for good (SqlFailed) with the reason, not the stack', async () => {
    const err = await failureOf(client.execute(session, 'SELECT * FROM flinktest_no_such_table'));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('SqlFailed');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as Error).message).toMatch(/SELECT \* FROM flinktest_no_such_table: .*not found/);
    expect((err as Error).message).not.toMatch(/\tat /);
  });

  it('hides the values it is asked to redact', async () => {
    const err = await failureOf(
      client.execute(session, "CREATE CATALOG flinktest_c WITH ('type' = 'nope', 'secret' = 'sesame-42')", { redact: ['sesame-42'] }),
    );
    expect((err as Error).message).toContain('[redacted]');
    expect((err as Error).message).not.toContain('sesame-42');
  });

  it('closing a session twice is fine; a closed session is a retryable error', async () => {
    const s = await client.openSession();
    await client.closeSession(s);
    await expect(client.closeSession(s)).resolves.toBeUndefined();
    const err = await failureOf(client.execute(s, 'SELECT 1'));
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect((err as Error).message).toMatch(/does not exist/);
  });

  it('an unreachable gateway is a retryable error that says what to check', async () => {
    const offline = new SqlGatewayClient({ url: 'http://127.0.0.1:1', requestTimeoutMs: 2_000 });
    const err = await failureOf(offline.openSession());
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect((err as Error).message).toMatch(/ECONNREFUSED.*SQL_GATEWAY_URL/);
    await offline.close();
  });
});
