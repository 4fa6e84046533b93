// Compiling a SQL deployment without running it: the script's session statements (SET, USE,
// CREATE TEMPORARY ...) in a throwaway gateway session, then EXPLAIN of its one job statement.
// The planner validates names, columns and types against the live catalog and prints the sinks.
import { FailureType } from '../errors';
import type { SqlGatewayClient } from './client';
import { changesOnlyTheSession } from './session-statements';

export type Compiled = { ok: true; sinks: string[]; notRun: string[] } | { ok: false; problem: string };

/** `INSERT ...`, `EXECUTE INSERT ...` and `EXECUTE STATEMENT SET BEGIN ... END` as EXPLAIN statements. */
export function explainStatementOf(jobStatement: string): string {
  return `EXPLAIN ${jobStatement.replace(/^EXECUTE\s+/i, '')}`;
}

/**
 * The tables the plan writes, from the `Sink(table=[catalog.db.table], ...)` lines of EXPLAIN's
 * optimized physical plan, as the planner names them (backticks dropped).
 */
export function sinksOfPlan(plan: string): string[] {
  const physical = plan.split('== Optimized Physical Plan ==')[1]?.split('== Optimized Execution Plan ==')[0] ?? '';
  const names = [...physical.matchAll(/^\s*Sink\(table=\[([^\]]+)\]/gm)].map((m) => m[1]!.replace(/`/g, ''));
  return [...new Set(names)].sort();
}

export async function compileSqlJob(
  gateway: SqlGatewayClient,
  setup: { statement: string; redact: string[] },
  statements: string[],
  isJobStatement: (statement: string) => boolean,
): Promise<Compiled> {
  const jobStatements = statements.filter(isJobStatement);
  if (jobStatements.length !== 1) {
    return {
      ok: false,
      problem:
        `the script must start exactly one job (one INSERT or one EXECUTE STATEMENT SET BEGIN ... END), and it has ${jobStatements.length}. ` +
        'Put several INSERTs in one statement set.',
    };
  }
  const session = await gateway.openSession({}, 'deployment-check');
  const notRun: string[] = [];
  try {
    await gateway.execute(session, setup.statement, { redact: setup.redact });
    for (const statement of statements) {
      if (isJobStatement(statement)) continue;
      if (!changesOnlyTheSession(statement)) {
        notRun.push(statement.split('\n')[0]!.slice(0, 120));
        continue;
      }
      const failed = await rejection(() => gateway.execute(session, statement));
      if (failed) return { ok: false, problem: failed };
    }
    let plan = '';
    const failed = await rejection(async () => {
      const result = await gateway.execute(session, explainStatementOf(jobStatements[0]!));
      plan = result.rows.map((row) => String(row[0])).join('\n');
    });
    if (failed) {
      const skipped = notRun.length > 0 ? ` (the check did not run ${notRun.length} statement(s) that change the catalog: ${notRun.join('; ')})` : '';
      return { ok: false, problem: `${failed}${skipped}` };
    }
    return { ok: true, sinks: sinksOfPlan(plan), notRun };
  } finally {
    await gateway.closeSession(session).catch(() => undefined);
  }
}

/** The planner's own words when the gateway rejects a statement (SqlFailed); other errors are rethrown. */
async function rejection(call: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await call();
    return undefined;
  } catch (err) {
    if ((err as { type?: string }).type !== FailureType.SqlFailed) throw err;
    return plannerMessage((err as Error).message);
  }
}

/**
 * The client's SqlFailed message is "the SQL gateway rejected <first line>: <root cause>" (the
 * deepest `Caused by:` of the planner's exception, e.g. "SqlValidatorException: Column 'nope' not
 * found in any table"): the cause first, then the statement it came from.
 */
export function plannerMessage(message: string): string {
  const match = /^the SQL gateway rejected (.*?): (\w+(?:Exception|Error)\b.*)$/s.exec(message);
  return match ? `${match[2]} (in: ${match[1]})` : message.replace(/^the SQL gateway rejected /, '');
}
