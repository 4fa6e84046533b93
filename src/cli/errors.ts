/** Wrong flags or arguments: exit code 2, with the one-line reason. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
