// Plumbing for P4: child processes that talk over IPC, the fake's control API, and reading a
// phase's outcome back from the Temporal dev server's visibility.
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { percentile } from './stats';

export interface Child {
  process: ChildProcess;
  /** The next message of this type from the child. */
  next<T>(type: string): Promise<T>;
}

export function forkChild(file: string, env: NodeJS.ProcessEnv, execArgv: string[] = []): Child {
  // The child's stdout goes to our stderr: stdout is for the results table.
  const child = fork(path.join(__dirname, file), [], { env, execArgv, stdio: ['ignore', 2, 2, 'ipc'] });
  const waiting: { type: string; resolve: (m: any) => void; reject: (e: Error) => void }[] = [];
  child.on('message', (m: { type: string }) => {
    const i = waiting.findIndex((w) => w.type === m.type);
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(m);
  });
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`${file} exited (${code}) before sending '${w.type}'`));
  });
  return { process: child, next: (type) => new Promise((resolve, reject) => waiting.push({ type, resolve, reject })) };
}

/** Asks a child to stop, and kills it if it has not exited within `graceMs`. */
export async function stopChild(child: Child, graceMs = 15_000): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = new Promise((r) => child.process.once('exit', r));
  child.process.send({ type: 'stop' });
  await Promise.race([exited, new Promise((r) => setTimeout(r, graceMs))]);
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill();
}

export async function fakeCall<T>(port: number, method: string, urlPath: string, body?: unknown): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`fake ${method} ${urlPath}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

export const pad = (i: number) => String(i).padStart(4, '0');

export interface ClosedRun {
  workflowId: string;
  runId: string;
  status: string;
  startMs: number;
  closeMs: number;
}

/** The phase's workflows of a type: on a server of its own, every one; on a shared server, its task queue's. */
const ofPhase = (type: string, taskQueue?: string) => `WorkflowType = '${type}'${taskQueue ? ` AND TaskQueue = '${taskQueue}'` : ''}`;

/** Closed workflows of a type, with their server start and close times. */
export async function closedRuns(client: Client, type: string, taskQueue?: string): Promise<ClosedRun[]> {
  const runs: ClosedRun[] = [];
  for await (const wf of client.workflow.list({ query: `${ofPhase(type, taskQueue)} AND ExecutionStatus != 'Running'` })) {
    // A savepoint started under another id runs its work as a child under the job's operation id
    // (one operation per job): the phase counts the runs it started, not their children.
    if (wf.parentExecution) continue;
    runs.push({ workflowId: wf.workflowId, runId: wf.runId, status: wf.status.name, startMs: wf.startTime.getTime(), closeMs: wf.closeTime?.getTime() ?? Number.NaN });
  }
  return runs;
}

/** Waits until `n` workflows of a type have closed; false when `timeoutMs` passed first. */
export async function waitClosed(client: Client, type: string, n: number, timeoutMs: number, taskQueue?: string): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { count } = await client.workflow.count(`${ofPhase(type, taskQueue)} AND ExecutionStatus != 'Running'`);
    // The count includes children (see closedRuns): only list when it could be enough.
    if (count >= n && (await closedRuns(client, type, taskQueue)).length >= n) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** Terminates what still runs when a phase's time is up; returns how many. */
export async function terminateRunning(client: Client, type: string, taskQueue?: string): Promise<number> {
  const running: { workflowId: string; runId: string }[] = [];
  for await (const wf of client.workflow.list({ query: `${ofPhase(type, taskQueue)} AND ExecutionStatus = 'Running'` })) running.push(wf);
  await Promise.all(running.map((wf) => client.workflow.getHandle(wf.workflowId, wf.runId).terminate('benchmark phase time is up').catch(() => undefined)));
  return running.length;
}

/** Why workflows failed, grouped by their innermost cause with ids and numbers masked. */
export async function failureReasons(client: Client, runs: ClosedRun[]): Promise<Record<string, number>> {
  const reasons: Record<string, number> = {};
  await Promise.all(
    runs
      .filter((r) => r.status === 'FAILED')
      .map(async (r) => {
        let message = 'unknown';
        try {
          await client.workflow.getHandle(r.workflowId, r.runId).result();
        } catch (err) {
          let e: unknown = err;
          while (e instanceof Error && e.cause instanceof Error) e = e.cause;
          message = e instanceof Error ? e.message : String(e);
        }
        const key = message.replace(/[0-9a-f]{32}/g, '<id>').replace(/\d+/g, 'N').slice(0, 240);
        reasons[key] = (reasons[key] ?? 0) + 1;
      }),
  );
  return reasons;
}

/** Throughput and latency of a phase that began (client side) at t0. */
export function latencyStats(runs: ClosedRun[], t0: number, requested: number) {
  const latencies = runs.map((r) => r.closeMs - r.startMs);
  const lastClose = runs.length > 0 ? Math.max(...runs.map((r) => r.closeMs)) : Number.NaN;
  const statuses: Record<string, number> = {};
  for (const r of runs) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  return {
    requested,
    closed: runs.length,
    statuses,
    /** first start call -> last close */
    wallMs: lastClose - t0,
    /** first start call -> the last closed run's start, as the server recorded it: how long starting took */
    lastStartMs: runs.length > 0 ? Math.max(...runs.map((r) => r.startMs)) - t0 : Number.NaN,
    throughputPerS: runs.length / ((lastClose - t0) / 1000),
    p50LatencyMs: percentile(latencies, 50),
    p99LatencyMs: percentile(latencies, 99),
    maxLatencyMs: runs.length > 0 ? Math.max(...latencies) : Number.NaN,
  };
}

/** CPU time (user + system) a process has used so far, from /proc; NaN where there is no /proc. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in clock ticks (100 Hz on Linux).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/**
 * The pid of the Temporal server listening on `address`'s port, found by its command line: the
 * dev server (`start-dev … <port>`), else the server scripts/stack.sh started with
 * STACK_TEMPORAL=server (its pid file in $STACK_HOME/run).
 */
export function devServerPid(address: string): number | undefined {
  const port = address.split(':').pop();
  const stackHome = process.env.STACK_HOME;
  if (stackHome) {
    try {
      const pid = Number(readFileSync(`${stackHome}/run/temporal-server.pid`, 'utf8').trim());
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('temporal-server') && process.env.BENCH_P4_TEMPORAL_ADDRESS === address) return pid;
    } catch {
      // no such server
    }
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd.includes('start-dev') && cmd.includes(String(port))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** A TCP port free on 127.0.0.1 right now (the kernel's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
