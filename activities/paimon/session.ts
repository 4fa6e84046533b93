// One SQL gateway session per activity call, with the Paimon catalog in use; closed afterwards,
// which also cancels a query job still running on the cluster (e.g. after a timeout).
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import type { Config } from '../../src/config';
import { FailureType, fatal } from '../errors';
import { rowObjects, type ExecuteOptions, type SqlResult } from '../sql-gateway/client';
import { identifier } from './identifiers';
import { createCatalog, useCatalog } from './sql';

/** What we need of activities/sql-gateway's SqlGatewayClient (tests wrap it to count calls). */
export interface SqlGateway {
  openSession(properties?: Record<string, string>, sessionName?: string): Promise<string>;
  execute(sessionHandle: string, statement: string, options?: ExecuteOptions): Promise<SqlResult>;
  closeSession(sessionHandle: string): Promise<void>;
}

const SESSION_PROPERTIES = {
  // Batch: a SELECT on a Paimon table or system table is a bounded job that ends with its
  // result; in streaming mode COUNT(*) would read the table continuously and never finish.
  'execution.runtime-mode': 'batch',
  // Our queries are read-only and short: one that fails should say why at once, instead of being
  // restarted by the cluster's restart strategy (scripts/stack.sh: fixed-delay, 1000000 attempts)
  // until the statement timeout, as a read of a missing snapshot file otherwise is.
  'restart-strategy.type': 'none',
};

export class PaimonSession {
  constructor(
    private readonly gateway: SqlGateway,
    private readonly handle: string,
    /** What the activity is doing, e.g. "rollbackToTag demo.seq_a to 'savepoint-12'": every message starts with it. */
    readonly attempted: string,
    private readonly secrets: string[],
  ) {}

  async run(statement: string): Promise<SqlResult> {
    const signal = activitySignal();
    try {
      return await this.gateway.execute(this.handle, statement, { redact: this.secrets, signal });
    } catch (err) {
      throw withContext(err, this.attempted, signal);
    }
  }

  /** Runs a query and parses each row (by column name) with `schema`. */
  async rows<S extends z.ZodType>(statement: string, schema: S): Promise<z.output<S>[]> {
    const rows = rowObjects(await this.run(statement));
    return rows.map((row) => {
      const parsed = schema.safeParse(row);
      if (parsed.success) return parsed.data;
      const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw fatal(
        FailureType.UnexpectedResponse,
        `${this.attempted}: a row of "${statement.slice(0, 120)}" does not look like Paimon 1.3's (${issues}); ` +
          'is the Paimon version on the Flink cluster the one we support?',
      );
    });
  }
}

export async function withPaimonSession<T>(
  gateway: SqlGateway,
  paimon: Config['paimon'],
  attempted: string,
  work: (session: PaimonSession) => Promise<T>,
): Promise<T> {
  const catalog = identifier('catalog', paimon.catalog, attempted);
  const secrets = Object.values(paimon.catalogOptions.reveal());
  let handle: string;
  try {
    handle = await gateway.openSession(SESSION_PROPERTIES, 'paimon-activities');
  } catch (err) {
    throw withContext(err, attempted, activitySignal());
  }
  try {
    const session = new PaimonSession(gateway, handle, attempted, secrets);
    await session.run(createCatalog(catalog, paimon));
    await session.run(useCatalog(catalog));
    return await work(session);
  } finally {
    await gateway.closeSession(handle).catch(() => undefined);
  }
}

function activitySignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined; // not in an activity (a script or a unit test)
  }
}

/**
 * Prefixes what was attempted. A non-retryable failure stays one (same type); anything else stays
 * a plain, retryable Error (the gateway or the JobManager away, a statement timing out).
 */
function withContext(err: unknown, attempted: string, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return err;
  if (err instanceof ApplicationFailure) {
    if (!err.nonRetryable || err.message.startsWith(attempted)) return err;
    return ApplicationFailure.create({ type: err.type ?? undefined, nonRetryable: true, message: `${attempted}: ${err.message}` });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new Error(`${attempted}: ${message}`, { cause: err });
}
