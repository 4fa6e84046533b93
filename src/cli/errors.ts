/** Wrong flags or arguments: exit code 2, with the one-line reason. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The operation was refused or did not succeed: exit code 1, with its one-line reason on stderr.
 * What the command printed before (a result, `--json`) stays on stdout.
 */
export class CommandFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandFailed';
  }
}

/** Every command exits with one of these; each command's --help lists them. */
export const EXIT_CODES_HELP = `Exit codes (the same for every command):
  0   done
  1   refused or failed: one line on stderr says why (with --json, what was printed stays on stdout)
  2   wrong usage: a flag or argument is missing or not valid; nothing was started`;

/**
 * Whether `err` says the connection to Temporal is gone (grpc-js: "Channel has been shut down",
 * status 14 UNAVAILABLE, a reset or refused socket), rather than an answer from the server.
 */
export function connectionLost(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (code === 14 || /Channel has been shut down|UNAVAILABLE|ECONNREFUSED|ECONNRESET|EPIPE|Connection dropped|Failed to connect|No connection established/i.test(e.message)) {
      return e.message.split('\n')[0];
    }
  }
  return undefined;
}

/** What to say when the connection went away: which workflow this command had started or was waiting on, and where to look. */
export function connectionLostText(address: string, cause: string, workflowId?: string): string {
  if (workflowId === undefined) return `cannot reach Temporal at ${address}: ${cause}`;
  return (
    `lost the connection to Temporal at ${address} while working with workflow ${workflowId} (${cause}). ` +
    `The workflow goes on without this command; see where it is with: savepointctl status ${workflowId}`
  );
}
