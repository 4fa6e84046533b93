// The soak's reads of its tables, through the SQL gateway as every test reads them, tried again
// when the gateway or the cluster behind it did not answer in time or had no room for it: on a
// loaded machine a batch read can wait minutes for a slot or find the shared reads cluster's
// network buffers taken, and a read that never ran says nothing about the tables. A
// read that ran and failed (bad SQL, a missing tag) fails at once.
import { paimonQuery } from '../test/support/stack';

const ATTEMPTS = 5;
const NOT_ANSWERED = /did not finish|timed out|timeout|ECONNRESET|ECONNREFUSED|socket hang up|fetch failed|UND_ERR|NoResourceAvailable|Could not acquire the minimum required resources|Insufficient number of network buffers/i;

export async function soakQuery(...statements: string[]): Promise<Record<string, unknown>[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await paimonQuery(...statements);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (attempt >= ATTEMPTS || !NOT_ANSWERED.test(message)) throw err;
      process.stderr.write(`soak: a read was not answered (attempt ${attempt} of ${ATTEMPTS}), again in 15 s: ${message.slice(0, 300)}\n`);
      await new Promise((r) => setTimeout(r, 15_000));
    }
  }
}
