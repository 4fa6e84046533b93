// A thin client for Flink's SQL gateway REST API: sessions, statements, paged results.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Secret } from '../../src/config/config';
import { SQL_GATEWAY_API } from '../compat';
import { FailureType, fatal } from '../errors';
import { HttpClient, HttpStatusError } from '../http';
import {
  ExecuteStatementResponseBody,
  FetchResultsResponseBody,
  OpenSessionResponseBody,
  OperationStatusResponseBody,
} from './schemas';

export interface SqlGatewayClientOptions {
  url: string;
  requestTimeoutMs: number;
  authHeader?: Secret;
  caFile?: string;
  /** How long one statement may take until its results are complete (default 2 minutes). */
  statementTimeoutMs?: number;
  /** Longest pause between result fetches while the gateway is not ready (default RESULT_POLL_MS). */
  pollIntervalMs?: number;
}

export interface SqlResult {
  columns: string[];
  /** Field values in column order, as the gateway's JSON row format gives them. */
  rows: unknown[][];
  /** The Flink job the statement submitted (INSERT, SELECT, statement sets). */
  jobId?: string;
  resultKind?: string;
}

export interface ExecuteOptions {
  /** Stop after this many rows and close the operation (for unbounded queries). */
  maxRows?: number;
  /** Values (e.g. catalog credentials) to hide in error messages. */
  redact?: string[];
  signal?: AbortSignal;
}

// Failures where the same statement can succeed later: the gateway lost the session (it
// restarted), it could not reach the JobManager, or a batch read found the TaskManager's network
// buffers taken by other reads running at the same time.
const TRANSIENT =
  /Session '[^']*' does not exist|ConnectException|Connection refused|TimeoutException|NoResourceAvailableException|RecipientUnreachableException|Insufficient number of network buffers/;

const FIRST_PAUSE_MS = 10;
/**
 * The gateway has no long poll: a result is seen at the first fetch after it is ready, so the
 * longest pause is what a statement may lose on top of its own time. The restore's statements run
 * one after another while the job is down; a fetch that finds NOT_READY costs the gateway ~1 ms.
 */
export const RESULT_POLL_MS = 50;

const SESSIONS = `/${SQL_GATEWAY_API}/sessions`;

export class SqlGatewayClient {
  readonly #http: HttpClient;
  readonly #statementTimeoutMs: number;
  readonly #pollIntervalMs: number;

  constructor(options: SqlGatewayClientOptions) {
    this.#http = new HttpClient({
      service: 'the Flink SQL gateway',
      baseUrl: options.url,
      timeoutMs: options.requestTimeoutMs,
      authHeader: options.authHeader,
      caFile: options.caFile,
      unreachableHint: 'Check SQL_GATEWAY_URL and that the gateway runs (locally: bash scripts/stack.sh up).',
    });
    this.#statementTimeoutMs = options.statementTimeoutMs ?? 120_000;
    this.#pollIntervalMs = options.pollIntervalMs ?? RESULT_POLL_MS;
  }

  /** Opens a session; `properties` are session config (e.g. execution.savepoint.path). */
  async openSession(properties: Record<string, string> = {}, sessionName?: string): Promise<string> {
    const body = { properties, ...(sessionName ? { sessionName } : {}) };
    const res = await this.#http.json('POST', SESSIONS, OpenSessionResponseBody, { body });
    return res.sessionHandle;
  }

  /** Closes a session; a session the gateway no longer knows counts as closed. */
  async closeSession(sessionHandle: string): Promise<void> {
    try {
      await this.#http.text('DELETE', `${SESSIONS}/${encodeURIComponent(sessionHandle)}`);
    } catch (err) {
      if (!(err instanceof HttpStatusError && /does not exist/.test(err.detail))) throw err;
    }
  }

  /** Runs one statement and reads its result until the end (or `maxRows`). */
  async execute(sessionHandle: string, statement: string, options: ExecuteOptions = {}): Promise<SqlResult> {
    const session = `${SESSIONS}/${encodeURIComponent(sessionHandle)}`;
    const describe = (detail: string) => redact(`${firstLine(statement)}: ${detail}`, options.redact);
    const { operationHandle } = await this.#call(describe, () =>
      this.#http.json('POST', `${session}/statements`, ExecuteStatementResponseBody, {
        body: { statement },
        signal: options.signal,
      }),
    );
    const operation = `${session}/operations/${encodeURIComponent(operationHandle)}`;
    const result: SqlResult = { columns: [], rows: [] };
    const deadline = Date.now() + this.#statementTimeoutMs;
    let next: string | undefined = `${operation}/result/0`;
    // The first fetch almost always finds the result NOT_READY, even for a DDL statement that takes
    // the gateway ~20 ms: the pauses start short and double up to the poll interval.
    let pause = FIRST_PAUSE_MS;
    while (next !== undefined) {
      const page: FetchResultsResponseBody = await this.#call(describe, () =>
        this.#http.json('GET', next!, FetchResultsResponseBody, { query: { rowFormat: 'JSON' }, signal: options.signal }),
      );
      if (page.jobID) result.jobId = page.jobID;
      if (page.resultKind) result.resultKind = page.resultKind;
      if (page.results?.columns.length) result.columns = page.results.columns.map((c) => c.name);
      for (const row of page.results?.data ?? []) result.rows.push(row.fields);
      if (options.maxRows !== undefined && result.rows.length >= options.maxRows) {
        result.rows = result.rows.slice(0, options.maxRows);
        await this.#closeOperation(operation);
        return result;
      }
      if (page.resultType === 'EOS') return result;
      const empty = (page.results?.data.length ?? 0) === 0;
      if (page.resultType === 'PAYLOAD') {
        if (!page.nextResultUri) return result;
        next = stripQuery(page.nextResultUri);
      }
      if (page.resultType === 'NOT_READY' || empty) {
        if (Date.now() > deadline) {
          await this.#closeOperation(operation);
          throw new Error(
            `the SQL gateway did not finish ${describe(`no complete result within ${this.#statementTimeoutMs} ms`)}`,
          );
        }
        await sleep(Math.min(pause, this.#pollIntervalMs), undefined, { signal: options.signal });
        pause *= 2;
      }
    }
    return result;
  }

  async status(sessionHandle: string, operationHandle: string): Promise<string> {
    const path = `${SESSIONS}/${encodeURIComponent(sessionHandle)}/operations/${encodeURIComponent(operationHandle)}/status`;
    return (await this.#http.json('GET', path, OperationStatusResponseBody)).status;
  }

  async close(): Promise<void> {
    await this.#http.close();
  }

  async #closeOperation(operation: string): Promise<void> {
    await this.#http.text('DELETE', `${operation}/close`).catch(() => undefined);
  }

  /** Statement errors come back as HTTP 500 with the planner's exception: not worth retrying. */
  async #call<T>(describe: (detail: string) => string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof HttpStatusError && !TRANSIENT.test(err.detail) && err.status !== 503) {
        throw fatal(FailureType.SqlFailed, `the SQL gateway rejected ${describe(err.detail)}`);
      }
      throw err;
    }
  }
}

/** The rows as objects keyed by column name. */
export function rowObjects(result: SqlResult): Record<string, unknown>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((name, i) => [name, row[i]])));
}

function firstLine(statement: string): string {
  const line = statement.trim().split('\n')[0] ?? '';
  return line.length > 160 ? `${line.slice(0, 160)}...` : line;
}

function stripQuery(uri: string): string {
  return uri.split('?')[0]!;
}

function redact(text: string, secrets: string[] = []): string {
  return secrets.filter((s) => s.length > 0).reduce((out, s) => out.split(s).join('[redacted]'), text);
}
