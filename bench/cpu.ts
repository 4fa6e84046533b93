// CPU time spent during one route, per process of the stack it runs on: this process (the bench
// and its in-process worker: activities, workflow thread, Temporal core), the Temporal server, the
// Flink JobManager, TaskManager and SQL gateway, the reads cluster; and the whole machine. On two
// cores the workflow route's own CPU (worker, Temporal server) is taken from the same cores the
// Flink processes answer the activities with: that is where an activity's extra time can come from.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { config } from './stack';

const TICK_MS = 10; // USER_HZ is 100 on Linux

type Snapshot = Record<string, number>;

/** The stack's processes by role: the Temporal server on our port, Flink's by their log file under STACK_HOME. */
function stackProcesses(): Map<string, number> {
  const found = new Map<string, number>();
  const temporalPort = config.temporal.address.split(':').pop();
  const logs = path.join(config.stackHome, 'logs');
  const roles: [RegExp, string][] = [
    [/flink-reads-standalonesession/, 'reads JobManager'],
    [/flink-reads-taskexecutor/, 'reads TaskManager'],
    [/flink--standalonesession/, 'Flink JobManager'],
    [/flink--taskexecutor/, 'Flink TaskManager'],
    [/sql-gateway/, 'SQL gateway'],
  ];
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return found; // not Linux: no per-process figures
  }
  for (const pid of pids) {
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    if (/temporal server start-dev/.test(cmd) && cmd.includes(`--port ${temporalPort} `)) found.set('Temporal server', Number(pid));
    const log = /-Dlog\.file=(\S+)/.exec(cmd)?.[1];
    if (log?.startsWith(logs)) {
      const role = roles.find(([re]) => re.test(path.basename(log)));
      if (role) found.set(role[1], Number(pid));
    }
  }
  return found;
}

const processes = stackProcesses();

function processCpuMs(pid: number): number {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return Number.NaN;
  }
}

function machineBusyMs(): number {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait
    return (ticks.reduce((a, b) => a + b, 0) - ticks[3]! - ticks[4]!) * TICK_MS;
  } catch {
    return Number.NaN;
  }
}

function snapshot(): Snapshot {
  const own = process.cpuUsage();
  const shot: Snapshot = { 'this process (bench, worker)': (own.user + own.system) / 1000, 'machine, all processes': machineBusyMs() };
  for (const [role, pid] of processes) shot[role] = processCpuMs(pid);
  return shot;
}

/** Runs `fn`; gives its result and the CPU milliseconds each process spent meanwhile. */
export async function withCpu<T>(fn: () => Promise<T>): Promise<{ value: T; cpuMs: Snapshot }> {
  const before = snapshot();
  const value = await fn();
  const after = snapshot();
  return { value, cpuMs: Object.fromEntries(Object.keys(before).map((k) => [k, Math.round(after[k]! - before[k]!)])) };
}

export interface CpuSample {
  /** Date.now() when the snapshot was taken */
  at: number;
  shot: Snapshot;
}

/** Snapshots every `everyMs` until stopped: what each process spent between two moments of a route (cpuBetween). */
export function sampleCpu(everyMs = 100): { stop(): CpuSample[] } {
  const samples: CpuSample[] = [{ at: Date.now(), shot: snapshot() }];
  const timer = setInterval(() => samples.push({ at: Date.now(), shot: snapshot() }), everyMs);
  let stopped = false;
  return {
    stop() {
      if (!stopped) samples.push({ at: Date.now(), shot: snapshot() });
      stopped = true;
      clearInterval(timer);
      return samples;
    },
  };
}

/**
 * The CPU milliseconds each process spent from `from` to `to` (Date.now() times, e.g. Flink's job
 * timestamps on this machine), from the last sample at or before `from` to the first at or after
 * `to`: the window widened by at most one interval at each end. Undefined when the samples do not
 * cover it.
 */
export function cpuBetween(samples: CpuSample[], from: number, to: number): Snapshot | undefined {
  const start = samples.filter((s) => s.at <= from).at(-1);
  const end = samples.find((s) => s.at >= to);
  if (!start || !end) return undefined;
  return Object.fromEntries(Object.keys(start.shot).map((k) => [k, Math.round(end.shot[k]! - start.shot[k]!)]));
}
