// Running a launcher (the local script or the platform's command) and reading its answer: the last
// line it prints on stdout, a JSON object with the new job's REST URL and job id. A launcher that
// fails, or answers with anything else, is a failed deploy whose message carries its output.
import { execFile } from 'node:child_process';
import { z } from 'zod';
import { FailureType, fatal } from '../errors';
import type { Launched } from './target';

const LauncherAnswer = z.object({
  restUrl: z.string().regex(/^https?:\/\/[^\s]+$/, 'restUrl is an http(s) URL'),
  jobId: z.string().regex(/^[0-9a-f]{32}$/, 'jobId is a Flink job id, 32 hex characters'),
});

export interface LauncherRun {
  /** what the launch is, for messages ("launching v2 of job 'orders' (local launcher)") */
  attempted: string;
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
}

const tail = (text: string, max = 2000) => (text.length > max ? `…${text.slice(-max)}` : text).trim();

export async function runLauncher(run: LauncherRun): Promise<Launched> {
  const { stdout, stderr, failure } = await new Promise<{ stdout: string; stderr: string; failure?: string }>((resolve) => {
    execFile(
      run.file,
      run.args,
      { env: run.env, timeout: run.timeoutMs, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8', killSignal: 'SIGTERM' },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string; signal?: string };
        const failure = e.killed
          ? `did not answer within ${run.timeoutMs} ms`
          : typeof e.code === 'number'
            ? `exited with status ${e.code}`
            : `could not run (${e.code ?? e.signal ?? e.message})`;
        resolve({ stdout, stderr, failure });
      },
    );
  });
  const output = () => `stdout: ${tail(stdout) || '(empty)'}; stderr: ${tail(stderr) || '(empty)'}`;
  if (failure) throw fatal(FailureType.DeployFailed, `${run.attempted}: the launcher ${failure}. ${output()}`);
  const last = stdout.trim().split('\n').pop() ?? '';
  let json: unknown;
  try {
    json = JSON.parse(last);
  } catch {
    json = undefined;
  }
  const answer = LauncherAnswer.safeParse(json);
  if (!answer.success) {
    const problems = json === undefined ? 'its last line is not JSON' : answer.error.issues.map((i) => i.message).join('; ');
    throw fatal(
      FailureType.DeployFailed,
      `${run.attempted}: the launcher must print {"restUrl": ..., "jobId": ...} as its last line, and ${problems}. ${output()}`,
    );
  }
  return { restUrl: answer.data.restUrl.replace(/\/+$/, ''), jobId: answer.data.jobId };
}

/** Runs a command that answers nothing (a reap): its failure is logged by the caller, never a failed deploy. */
export function runQuiet(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs, encoding: 'utf8', maxBuffer: 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ ok: !err, output: tail(`${stdout}${stderr}`) }),
    );
  });
}
