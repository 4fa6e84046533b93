#!/usr/bin/env node
import { lastWorkflowId } from './context';
import { connectionLost, connectionLostText } from './errors';
import { main } from './main';

// The last resort: an error nothing awaited (grpc-js rejects a call made on a closed channel with
// "Channel has been shut down") ends the process with one line and exit code 1, never a stack trace.
const lastResort = (err: unknown) => {
  const lost = connectionLost(err);
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  console.error(
    `savepointctl: ${lost !== undefined ? connectionLostText(process.env.TEMPORAL_ADDRESS ?? 'TEMPORAL_ADDRESS', lost, lastWorkflowId) : message}`,
  );
  process.exit(1);
};
process.on('unhandledRejection', lastResort);
process.on('uncaughtException', lastResort);

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => lastResort(err),
);
