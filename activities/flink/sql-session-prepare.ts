// A SQL version's gateway session set up before the old version stops: the catalog and the
// script's leading statements that change only the session and read no table (SET, USE, temporary
// tables and functions, catalogs, modules, jars: activities/sql-gateway/session-statements.ts).
// Each is a statement of its own through the gateway, ~30-60 ms apiece on our stack, all of them
// part of the downtime when run after the stop. Statements that touch a catalog's tables (CREATE
// TABLE, ALTER, a temporary view, a table LIKE one) keep their place after the stop: run before it
// they would change or read the tables while the old version still writes them.
// A prepared session lives in the worker that prepared it; a deploy that runs on another worker,
// or after the gateway dropped the session (its idle timeout is 10 minutes by default), starts
// from a fresh session as before.
import { Context } from '@temporalio/activity';
import type { SqlGatewayClient } from '../sql-gateway/client';
import { touchesNoTable } from '../sql-gateway/session-statements';

/** What a prepared session already holds, and the session config it was opened with. */
export interface PreparedSession {
  session: string;
  /** the script's statements that ran in it, its first ones */
  ran: string[];
  /** the config it was opened with; the deploy sets what differs */
  properties: Record<string, string>;
  preparedAt: number;
}

/** Longest a prepared session is kept for its deploy: the gateway's default idle timeout. */
export const PREPARED_SESSION_TTL_MS = 10 * 60_000;

/** The script's leading statements that change only the session and read no table: safe to run while the old version still writes. */
export function sessionOnlyPrefix(statements: string[]): number {
  const n = statements.findIndex((statement) => !touchesNoTable(statement));
  return n === -1 ? statements.length : n;
}

/** The prepared sessions of this worker, by deploy id: each taken once by its deploy, or released. */
export class PreparedSessions {
  readonly #byDeployId = new Map<string, Promise<PreparedSession | undefined>>();

  constructor(private readonly gateway: SqlGatewayClient) {}

  /**
   * Opens a session with `properties`, runs `setup` (the catalog) and the script's session-only
   * prefix in it, and keeps it for the deploy of `deployId`. A second prepare of the same deploy
   * keeps the first.
   */
  async prepare(deployId: string, properties: Record<string, string>, setup: string[], statements: string[]): Promise<PreparedSession> {
    await this.#dropExpired();
    const kept = await this.#byDeployId.get(deployId);
    if (kept) return kept;
    const preparing = this.#open(deployId, properties, setup, statements);
    const entry = preparing.catch(() => undefined);
    this.#byDeployId.set(deployId, entry);
    try {
      return await preparing;
    } catch (err) {
      if (this.#byDeployId.get(deployId) === entry) this.#byDeployId.delete(deployId);
      throw err;
    }
  }

  /**
   * The session prepared for `deployId`, once its preparation is done, if the deploy can use it: not
   * past its TTL, and what ran in it is the first of `statements` (the script the deploy runs; a
   * session prepared for another script under the same token is of no use). Removed either way, so
   * a retried deploy starts afresh; one that cannot be used is closed.
   */
  async take(deployId: string, statements: string[]): Promise<PreparedSession | undefined> {
    const prepared = await this.#remove(deployId);
    if (!prepared) return undefined;
    const fresh = Date.now() - prepared.preparedAt <= PREPARED_SESSION_TTL_MS;
    if (fresh && prepared.ran.every((statement, i) => statements[i] === statement)) return prepared;
    await this.gateway.closeSession(prepared.session).catch(() => undefined);
    return undefined;
  }

  /** Closes the session prepared for a deploy that will not come. */
  async release(deployId: string): Promise<void> {
    const prepared = await this.#remove(deployId);
    if (prepared) await this.gateway.closeSession(prepared.session).catch(() => undefined);
  }

  async #remove(deployId: string): Promise<PreparedSession | undefined> {
    const entry = this.#byDeployId.get(deployId);
    if (!entry) return undefined;
    this.#byDeployId.delete(deployId);
    return entry;
  }

  async #open(deployId: string, properties: Record<string, string>, setup: string[], statements: string[]): Promise<PreparedSession> {
    const session = await this.gateway.openSession(properties, `deploy-${deployId}`);
    try {
      for (const statement of setup) await this.gateway.execute(session, statement);
      const ran = statements.slice(0, sessionOnlyPrefix(statements));
      for (const statement of ran) {
        await this.gateway.execute(session, statement);
        Context.current().heartbeat({ deployId, prepared: statement.slice(0, 40) });
      }
      return { session, ran, properties, preparedAt: Date.now() };
    } catch (err) {
      await this.gateway.closeSession(session).catch(() => undefined);
      throw err;
    }
  }

  async #dropExpired(): Promise<void> {
    const now = Date.now();
    for (const [deployId, entry] of this.#byDeployId) {
      const prepared = await entry;
      if (prepared && now - prepared.preparedAt > PREPARED_SESSION_TTL_MS) {
        this.#byDeployId.delete(deployId);
        await this.gateway.closeSession(prepared.session).catch(() => undefined);
      }
    }
  }
}
