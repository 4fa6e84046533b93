// Calling activities in tests the way a worker would, and asserting how they fail.
import { ApplicationFailure } from '@temporalio/common';
import type { Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogLevel } from '@temporalio/worker';
import { expect } from 'vitest';

/** An activity context; the expected failures of these tests log at WARN, so only ERROR shows. */
export function activityEnv(info: Partial<Info> = {}): MockActivityEnvironment {
  const level = (process.env.TEST_LOG_LEVEL ?? 'ERROR') as LogLevel;
  return new MockActivityEnvironment(info, { logger: new DefaultLogger(level) });
}

/** Calls an activity the way a worker would, so Context.current() (heartbeat, sleep, log) works. */
export function run<I, O>(fn: (input: I) => Promise<O>, input: I, env = activityEnv()): Promise<O> {
  return env.run(fn, input);
}

export async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err,
  );
}

/** Asserts a non-retryable ApplicationFailure of this type; returns it for message checks. */
export async function expectFatal(promise: Promise<unknown>, type: string): Promise<ApplicationFailure> {
  const err = await failureOf(promise);
  expect(err, String(err)).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).type, (err as Error).message).toBe(type);
  expect((err as ApplicationFailure).nonRetryable).toBe(true);
  return err as ApplicationFailure;
}

/** Asserts an error Temporal would retry: a plain Error or a retryable ApplicationFailure. */
export async function expectRetryable(promise: Promise<unknown>): Promise<Error> {
  const err = await failureOf(promise);
  expect(err).toBeInstanceOf(Error);
  if (err instanceof ApplicationFailure) expect(err.nonRetryable, err.message).toBe(false);
  return err as Error;
}
