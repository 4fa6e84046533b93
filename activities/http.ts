// A small JSON-over-HTTP client on undici, shared by the Flink REST and SQL gateway clients:
// request timeouts, an optional Authorization header and an optional CA file for TLS. Every
// response body is parsed with a zod schema. The auth header never reaches a message or a log.
import { readFileSync } from 'node:fs';
import { Agent, FormData, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import type { Secret } from '../src/config/config';
import { FailureType, fatal } from './errors';

export interface HttpClientOptions {
  /** Names the service in messages, e.g. "Flink REST". */
  service: string;
  baseUrl: string;
  timeoutMs: number;
  authHeader?: Secret;
  caFile?: string;
  /** What the operator should check when the service does not answer. */
  unreachableHint: string;
}

/** A non-2xx answer. A plain Error (retryable) unless the caller maps its status to a failure. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    /** The server's own error, reduced to its root cause (no stack traces). */
    readonly detail: string,
    service: string,
  ) {
    super(`${service} answered ${method} ${path} with HTTP ${status}: ${detail}`);
    this.name = 'HttpStatusError';
  }
}

export interface RequestOptions {
  body?: unknown;
  form?: FormData;
  query?: Record<string, string | number | boolean | undefined>;
  signal?: AbortSignal;
}

export class HttpClient {
  readonly #options: HttpClientOptions;
  readonly #dispatcher: Dispatcher;

  constructor(options: HttpClientOptions) {
    this.#options = { ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
    this.#dispatcher = new Agent({
      connect: options.caFile ? { ca: readFileSync(options.caFile) } : undefined,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  get baseUrl(): string {
    return this.#options.baseUrl;
  }

  /** Sends a request and parses the JSON answer with `schema`. */
  async json<S extends z.ZodType>(method: string, path: string, schema: S, options: RequestOptions = {}): Promise<z.infer<S>> {
    const text = await this.text(method, path, options);
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      throw this.#unexpected(method, path, `not JSON: ${text.slice(0, 200)}`);
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw this.#unexpected(method, path, issues);
    }
    return result.data;
  }

  /** Sends a request and returns the body as text; throws HttpStatusError for non-2xx. */
  async text(method: string, path: string, options: RequestOptions = {}): Promise<string> {
    const { service, baseUrl, timeoutMs, authHeader, unreachableHint } = this.#options;
    const url = new URL(baseUrl + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (authHeader) headers.authorization = authHeader.reveal();
    let body: string | FormData | undefined;
    if (options.form) {
      body = options.form;
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let response: Dispatcher.ResponseData;
    let text: string;
    try {
      response = await request(url, { method: method as Dispatcher.HttpMethod, headers, body, signal, dispatcher: this.#dispatcher });
      text = await response.body.text();
    } catch (err) {
      if (options.signal?.aborted) throw err;
      const reason = timeout.aborted ? `no answer within ${timeoutMs} ms` : describeNetworkError(err);
      // A plain Error: Temporal retries it, which is what a flaky network or a restarting
      // JobManager needs.
      throw new Error(`${service} at ${baseUrl} did not answer ${method} ${path}: ${reason}. ${unreachableHint}`);
    }
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw new HttpStatusError(response.statusCode, method, path, summarizeServerError(text), service);
    }
    return text;
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  #unexpected(method: string, path: string, what: string) {
    return fatal(
      FailureType.UnexpectedResponse,
      `${this.#options.service} answered ${method} ${path} with a body we do not understand (${what}); ` +
        'is this the Flink version we support (1.20.x)?',
    );
  }
}

function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const code = (err as { code?: string }).code ?? (cause as { code?: string } | undefined)?.code;
  const message = cause instanceof Error ? cause.message : err.message;
  return code && !message.includes(code) ? `${code} ${message}` : message;
}

/**
 * Flink answers errors as {"errors": ["<exception with stack trace>", ...]}; the useful part is
 * the root cause (e.g. "FlinkJobNotFoundException: Could not find Flink job (...)").
 */
export function summarizeServerError(text: string): string {
  let errors: unknown;
  try {
    errors = (JSON.parse(text) as { errors?: unknown }).errors;
  } catch {
    return text.slice(0, 300) || '(empty body)';
  }
  if (!Array.isArray(errors) || errors.length === 0) return text.slice(0, 300);
  const messages = errors.map(String).filter((e) => e !== 'Internal server error.');
  return rootCause((messages.length > 0 ? messages : errors.map(String)).join('\n'));
}

/** The most telling line of a Java stack trace: its deepest "Caused by:", without the package. */
export function rootCause(stackTrace: string | undefined): string {
  if (!stackTrace) return 'no cause given';
  // The REST server wraps a trace as "<Exception on server side:\n<exception>: <message>\n\tat ...".
  const lines = stackTrace
    .replace(/^<Exception on server side:/, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const causes = lines.filter((line) => line.startsWith('Caused by:')).map((line) => line.slice('Caused by:'.length).trim());
  const root = causes.at(-1) ?? lines[0] ?? '';
  return root.replace(/^[\w.$]+\.(\w+(?:Exception|Error)):/, '$1:').slice(0, 500);
}
