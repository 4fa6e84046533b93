import { ConfigError, loadConfig } from '../config/config';
import { runWorker } from './worker';

// Only the worker, against whatever the environment names: the Docker image's entry point.

async function main(): Promise<void> {
  const config = loadConfig();
  await runWorker(config, () =>
    console.log(
      `worker running: ${config.temporal.address}, namespace '${config.temporal.namespace}', task queue '${config.temporal.taskQueue}'`,
    ),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exitCode = 1;
});
