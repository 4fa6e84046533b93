// PaimonSessions' bookkeeping, against a scripted gateway (no Flink behaviour is claimed here; the
// Paimon activity tests run the same sessions against the real gateway): which session an
// activity gets, when one is closed, and how a session the gateway forgot is replaced.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PaimonSessions, type SqlGateway } from '../../../activities/paimon/session';
import type { SqlResult } from '../../../activities/sql-gateway/client';
import { loadConfig } from '../../../src/config/config';

const paimon = loadConfig({}).paimon;
const OK: SqlResult = { columns: ['result'], rows: [['OK']] };

/** Sessions numbered s1, s2, ... in the order opened; `forget()` loses them all, as a restarted gateway does. */
class ScriptedGateway implements SqlGateway {
  opened: string[] = [];
  closed: string[] = [];
  statements: { session: string; statement: string }[] = [];
  #known = new Set<string>();

  async openSession(): Promise<string> {
    const handle = `s${this.opened.length + 1}`;
    this.opened.push(handle);
    this.#known.add(handle);
    return handle;
  }

  async execute(session: string, statement: string): Promise<SqlResult> {
    if (!this.#known.has(session)) throw new Error(`HTTP 500: Session '${session}' does not exist.`);
    this.statements.push({ session, statement });
    if (statement.startsWith('FAIL')) throw new Error('the planner refused it');
    return OK;
  }

  async closeSession(session: string): Promise<void> {
    this.closed.push(session);
    this.#known.delete(session);
  }

  forget(): void {
    this.#known.clear();
  }

  /** The statements an activity sent on `session` that were its own (not the catalog set-up). */
  work(session: string): string[] {
    return this.statements.filter((s) => s.session === session && !/^(CREATE|USE) CATALOG/.test(s.statement)).map((s) => s.statement);
  }
}

const select = (statement: string) => async (session: { run(s: string): Promise<SqlResult> }) => session.run(statement);

describe('PaimonSessions', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens a session with the catalog once, and gives it to the next activity after a clean one', async () => {
    const gateway = new ScriptedGateway();
    const sessions = new PaimonSessions(gateway, paimon);
    await sessions.use('first', select('SELECT 1'));
    await sessions.use('second', select('SELECT 2'));
    expect(gateway.opened).toEqual(['s1']);
    expect(gateway.statements.map((s) => s.statement)).toEqual([
      expect.stringMatching(/^CREATE CATALOG/),
      expect.stringMatching(/^USE CATALOG/),
      'SELECT 1',
      'SELECT 2',
    ]);
    expect(gateway.closed).toEqual([]);
  });

  it('closes the session of a failed activity, and the next activity gets a fresh one', async () => {
    const gateway = new ScriptedGateway();
    const sessions = new PaimonSessions(gateway, paimon);
    await expect(sessions.use('failing', select('FAIL please'))).rejects.toThrow(/failing: the planner refused it/);
    expect(gateway.closed).toEqual(['s1']);
    await sessions.use('next', select('SELECT 1'));
    expect(gateway.opened).toEqual(['s1', 's2']);
    expect(gateway.work('s2')).toEqual(['SELECT 1']);
  });

  it('replaces a session the gateway forgot (it restarted) before any statement of the activity ran', async () => {
    const gateway = new ScriptedGateway();
    const sessions = new PaimonSessions(gateway, paimon);
    await sessions.use('before the restart', select('SELECT 1'));
    gateway.forget();
    const result = await sessions.use('after the restart', select('SELECT 2'));
    expect(result).toEqual(OK);
    expect(gateway.opened).toEqual(['s1', 's2']);
    expect(gateway.work('s2')).toEqual(['SELECT 2']);
  });

  it('does not run an activity again once one of its statements ran: the failure is the activity\'s', async () => {
    const gateway = new ScriptedGateway();
    const sessions = new PaimonSessions(gateway, paimon);
    await sessions.use('warm-up', select('SELECT 0'));
    const twoStatements = async (session: { run(s: string): Promise<SqlResult> }) => {
      await session.run('SELECT 1');
      gateway.forget();
      return session.run('SELECT 2');
    };
    await expect(sessions.use('two statements', twoStatements)).rejects.toThrow(/two statements: .*Session 's1' does not exist/);
    expect(gateway.opened).toEqual(['s1']);
    expect(gateway.work('s1')).toEqual(['SELECT 0', 'SELECT 1']);
  });

  it('keeps at most `max` idle sessions and closes the rest', async () => {
    const gateway = new ScriptedGateway();
    const sessions = new PaimonSessions(gateway, paimon, { max: 1, maxIdleMs: 60_000 });
    await Promise.all([sessions.use('a', select('SELECT 1')), sessions.use('b', select('SELECT 2'))]);
    expect(gateway.opened).toEqual(['s1', 's2']);
    expect(gateway.closed).toHaveLength(1);
  });

  it('closes idle sessions after their idle time, even when no activity comes', async () => {
    vi.useFakeTimers();
    const gateway = new ScriptedGateway();
    const sessions = new PaimonSessions(gateway, paimon, { max: 4, maxIdleMs: 1_000 });
    await sessions.use('only', select('SELECT 1'));
    expect(gateway.closed).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_001);
    expect(gateway.closed).toEqual(['s1']);
    await sessions.use('later', select('SELECT 2'));
    expect(gateway.opened).toEqual(['s1', 's2']);
  });
});
