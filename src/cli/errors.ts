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
