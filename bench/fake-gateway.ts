// The FAKE SQL gateway behind fake-flink-server.ts: sessions, statements and paged results, over
// the fake cluster's tables and jobs. It understands exactly the statements our activities send
// (activities/paimon/sql.ts, the demo pipeline scripts) and refuses anything else.
import { randomUUID } from 'node:crypto';
import type { FakeCluster } from './fake-cluster';

interface Result {
  columns: string[];
  rows: unknown[][];
  jobId?: string;
  kind: 'SUCCESS' | 'SUCCESS_WITH_CONTENT';
}

interface Session {
  properties: Record<string, string>;
  config: Record<string, string>;
  operations: Map<string, Result>;
}

const TAG_COLUMNS = ['tag_name', 'snapshot_id', 'schema_id', 'commit_time', 'record_count', 'create_time', 'time_retained'];

/** A fake table's tags as `$tags` rows: savepoint-<id> sits on snapshot <id>, kept for good (no time_retained). */
const tagRows = (names: Set<string>): unknown[][] => [...names].map((name) => [name, Number(name.slice('savepoint-'.length)), 0, '2026-01-01T00:00:00', 0, null, null]);

const ok = (): Result => ({ columns: ['result'], rows: [['OK']], kind: 'SUCCESS' });

/** What the fake cannot answer: a statement of a kind our activities did not send when it was written. */
class NotUnderstood extends Error {}

export class FakeGateway {
  private readonly sessions = new Map<string, Session>();
  /** Statements the fake did not understand, by their first 80 characters (P4 fails when any was seen). */
  readonly notUnderstood = new Map<string, number>();

  constructor(private readonly cluster: FakeCluster) {}

  openSession(properties: Record<string, string>): string {
    const handle = randomUUID();
    this.sessions.set(handle, { properties, config: {}, operations: new Map() });
    return handle;
  }

  closeSession(handle: string): void {
    this.sessions.delete(handle);
  }

  execute(handle: string, statement: string): { operationHandle: string } | { status: number; error: string } {
    const session = this.sessions.get(handle);
    if (!session) return { status: 500, error: `org.apache.flink.table.gateway.api.utils.SqlGatewayException: Session '${handle}' does not exist.` };
    try {
      const result = this.run(session, statement.trim());
      const operationHandle = randomUUID();
      session.operations.set(operationHandle, result);
      return { operationHandle };
    } catch (err) {
      if (err instanceof NotUnderstood) this.notUnderstood.set(err.message.slice(0, 80), (this.notUnderstood.get(err.message.slice(0, 80)) ?? 0) + 1);
      return { status: 500, error: `org.apache.flink.table.api.ValidationException: ${(err as Error).message}` };
    }
  }

  /** Two pages, as the gateway answers a finished statement: the rows, then end of stream. */
  fetch(handle: string, operation: string, token: number) {
    const result = this.sessions.get(handle)?.operations.get(operation);
    if (!result) return undefined;
    const columns = result.columns.map((name) => ({ name, logicalType: { type: 'VARCHAR', nullable: true } }));
    const common = { isQueryResult: result.kind === 'SUCCESS_WITH_CONTENT', jobID: result.jobId ?? null, resultKind: result.kind };
    if (token === 0) {
      return {
        ...common,
        resultType: 'PAYLOAD',
        results: { columns, rowFormat: 'JSON', data: result.rows.map((fields) => ({ kind: 'INSERT', fields })) },
        nextResultUri: `/v1/sessions/${handle}/operations/${operation}/result/1?rowFormat=JSON`,
      };
    }
    this.sessions.get(handle)?.operations.delete(operation);
    return { ...common, resultType: 'EOS', results: { columns, rowFormat: 'JSON', data: [] }, nextResultUri: null };
  }

  private run(session: Session, sql: string): Result {
    const set = /^SET\s+'([^']+)'\s*=\s*'([^']*)'$/i.exec(sql);
    if (set) return (session.config[set[1]!] = set[2]!), ok();
    if (/^SHOW DATABASES$/i.test(sql)) {
      const dbs = [...new Set([...this.cluster.tables.keys()].map((t) => t.split('.')[0]!))];
      return { columns: ['database name'], rows: dbs.map((d) => [d]), kind: 'SUCCESS_WITH_CONTENT' };
    }
    const show = /^SHOW TABLES FROM `([^`]+)`$/i.exec(sql);
    if (show) {
      const names = [...this.cluster.tables.keys()].filter((t) => t.startsWith(`${show[1]}.`)).map((t) => [t.slice(show[1]!.length + 1)]);
      return { columns: ['table name'], rows: names, kind: 'SUCCESS_WITH_CONTENT' };
    }
    if (/^(CREATE|USE|DROP|ALTER)\b/i.test(sql)) return ok();
    if (/\$options`/.test(sql)) return this.union(sql, /^SELECT '([^']+)' AS table_ref, `value` FROM `([^`]+)`\.`([^`$]+)\$options` WHERE `key` = 'sink\.savepoint\.auto-tag'$/, ['table_ref', 'value'], (ref) => [[ref, 'true']]);
    if (/\$tags` WHERE tag_name = /.test(sql)) {
      return this.union(sql, /^SELECT '([^']+)' AS table_ref FROM `([^`]+)`\.`([^`$]+)\$tags` WHERE tag_name = '([^']+)'$/, ['table_ref'], (ref, m) =>
        this.cluster.tables.get(`${m[2]}.${m[3]}`)!.has(m[4]!) ? [[ref]] : [],
      );
    }
    if (/^SELECT '[^']+' AS table_ref, tag_name, /.test(sql)) {
      return this.union(sql, /^SELECT '([^']+)' AS table_ref, tag_name, snapshot_id, schema_id, commit_time, record_count, create_time, time_retained FROM `([^`]+)`\.`([^`$]+)\$tags`$/, ['table_ref', ...TAG_COLUMNS], (ref, m) =>
        tagRows(this.cluster.tables.get(`${m[2]}.${m[3]}`)!).map((row) => [ref, ...row]),
      );
    }
    const tags = /^SELECT tag_name, snapshot_id, schema_id, commit_time, record_count, create_time, time_retained FROM `([^`]+)`\.`([^`$]+)\$tags`$/.exec(sql);
    if (tags) {
      const names = this.cluster.tables.get(`${tags[1]}.${tags[2]}`);
      if (!names) throw new Error(`Object '${tags[2]}$tags' not found`);
      return { columns: TAG_COLUMNS, rows: tagRows(names), kind: 'SUCCESS_WITH_CONTENT' };
    }
    if (/^EXPLAIN\b/i.test(sql)) {
      // The deployment check: a plan whose sinks are the tables the INSERTs name.
      const sinks = [...sql.matchAll(/INSERT\s+INTO\s+([\w.`-]+)/gi)].map((m) => `Sink(table=[${m[1]!.replace(/`/g, '')}], fields=[id, payload])`);
      const plan = `== Abstract Syntax Tree ==\n\n== Optimized Physical Plan ==\n${sinks.join('\n\n')}\n\n== Optimized Execution Plan ==\n`;
      return { columns: ['result'], rows: [[plan]], kind: 'SUCCESS_WITH_CONTENT' };
    }
    if (/^(INSERT|EXECUTE)\b/i.test(sql)) return this.submit(session, sql);
    throw new NotUnderstood(`the fake gateway does not understand: ${sql.slice(0, 120)}`);
  }

  /** `SELECT ... UNION ALL SELECT ...`, one part per table, each answered by `rows`. */
  private union(sql: string, part: RegExp, columns: string[], rows: (ref: string, m: RegExpExecArray) => unknown[][]): Result {
    const out: unknown[][] = [];
    for (const text of sql.split(' UNION ALL ')) {
      const m = part.exec(text.trim());
      if (!m) throw new NotUnderstood(`the fake gateway does not understand: ${text.slice(0, 120)}`);
      if (!this.cluster.tables.has(`${m[2]}.${m[3]}`)) throw new Error(`Object '${m[3]}' not found`);
      out.push(...rows(m[1]!, m));
    }
    return { columns, rows: out, kind: 'SUCCESS_WITH_CONTENT' };
  }

  private submit(session: Session, sql: string): Result {
    const props = { ...session.properties, ...session.config };
    const tables = [...sql.matchAll(/INSERT\s+INTO\s+`?\w+`?\.`?([\w-]+)`?\.`?([\w-]+)`?/gi)].map((m) => `${m[1]}.${m[2]}`);
    for (const t of tables) if (!this.cluster.tables.has(t)) throw new Error(`Table ${t} not found`);
    const from = props['execution.state-recovery.path'] ?? props['execution.savepoint.path'];
    const restoredId = from === undefined ? 0 : this.cluster.savepointIds.get(from);
    if (restoredId === undefined) throw new Error(`savepoint ${from} does not exist`);
    const userConfig = Object.fromEntries(
      (props['pipeline.global-job-parameters'] ?? '')
        .split(',')
        .filter((kv) => kv.includes(':'))
        .map((kv) => [kv.slice(0, kv.indexOf(':')), kv.slice(kv.indexOf(':') + 1)]),
    );
    const job = this.cluster.newJob(props['pipeline.name'] ?? 'insert-into', tables, userConfig, Date.now(), restoredId + 1);
    return { columns: ['job id'], rows: [[job.jid]], jobId: job.jid, kind: 'SUCCESS_WITH_CONTENT' };
  }
}
