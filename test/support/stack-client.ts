// A Temporal client to the shared stack's server, as the real-stack suites connect one.
import { Client, Connection } from '@temporalio/client';
import { config } from './stack';

export const STACK_DOWN = "run 'bash scripts/stack.sh up' (npm test does)";

/** A client to the stack's Temporal server; fails with what to do when the server is not up. */
export async function connectStackClient(): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: '5s' }).catch((err: Error) => {
    throw new Error(`Temporal is not reachable at ${config.temporal.address} (${err.message}): ${STACK_DOWN}`);
  });
  return new Client({ connection, namespace: config.temporal.namespace });
}
