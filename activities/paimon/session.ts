// SQL gateway sessions for the Paimon activities, with the Paimon catalog in use: one activity at
// a time each, kept for the next activity after a clean one (PaimonSessions).
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import type { Config } from '../../src/config/config';
import { FailureType, fatal } from '../errors';
import { rowObjects, type ExecuteOptions, type SqlResult } from '../sql-gateway/client';
import { identifier } from './identifiers';
import { READ_JOB_NAME } from './read-cluster';
import { createCatalog, useCatalog } from './sql';

/** What we need of activities/sql-gateway's SqlGatewayClient (tests wrap it to count calls). */
export interface SqlGateway {
  openSession(properties?: Record<string, string>, sessionName?: string): Promise<string>;
  execute(sessionHandle: string, statement: string, options?: ExecuteOptions): Promise<SqlResult>;
  closeSession(sessionHandle: string): Promise<void>;
}

/** Before a statement that starts a Flink job: throws when the job could not get a task slot. */
export type SlotCheck = (attempted: string, signal?: AbortSignal) => Promise<void>;

const SESSION_PROPERTIES = {
  // Batch: a SELECT on a Paimon table or system table is a bounded job that ends with its
  // result; in streaming mode COUNT(*) would read the table continuously and never finish.
  'execution.runtime-mode': 'batch',
  // Our queries are read-only and short: one that fails should say why at once, instead of being
  // restarted by the cluster's restart strategy (scripts/stack.sh: fixed-delay, 1000000 attempts)
  // until the statement timeout, as a read of a missing snapshot file otherwise is.
  'restart-strategy.type': 'none',
  // Names every read's job in the Flink UI, and tells the slot check our reads from others' jobs.
  'pipeline.name': READ_JOB_NAME,
};

// Of our statements only queries start a job; CREATE CATALOG, USE, SHOW and the procedures
// (CALL sys.create_tag, delete_tag, rollback_to) run inside the gateway.
const startsJob = (statement: string): boolean => /^\s*SELECT\b/i.test(statement);

export class PaimonSession {
  /** Statements that ran to their end in this activity. */
  statementsDone = 0;

  constructor(
    private readonly gateway: SqlGateway,
    readonly handle: string,
    /** What the activity is doing, e.g. "rollbackToTag demo.seq_a to 'savepoint-12'": every message starts with it. */
    readonly attempted: string,
    private readonly secrets: string[],
    private readonly slotCheck?: SlotCheck,
  ) {}

  async run(statement: string): Promise<SqlResult> {
    const signal = activitySignal();
    if (this.slotCheck && startsJob(statement)) await this.slotCheck(this.attempted, signal);
    try {
      const result = await this.gateway.execute(this.handle, statement, { redact: this.secrets, signal });
      this.statementsDone++;
      return result;
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

/** How many clean sessions wait for the next activity, and for how long at most. */
export interface IdleSessionLimits {
  max: number;
  maxIdleMs: number;
}

/**
 * Paimon sessions for activities, one activity at a time each. A session that served an activity
 * cleanly waits for the next one instead of being closed: opening a session and making the catalog
 * cost 3 calls and 2 statements (closing one another call), more than most activities' own work.
 * A session whose activity failed or was cancelled is closed, which also cancels a query job still
 * running on the cluster (e.g. after a timeout). Idle sessions are closed well within the gateway's
 * own idle timeout (sql-gateway.session.idle-timeout, 10 minutes by default), and one the gateway
 * forgot anyway (it restarted) is replaced before any statement of the activity ran.
 */
export class PaimonSessions {
  readonly #idle: { handle: string; since: number }[] = [];
  #sweep: NodeJS.Timeout | undefined;

  constructor(
    private readonly gateway: SqlGateway,
    private readonly paimon: Config['paimon'],
    private readonly limits: IdleSessionLimits = { max: 16, maxIdleMs: 60_000 },
    /** Where the reads' jobs go (read-cluster.ts), and the check that they can get a slot there. */
    private readonly cluster: { properties?: Record<string, string>; slotCheck?: SlotCheck } = {},
  ) {}

  async use<T>(attempted: string, work: (session: PaimonSession) => Promise<T>): Promise<T> {
    const catalog = identifier('catalog', this.paimon.catalog, attempted);
    const secrets = Object.values(this.paimon.catalogOptions.reveal());
    const idle = this.#takeIdle();
    if (idle !== undefined) {
      const session = new PaimonSession(this.gateway, idle, attempted, secrets, this.cluster.slotCheck);
      try {
        return await this.#served(session, work);
      } catch (err) {
        if (session.statementsDone > 0 || !sessionGone(err)) throw err;
        // Nothing of the activity ran: the gateway lost its sessions, so every idle one is gone too.
        this.#idle.length = 0;
      }
    }
    let handle: string;
    try {
      handle = await this.gateway.openSession({ ...SESSION_PROPERTIES, ...this.cluster.properties }, 'paimon-activities');
    } catch (err) {
      throw withContext(err, attempted, activitySignal());
    }
    const session = new PaimonSession(this.gateway, handle, attempted, secrets, this.cluster.slotCheck);
    return this.#served(session, async () => {
      await session.run(createCatalog(catalog, this.paimon));
      await session.run(useCatalog(catalog));
      return work(session);
    });
  }

  async #served<T>(session: PaimonSession, work: (session: PaimonSession) => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await work(session);
    } catch (err) {
      await this.gateway.closeSession(session.handle).catch(() => undefined);
      throw err;
    }
    if (this.#idle.length < this.limits.max) {
      this.#idle.push({ handle: session.handle, since: Date.now() });
      this.#sweepLater();
    } else {
      await this.gateway.closeSession(session.handle).catch(() => undefined);
    }
    return result;
  }

  /** Closes sessions past their idle time even when no activity comes to take one. */
  #sweepLater(): void {
    if (this.#sweep !== undefined) return;
    this.#sweep = setTimeout(() => {
      this.#sweep = undefined;
      this.#closeExpired();
      if (this.#idle.length > 0) this.#sweepLater();
    }, this.limits.maxIdleMs);
    // Idle sessions never keep a worker (or a script) from exiting.
    this.#sweep.unref();
  }

  #closeExpired(): void {
    const cutoff = Date.now() - this.limits.maxIdleMs;
    const expired = this.#idle.filter((s) => s.since <= cutoff);
    if (expired.length === 0) return;
    this.#idle.splice(0, this.#idle.length, ...this.#idle.filter((s) => s.since > cutoff));
    for (const s of expired) void this.gateway.closeSession(s.handle).catch(() => undefined);
  }

  /** The most recently used idle session; ones past their idle time are closed. */
  #takeIdle(): string | undefined {
    this.#closeExpired();
    return this.#idle.pop()?.handle;
  }
}

/** The gateway does not know the session (it restarted, or expired it). */
function sessionGone(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (/Session '[^']*' does not exist/.test(e.message)) return true;
  }
  return false;
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
