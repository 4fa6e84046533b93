// Named activity option presets (samples-typescript saga: defaultActivity, longRunningActivity).
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { FailureType } from '../src/domain/failure-types';

/**
 * Failures no retry can fix. Our activities already raise them non-retryable; listing the types
 * here keeps that true for one raised as retryable by mistake.
 */
const nonRetryableErrorTypes = [
  FailureType.JobNotFound,
  FailureType.JobNotRunning,
  FailureType.JobNameAmbiguous,
  FailureType.InvalidInput,
  FailureType.UnsupportedFlinkVersion,
  FailureType.SavepointFailed,
  FailureType.SavepointNotFound,
  FailureType.DeployFailed,
  FailureType.DeploymentCheckFailed,
  FailureType.NoRecentCheckpoint,
  FailureType.UnexpectedResponse,
  FailureType.TableNotFound,
  FailureType.TagMissing,
  FailureType.InvalidIdentifier,
  FailureType.SqlFailed,
];

/** A REST call or a SQL statement: quick, retried with backoff while Flink or the gateway is away. */
export const restCall: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 6,
    nonRetryableErrorTypes,
  },
};

/**
 * A short call made as a local activity (workflows/short-steps.ts): the same timeout and retries as a
 * REST call, retried inside the worker.
 */
export const localCall: LocalActivityOptions = { startToCloseTimeout: restCall.startToCloseTimeout, retry: restCall.retry };

/**
 * Rolling a sink table back mid-restore: once the first table is rolled back, giving up leaves the
 * tables half-way, so outlast a SQL gateway restart (about 2.5 minutes of retries) first.
 */
export const tableRollback: ActivityOptions = {
  ...restCall,
  retry: { ...restCall.retry, maximumAttempts: 10 },
};

/**
 * Submitting a job: a jar upload or a SQL script through the gateway, slower than a REST call. It
 * heartbeats after the upload and after each statement, so a worker that dies mid-deploy is
 * noticed within the heartbeat timeout rather than the 5 minutes; the retry finds the job the
 * first attempt submitted by its deploy token.
 */
export const submitCall: ActivityOptions = {
  ...restCall,
  startToCloseTimeout: '5m',
  heartbeatTimeout: '1m',
};

/** Room for the last poll and the answer after the activity's own deadline. */
const MARGIN_MS = 60_000;

/**
 * A bounded wait that polls Flink or Paimon (savepoint, tag, health): it heartbeats, so a worker
 * restart is noticed within the heartbeat timeout and the retry resumes the same wait.
 */
export const longRunning = (timeoutMs: number): ActivityOptions => ({
  startToCloseTimeout: timeoutMs + MARGIN_MS,
  heartbeatTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 4,
    nonRetryableErrorTypes,
  },
});

/**
 * A savepoint's wait (stop-with-savepoint, or an intermediate one): with a stop the job is down
 * meanwhile, so a worker that dies mid-wait must be noticed in seconds, not half a minute. The
 * activity heartbeats before its first call and at every poll (FLINK_SAVEPOINT_POLL_INTERVAL_MS),
 * well inside 10 s; the retry resumes the same trigger id from Flink's answer.
 */
export const savepointWait = (timeoutMs: number): ActivityOptions => ({ ...longRunning(timeoutMs), heartbeatTimeout: '10s' });

/** The longest the approvers' keys are waited on with no change: then the same keys come back and the wait starts again. */
export const APPROVER_KEYS_MAX_WAIT_MS = 60 * 60_000;

/**
 * The approval gate's wait for a change of the allowed-signers file (activities/approvers): long,
 * heartbeating, and retried for as long as the gate waits (a worker restart must not leave it blind).
 */
export const approverKeysWait: ActivityOptions = {
  startToCloseTimeout: APPROVER_KEYS_MAX_WAIT_MS + MARGIN_MS,
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
};
