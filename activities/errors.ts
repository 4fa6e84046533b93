// How our activities raise a failure that retrying cannot fix. The types themselves live in the
// domain (src/domain/failure-types.ts), where workflows read them too.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../src/domain/failure-types';

export { FailureType } from '../src/domain/failure-types';

/** A failure that retrying cannot fix: the workflow decides what happens next. */
export function fatal(type: FailureType, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}
