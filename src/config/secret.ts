import { inspect } from 'node:util';

// A configuration value that may carry credentials (API keys, auth headers, object-store options).

const REDACTED = '[redacted]';

/** A value that must never reach a log: every string, JSON and inspect form is a placeholder. */
export class Secret<T = string> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  reveal(): T {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}
