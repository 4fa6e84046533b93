// What clients and the restore workflow share: the status and result, the queries, and (re-exported
// here so clients import one file) the plan shown to the approver (restore-plan-types.ts) and the
// approval messages with the checks they pass (approval-messages.ts). Pure: bundled into workflow code.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DeployParallelism } from '../activities/contract';
import type { TableRef } from '../src/domain/model';
import type { Approval, ApproverKeysStatus, Rejection } from './approval-messages';
import type { RestorePlan } from './restore-plan-types';

export * from './approval-messages';
export * from './restore-plan-types';

export type RestoreStep =
  | 'validating-input'
  | 'planning'
  | 'awaiting-approval'
  | 're-planning'
  | 'stopping-writer'
  | 'awaiting-savepoint-tag'
  | 'creating-undo-branches'
  | 'rolling-back-tables'
  | 'deploying'
  | 'awaiting-health'
  | 'restarting-writer'
  | 'awaiting-writer-health'
  | 'restored'
  | 'rejected'
  | 'expired'
  | 'failed';

export interface TableRollback {
  table: TableRef;
  rolledBack: boolean;
  /** the table's latest snapshot as verified after its rollback (its metadata, not a scan) */
  snapshotId?: number;
  schemaId?: number;
  /** records in the snapshot's data files, as the tag's record_count counts them */
  records?: number | null;
  /** histories from before 'rollback-checked-by-metadata': COUNT(*) after the rollback */
  rowCount?: number;
  /** the table's latest snapshot just before rollback_to ran (since 'rollback-counts-what-it-deleted') */
  previousSnapshotId?: number | null;
  /** snapshots rollback_to deleted, counted as it ran with the writer stopped (today's savepoint's commit included) */
  snapshotsDeleted?: number;
  /** tags rollback_to deleted (today's savepoint tag included), read just before it ran */
  tagsDeleted?: string[];
}

export interface RestoreStatus {
  step: RestoreStep;
  job: string;
  /** set when the restored version was started with allowNonRestoredState: what may have been dropped */
  droppedState?: string;
  timings: { step: RestoreStep; startedAt: string; durationMs?: number }[];
  reason?: string;
  plan?: RestorePlan;
  /** approvals given to plans that changed before the restore acted on them */
  supersededApprovals?: (Approval & { changes: string[] })[];
  /** approval signals refused (a signal gets no answer): who, why, when; the last 10 */
  refusedSignals?: { approver: string; problem: string; at: string }[];
  approval?: Approval;
  rejection?: Rejection;
  /** the approvers' keys answers are verified against (absent in histories from before signed approvals) */
  approverKeys?: ApproverKeysStatus;
  /** the savepoint the running writer was stopped with: today's state, itself a restore point */
  todaysSavepoint?: { savepointId: number; path: string; tag: string };
  /** the branch on every table that keeps the rows from before the rollback, and how to use it */
  undo?: { branch: string; tag: string; instructions: string };
  tables?: TableRollback[];
  newJobId?: string;
  /** the writer started again from today's savepoint (a restore that stopped it and then ended) */
  restartedJobId?: string;
  /**
   * A stop-with-savepoint that failed: the writer's state as Flink showed it then ('GONE': Flink no
   * longer knows the job), and where this restore started it again from when it was not running.
   */
  writerAfterFailedStop?: {
    jobId: string;
    state: string;
    restartedFrom?: { kind: 'checkpoint' | 'savepoint'; id: number; path: string; completedAt: number };
  };
  /**
   * The parallelism the writer ran at when it was stopped, where an upgrade set vertices apart from
   * its graph's: the restored job (and a restarted writer) run at it. Flink applies it to the vertices
   * whose ids the started job has (pipeline.jobvertex-parallelism-overrides).
   */
  writerParallelism?: DeployParallelism;
  /** recorded restore points whose tags the rollback deleted, moved aside in the catalog as lost */
  restorePointsMarkedLost?: { savepointId: number; path: string }[];
  /** why they could not be marked lost (the restore went on; the catalog lists them as lost regardless where it can tell) */
  restorePointsNotMarkedLost?: string;
}

export type RestoreOutcome = 'restored' | 'rejected' | 'expired';

export interface RestoreResult extends RestoreStatus {
  status: RestoreOutcome;
  instructions?: string;
}

export const planQuery = defineQuery<RestorePlan | undefined>('plan');
export const restoreStatusQuery = defineQuery<RestoreStatus>('status');
/**
 * Waits for the plan: answered once the restore has a plan above version `afterVersion` (0 when
 * absent) to approve, or with the current one (or none) once it went past its approval or ended.
 */
export const awaitPlanUpdate = defineUpdate<RestorePlan | undefined, [{ afterVersion?: number }]>('awaitPlan');
