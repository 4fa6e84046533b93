import { spawn } from 'node:child_process';
import path from 'node:path';
import type { BundleOptions, WorkflowBundle } from '@temporalio/worker';

/**
 * The workflows folder as a directory rather than require.resolve('../workflows'): Node's resolver
 * only knows .js, while Temporal's bundler (webpack, resolving .ts and .js) finds
 * workflows/index.ts under vitest and dist/workflows/index.js after a build.
 */
export const workflowsPath = path.resolve(__dirname, '../../workflows');

/**
 * What every bundle of our workflows is built with: the worker's and the workflow tests', so the
 * tests run the sandbox the worker runs. workflows/preload.ts is evaluated once per worker (zod
 * and the signature checks' curves and hashes shared by all runs) instead of once per run.
 */
export const workflowBundleOptions = {
  workflowsPath,
  preloadModules: [path.join(workflowsPath, 'preload')],
} satisfies Pick<BundleOptions, 'workflowsPath' | 'preloadModules'>;

/** The bundler's own progress lines stay out of the worker's output; its warnings do not. */
const BUNDLE_PROGRAM = `
const { bundleWorkflowCode } = require(process.env.TEMPORAL_WORKER_MODULE);
const quiet = () => undefined;
const logger = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: console.warn, error: console.error };
bundleWorkflowCode({ ...JSON.parse(process.env.WORKFLOW_BUNDLE_OPTIONS), logger }).then(
  ({ code }) => process.send(code, () => process.disconnect()),
  (err) => { console.error(err); process.exitCode = 1; process.disconnect(); },
);`;

/**
 * Bundles the workflows in a child process, fresh on every call. Webpack bundling in the worker's
 * own process left it at ~320 MiB RSS (heap ~140 MiB) before its first workflow; the child's
 * memory goes when it exits (bench/README.md, P4). Built from the sources at every worker start, a
 * bundle can never be older than the code beside it. A program passed with -e rather than a
 * file: it runs the same under vitest (TypeScript sources) and from dist/ or the Docker image.
 */
export async function bundleWorkflowsApart(): Promise<WorkflowBundle> {
  const child = spawn(process.execPath, ['-e', BUNDLE_PROGRAM], {
    env: {
      ...process.env,
      TEMPORAL_WORKER_MODULE: require.resolve('@temporalio/worker'),
      WORKFLOW_BUNDLE_OPTIONS: JSON.stringify(workflowBundleOptions),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let code: string | undefined;
    child.once('message', (message) => (code = String(message)));
    child.once('error', reject);
    child.once('exit', (exitCode, signal) => {
      if (code !== undefined) resolve({ code });
      else reject(new Error(`bundling the workflows failed (${signal ?? `exit ${exitCode}`}); see its output above`));
    });
  });
}
