// savepointctl as people run it: separate processes, several at once, stdout and stderr in one
// terminal (2>&1). Each says what it waits for, a failure's line starts on a line of its own,
// nothing dies with a stack trace; a connection to Temporal lost after the workflow started is
// said in words with the workflow's id (the proxy in between is closed, as a network would drop).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { build } from 'esbuild';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { repoRoot } from '../../src/config/repo-root';
import { createClient } from '../../src/client/temporal-connection';
import { startInProcessWorker, type InProcessWorker } from '../support/in-process-worker';
import { testApprovers } from '../support/approvals';
import { config, requireStack } from '../support/stack';
import { unique } from '../support/temporal-env';

const STAMP = Date.now().toString(36);
const BUNDLE = path.join(repoRoot(), '.test-results', `savepointctl-${STAMP}.cjs`);
const taskQueue = unique('ux-clis');

interface Run {
  code: number | null;
  /** stdout and stderr as one terminal shows them */
  output: string;
}

/** savepointctl ARGS in a process of its own, its stderr into its stdout; `onOutput` sees the text as it comes. */
function savepointctl(args: string[], onOutput?: (text: string) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', `exec node '${BUNDLE}' "$@" 2>&1`, 'savepointctl', ...args], {
      env: { ...process.env, TEMPORAL_TASK_QUEUE: taskQueue },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      onOutput?.(output);
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}

const NO_STACK = /^\s+at |^\w*Error: |node:internal|grpc-js/m;

let worker: InProcessWorker | undefined;
let client: Client;

beforeAll(async () => {
  await requireStack();
  mkdirSync(path.dirname(BUNDLE), { recursive: true });
  await build({
    entryPoints: [path.join(repoRoot(), 'src', 'cli', 'savepointctl.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    outfile: BUNDLE,
    logLevel: 'warning',
  });
  worker = await startInProcessWorker(config, taskQueue, createActivities(config));
  client = await createClient(config);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await client?.connection.close();
});

describe('several savepointctl processes at once', () => {
  it('each says what it waits for, ends with its own exit code, and its error starts on a line of its own', async () => {
    const jobs = [1, 2, 3].map((i) => `ux-clis-${STAMP}-${i}`);
    const upgrade = (job: string) =>
      savepointctl([
        'upgrade', '--job-name', job, '--table', 'ux_clis.t', '--new-version', 'v2', '--new-sql-file', 'v2.sql',
        '--old-version', 'v1', '--old-sql-file', 'v1.sql', '--wait',
      ]);
    const [a, b, c, approve, status] = await Promise.all([
      upgrade(jobs[0]!),
      upgrade(jobs[1]!),
      upgrade(jobs[2]!),
      savepointctl(['approve', `ux-clis-${STAMP}-none`, '--as', 'alice', '--key', testApprovers().keyFile('alice')]),
      savepointctl(['status', `ux-clis-${STAMP}-none`]),
    ]);
    for (const [run, job] of [[a, jobs[0]], [b, jobs[1]], [c, jobs[2]]] as const) {
      expect(run.code, run.output).toBe(1);
      const lines = run.output.trimEnd().split('\n');
      expect(lines[0]).toBe(`started flink-job/${job}; following its steps (Ctrl-C stops following, not the upgrade)`);
      expect(lines).toContain('  preflight');
      // The refusal: the last line, a line of its own, nothing glued to a step.
      expect(lines.at(-1)).toMatch(new RegExp(`^savepointctl upgrade: .*${job}`));
      expect(run.output).not.toMatch(/preflightsavepointctl/);
      expect(run.output).not.toMatch(NO_STACK);
    }
    expect(approve.code, approve.output).toBe(1);
    // It signs the plan it reads first: with no restore there is nothing to sign, said on one line of its own.
    expect(approve.output.trimEnd().split('\n')).toEqual([expect.stringMatching(/^savepointctl approve: .*no restore waiting for approval/)]);
    expect(approve.output).not.toMatch(NO_STACK);
    expect(status).toMatchObject({ code: 1, output: expect.stringMatching(/^savepointctl status: no operation for /) });

    // status by the job's name shows the refusal's reason, as the memo keeps it for the Temporal UI.
    const shown = await savepointctl(['status', jobs[0]!]);
    expect(shown.code, shown.output).toBe(0);
    expect(shown.output).toMatch(new RegExp(`^upgradeWorkflow flink-job/${jobs[0]}: FAILED`));
    const reason = /^ {2}reason: (.+)$/m.exec(shown.output)?.[1];
    expect(reason).toContain(jobs[0]);
    expect(shown.output).toMatch(/preflight\s+\S+\s+\(ended here\)/);
    const json = JSON.parse((await savepointctl(['status', jobs[0]!, '--json'])).output) as { memo: { outcome: string; reason: string } };
    expect(json.memo).toEqual({ outcome: 'failed', reason });
  }, 180_000);

  it('a connection lost after the workflow started: one line that says so with the workflow id, exit 1, no stack trace', async () => {
    const job = `ux-clis-${STAMP}-lost`;
    const sockets: net.Socket[] = [];
    const proxy = net.createServer((downstream) => {
      const upstream = net.connect(Number(config.temporal.address.split(':')[1]), config.temporal.address.split(':')[0]);
      for (const s of [downstream, upstream]) {
        s.on('error', () => undefined);
        sockets.push(s);
      }
      downstream.pipe(upstream).pipe(downstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    let cut = false;
    // No worker polls this queue: the upgrade waits in its first step while the connection goes.
    const run = await savepointctl(
      [
        'upgrade', '--job-name', job, '--table', 'ux_clis.t', '--new-version', 'v2', '--new-sql-file', 'v2.sql',
        '--old-version', 'v1', '--old-sql-file', 'v1.sql', '--wait', '--temporal-address', address, '--task-queue', `${taskQueue}-nobody`,
      ],
      (text) => {
        if (cut || !text.includes('started flink-job/')) return;
        cut = true;
        proxy.close();
        for (const s of sockets) s.destroy();
      },
    );
    try {
      expect(cut).toBe(true);
      expect(run.code, run.output).toBe(1);
      expect(run.output.trimEnd().split('\n').at(-1)).toMatch(
        new RegExp(`^savepointctl upgrade: lost the connection to Temporal at ${address} while working with workflow flink-job/${job} \\(.+\\)\\. The workflow goes on without this command`),
      );
      expect(run.output).not.toMatch(NO_STACK);
    } finally {
      await client.workflow.getHandle(`flink-job/${job}`).terminate('test over').catch(() => undefined);
    }
  }, 180_000);
});
