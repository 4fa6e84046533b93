// What clients and workflows share about an operation on a Flink job: its workflow id, the search
// attributes it sets, the status it reports. Pure (no Node built-ins): bundled into workflow code.
import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';
import type { JobRef } from '../src/domain/model';

/** The job as the operator named it: its id, or its name. */
export const jobLabel = (job: JobRef): string => ('jobId' in job ? job.jobId : job.jobName);

/**
 * One workflow id per Flink job for every operation on it (upgrade, restore), so that with the
 * conflict policy FAIL two operations never run on the same job at once. Keyed by the job's name
 * however the job was given (an upgrade gives the job a new id; its name stays).
 */
export const operationWorkflowId = (job: { jobName: string }): string => `flink-job/${job.jobName}`;

/** Search attributes (Keyword), registered on the server by scripts/stack.sh. */
export const flinkJobKey = defineSearchAttributeKey('FlinkJob', 'KEYWORD');
export const operationStepKey = defineSearchAttributeKey('OperationStep', 'KEYWORD');

export type UpgradeStep =
  | 'validating-input'
  | 'preflight'
  | 'stopping-with-savepoint'
  | 'awaiting-tag'
  | 'restarting-old-version'
  | 'deploying-new-version'
  | 'awaiting-health'
  | 'cancelling-new-job'
  | 'rolling-back-tables'
  | 'redeploying-old-version'
  | 'awaiting-old-version-health'
  | 'upgraded'
  | 'rolled-back'
  | 'failed';

export interface StepTiming {
  step: UpgradeStep;
  /** ISO time, workflow time */
  startedAt: string;
  /** set once the step is over */
  durationMs?: number;
}

export interface UpgradeStatus {
  step: UpgradeStep;
  job: string;
  oldJobId?: string;
  newJobId?: string;
  /** the old version's job started again from the savepoint (tag missing, or rolled back) */
  restoredJobId?: string;
  savepoint?: { id: number; path: string };
  tag?: string;
  /** idempotency tokens, computed before the call that uses them */
  triggerId?: string;
  timings: StepTiming[];
  reason?: string;
  /** whether the savepoint is in the restore-point catalog (workflows/upgrade-restore-point.ts) */
  restorePointRecorded?: boolean;
  /** why it is not, when it could not be recorded; the upgrade went on */
  restorePointNotRecorded?: string;
  /** set when the new version was started with allowNonRestoredState: what may have been dropped */
  droppedState?: string;
  /** before the stop: whether the new version claims the running job's state, or why that was not checkable */
  stateCheck?: string;
  /** before the stop: each vertex's parallelism now and in the new version (options.parallelism, vertexParallelism) */
  parallelism?: { id: string; name: string; from: number; to: number; kept?: string }[];
}

/** What allowNonRestoredState means for the operator who asked for it. */
export const droppedStateText = (version: string, savepointPath: string): string =>
  `${version} was started with allowNonRestoredState: any state in ${savepointPath} that none of its operators claims ` +
  'was dropped for good (Flink does not say which); the savepoint itself still holds it';

export type UpgradeOutcome = 'upgraded' | 'rolled-back' | 'failed';

export interface UpgradeResult extends UpgradeStatus {
  status: UpgradeOutcome;
  /** What an operator does next, when the workflow left something for a human. */
  instructions?: string;
}

export const statusQuery = defineQuery<UpgradeStatus>('status');

/** Failure types the workflows raise themselves (activity failure types: activities/errors.ts). */
export const WorkflowFailureType = {
  InvalidInput: 'InvalidInput',
  JobNotRunning: 'JobNotRunning',
  TableNotFound: 'TableNotFound',
  AutoTagDisabled: 'AutoTagDisabled',
  TagMissing: 'TagMissing',
  /** compensate: false and the new version did not become healthy; it is left running. */
  UpgradeUnhealthy: 'UpgradeUnhealthy',
  /** the old version, redeployed by the rollback, did not become healthy either */
  RollbackUnhealthy: 'RollbackUnhealthy',
  /** a job the rollback cancelled did not reach a stopped state */
  JobNotStopped: 'JobNotStopped',
  CompensationFailed: 'CompensationFailed',
  /** restore: no restore point matches, or its savepoint path is unknown */
  RestorePointNotFound: 'RestorePointNotFound',
  /** restore: the restore point's savepoint files are gone (or hold another savepoint id) */
  SavepointMissing: 'SavepointMissing',
  /** restore: some sink tables were rolled back and others not; the failure says which */
  RestoreIncomplete: 'RestoreIncomplete',
  /** restore: every table was rolled back, the restarted job did not become healthy */
  RestoreUnhealthy: 'RestoreUnhealthy',
  /** upgrade, restore: another live job writes (a table of the name of) a sink table; nothing was stopped */
  OtherWriters: 'OtherWriters',
  /** upgrade, restore, savepoint: the job named does not write every declared sink table (its plan in Flink); nothing was stopped */
  NotTheWriter: 'NotTheWriter',
  /** savepoint: another operation (upgrade, restore, savepoint, retention) holds the job's workflow id; nothing was sent to Flink */
  OperationRunning: 'OperationRunning',
} as const;
