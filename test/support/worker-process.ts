// Our worker (src/worker/main.ts) as a child process, so a fault test can SIGKILL it the way a
// crashed host would, and start a fresh one that must take over from Temporal's history alone.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../../src/config/repo-root';

export interface WorkerProcess {
  readonly pid: number;
  /** Everything it printed so far (stdout and stderr), for failure messages. */
  output(): string;
  /** SIGKILL: no shutdown, in-flight activities are simply abandoned. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within 15 s. */
  stop(): Promise<void>;
}

const READY = /worker running:/;

/** Starts the worker on `taskQueue` against the stack the environment names; resolves once it polls. */
export async function startWorkerProcess(taskQueue: string, timeoutMs = 60_000): Promise<WorkerProcess> {
  const root = repoRoot();
  // vite-node runs the TypeScript entry in this one process (no build step, no wrapper to kill).
  const child = spawn(process.execPath, [path.join(root, 'node_modules', 'vite-node', 'vite-node.mjs'), 'src/worker/main.ts'], {
    cwd: root,
    env: { ...process.env, TEMPORAL_TASK_QUEUE: taskQueue },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let printed = '';
  const collect = (chunk: Buffer) => {
    printed = (printed + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let onEarlyExit: ((code: number | null) => void) | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      onEarlyExit?.(code);
      resolve();
    }),
  );

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not start within ${timeoutMs} ms`), timeoutMs);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`worker process on ${taskQueue} ${why}:\n${printed}`));
    };
    const onData = () => {
      if (!READY.test(printed)) return;
      clearTimeout(timer);
      resolve();
    };
    child.stdout!.on('data', onData);
    onEarlyExit = (code) => fail(`exited with code ${code}`);
  });
  onEarlyExit = undefined;

  return {
    pid: child.pid!,
    output: () => printed,
    kill: () => signalAndWait(child, exited, 'SIGKILL'),
    stop: async () => {
      const killed = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await signalAndWait(child, exited, 'SIGTERM');
      clearTimeout(killed);
    },
  };
}

async function signalAndWait(child: ChildProcess, exited: Promise<void>, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  await exited;
}
