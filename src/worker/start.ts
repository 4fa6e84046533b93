import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { readyBanner } from './banner';
import { ConfigError, ENV_DEFAULTS, loadConfig, type Config } from '../config/config';
import { repoRoot } from '../config/repo-root';
import { runWorker } from './worker';

// `npm start`: bring up the local stack when the config points at it, then run the worker.

function usesLocalStack(config: Config): boolean {
  return (
    config.temporal.address === ENV_DEFAULTS.TEMPORAL_ADDRESS &&
    config.flink.restUrl === ENV_DEFAULTS.FLINK_REST_URL
  );
}

function stackUp(): void {
  // `up` is idempotent: it starts only what is not running and waits until all is healthy.
  const script = path.join(repoRoot(), 'scripts', 'stack.sh');
  const result = spawnSync('bash', [script, 'up'], { stdio: 'inherit' });
  if (result.error || result.status !== 0) {
    const why = result.error?.message ?? result.signal ?? `exit ${result.status}`;
    console.error(`bash scripts/stack.sh up failed (${why}); see its output above.`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const localStack = usesLocalStack(config);
  if (!localStack) {
    console.log(`TEMPORAL_ADDRESS or FLINK_REST_URL is not the local stack's; not starting scripts/stack.sh.`);
  } else if (process.env.STACK_SKIP === '1') {
    console.log('STACK_SKIP=1: not starting scripts/stack.sh.');
  } else {
    stackUp();
  }
  await runWorker(config, () => console.log(readyBanner(config, { localStack })));
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exitCode = 1;
});
