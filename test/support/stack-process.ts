// The stack's own processes (scripts/stack.sh records their pids in $STACK_HOME/run) as fault
// tests disrupt them: freeze one, kill one, and bring back whatever is missing with `stack.sh up`.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../src/config/repo-root';
import { config } from './stack';

export type StackProcess = 'temporal' | 'jobmanager' | 'taskmanager' | 'sql-gateway';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pid stack.sh recorded for `name`, checked to be alive and to belong to this stack's folder. */
export function pidOf(name: StackProcess): number {
  const file = path.join(config.stackHome, 'run', `${name}.pid`);
  const pid = Number(readFileSync(file, 'utf8').trim());
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  if (!cmdline.includes(config.stackHome)) throw new Error(`pid ${pid} in ${file} is not this stack's ${name}`);
  return pid;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * SIGSTOP for `ms`, then SIGCONT whatever happens meanwhile: the process neither exits nor
 * answers (connections still open, requests hang). `meanwhile` runs while it is frozen.
 */
export async function freeze<T>(name: StackProcess, ms: number, meanwhile: () => Promise<T>): Promise<T> {
  const pid = pidOf(name);
  const until = Date.now() + ms;
  process.kill(pid, 'SIGSTOP');
  try {
    const seen = await meanwhile();
    await sleep(until - Date.now());
    return seen;
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

/** Sends `signal` and waits until the process is gone (SIGKILL after 30 s). */
export async function stopProcess(name: StackProcess, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  const pid = pidOf(name);
  process.kill(pid, signal);
  const deadline = Date.now() + 30_000;
  while (alive(pid)) {
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
    await sleep(200);
  }
}

const portOf = (url: string) => new URL(url.includes('://') ? url : `tcp://${url}`).port;

/**
 * `stack.sh up`: starts what is not running and waits until every service is healthy. The ports
 * come from the addresses the tests use (`stack.sh env` prints addresses, not ports), so a private
 * stack comes back where it was; FLINK_RPC_PORT and TASK_SLOTS pass through from the environment.
 */
export async function stackUp(): Promise<string> {
  const env = {
    ...process.env,
    STACK_HOME: config.stackHome,
    TEMPORAL_PORT: portOf(config.temporal.address),
    TEMPORAL_UI_PORT: portOf(config.temporal.uiUrl),
    FLINK_REST_PORT: portOf(config.flink.restUrl),
    SQL_GATEWAY_PORT: portOf(config.sqlGateway.url),
  };
  const { stdout } = await promisify(execFile)('bash', [path.join(repoRoot(), 'scripts', 'stack.sh'), 'up'], { env, encoding: 'utf8' });
  return stdout;
}
