// What clients and the restore workflow share: the plan shown to the approver, the approval
// messages and the checks they pass, the status and result. Pure: bundled into workflow code.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DeployParallelism } from '../activities/contract';
import type { JobState, TableRef } from '../src/domain/model';
import { planDigest, type ApprovalProof } from './approval-proof';

/** What `rollback_to` will do to one sink table, read before anything is changed. */
/**
 * What rollback_to does to one table. Records are Paimon's counts of the records in data files
 * (every version of a key until compaction, deletes included): they are compared only with each
 * other, never with a merged COUNT(*), which is smaller on any table whose keys change.
 */
export interface TableBlastRadius {
  table: TableRef;
  /** the snapshot the restore point's tag is on: the table's latest snapshot afterwards */
  tagSnapshotId: number;
  /** the tag's schema id: the table's schema afterwards */
  tagSchemaId: number;
  /** the tag's record_count: records in the tag's data files (null: Paimon did not say) */
  recordsAtTag: number | null;
  latestSnapshotId: number | null;
  /** the latest snapshot's total_record_count, counted as recordsAtTag is */
  recordsNow: number | null;
  /** snapshots that exist now and are newer than the tag: rollback_to deletes them */
  snapshotsDeleted: number;
  /** tags on newer snapshots, deleted by rollback_to */
  tagsDeleted: { tag: string; snapshotId: number }[];
  /** the `savepoint-<id>` tags among them: restore points lost with the rollback */
  restorePointsLost: string[];
}

export type WriterAction = 'stop-with-savepoint' | 'cancel' | 'none';

/**
 * A live job other than the writer that writes a table named like a sink table, left running
 * because `options.notWriters` names it, with what the rollback takes from its output.
 */
export interface PlanOtherWriter {
  jobId: string;
  name: string;
  state: string;
  tables: TableRef[];
  /** why it is left running, and that two writers of one table fail each other's commits */
  note: string;
  /** per sink table it writes: its commits since the restore point's tag, which rollback_to deletes */
  rolledBack?: OtherWriterLoss[];
}

/**
 * An other writer's commits to one table since the tag, from `<table>$snapshots` by commit user.
 * Records are Paimon's delta_record_count: records its writes added to data files, never merged rows.
 */
export interface OtherWriterLoss {
  table: TableRef;
  /** the Paimon commit users counted as its own */
  commitUsers: string[];
  /** its snapshots in (tagSnapshotId, upToSnapshotId], compactions included */
  snapshots: number;
  compactions: number;
  records: number;
  tagSnapshotId: number;
  upToSnapshotId: number;
  /** how its commits were told apart from the restore's writer's, and what the figures leave out */
  basis: string;
}

/** A reader of a sink table: a live job (by its plan in Flink) or a consumer in `<table>$consumers`. */
export interface PlanReader {
  table: TableRef;
  /** the live job that reads it (absent for a consumer no running job uses now) */
  job?: { jobId: string; name: string; state: string };
  consumerId?: string;
  /** the consumer's saved position, when `$consumers` has one */
  nextSnapshotId?: number;
  /** what the reader will see after the rollback */
  sees: string;
  /** what to do so that it reads the restored table again without gaps */
  remedy: string;
}

export interface RestorePlan {
  /** 1 for the first plan; +1 each time the plan changed and is asked for again */
  version: number;
  plannedAt: string;
  job: string;
  writer: {
    jobId?: string;
    state?: JobState;
    /** stop-with-savepoint for a RUNNING job; cancel for one that is live but cannot take a savepoint */
    action: WriterAction;
    /** true in a plan made again after this restore stopped (or cancelled) the writer */
    stoppedByRestore?: boolean;
    /** the savepoint it stopped with, when it was RUNNING */
    stoppedWithSavepoint?: { savepointId: number; path: string; tag: string };
  };
  restorePoint: {
    savepointId: number;
    tag: string;
    path: string;
    createdAt: string | null;
    label: string | null;
    recorded: boolean;
  };
  deploymentVersion: string;
  tables: TableBlastRadius[];
  /**
   * Live jobs other than the writer that write a table named like a sink table, left running
   * because `options.notWriters` names them (any other refuses the restore: OtherWriters).
   */
  otherWriters?: PlanOtherWriter[];
  /** Every reader of the sink tables (live jobs, Paimon consumers), what it will see and the remedy. */
  readers?: PlanReader[];
  /** How the restore itself can be undone. */
  undo: string;
  /** What cannot be undone, in plain words, for the approver. */
  irreversible: string;
  /** The plan in a few sentences, as the memo shows it. */
  summary: string;
  /**
   * Who asked for the restore, as the input named them: not proven (the restore was started by
   * whoever may start workflows). Four-eyes compares it with the approver's proven identity.
   */
  requester?: { identity: string; proven: false; note: string };
  /**
   * `sha256:<hex>` of this plan (every field but this one, keys sorted: workflows/approval-proof.ts):
   * what an approval's signature names, so an approver signs what they read.
   */
  digest?: string;
}

export interface ApprovalInput {
  /** the approver: a principal of the allowed-signers file, whose key made `signature` */
  approver: string;
  /** not signed: kept with the answer as given */
  comment?: string;
  /** The plan version the approver reviewed; refused when the plan has changed since. */
  planVersion?: number;
  /**
   * `ssh-keygen -Y sign -n flink-paimon-ops:<workflow id>` of the statement naming the decision, the
   * approver, the workflow, its run, the plan version and digest (workflows/approval-proof.ts)
   */
  signature?: string;
}

export interface Approval {
  approver: string;
  comment?: string;
  planVersion: number;
  /** 'update' or 'signal' */
  via: 'update' | 'signal';
  at: string;
  /** the key that signed it (absent in histories from before signed approvals) */
  proof?: ApprovalProof;
}

export interface Rejection {
  rejectedBy: string;
  comment?: string;
  planVersion: number;
  at: string;
  proof?: ApprovalProof;
}

/** The approvers' keys the restore checks answers against, as last read from the worker's file. */
export interface ApproverKeysStatus {
  source?: string;
  /** sha256 of the file as read */
  version: string;
  readAt: string;
  keys: number;
  /** the principals (patterns) the keys are for */
  principals: string[];
  /** lines of the file that were skipped, with why */
  skippedLines?: string[];
  /** why no answer can be verified now (no file configured, unreadable, no usable key) */
  problem?: string;
}

/** The approve update's answer, once the workflow has checked the plan again. */
export interface ApprovalAnswer {
  planVersion: number;
  /** proceeding: the plan still holds, the restore goes on; plan-changed: approve the new plan */
  outcome: 'proceeding' | 'plan-changed' | 'ended';
  /** set for plan-changed: what changed */
  changes?: string[];
}

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
export const approveUpdate = defineUpdate<ApprovalAnswer, [ApprovalInput]>('approve');
export const rejectUpdate = defineUpdate<{ planVersion: number }, [ApprovalInput]>('reject');
/** For services that cannot send updates: checked in the workflow, an invalid one is logged and ignored. */
export const approveSignal = defineSignal<[ApprovalInput]>('approve-signal');

/** The plan as an approver reads and signs it: who asked (not proven) and its digest. */
export function planForApproval(plan: RestorePlan, rules: ApprovalRules): RestorePlan {
  const requester = rules.requestedBy
    ? {
        requester: {
          identity: rules.requestedBy,
          proven: false as const,
          note: `'${rules.requestedBy}' is the requester as the restore's input names it, not proven by a signature${rules.fourEyes ? ': four-eyes refuses that name as the approver' : ''}`,
        },
      }
    : {};
  const shown = { ...plan, ...requester, digest: undefined };
  return { ...shown, digest: planDigest(shown) };
}

export interface ApprovalRules {
  approvers: string[];
  fourEyes: boolean;
  requestedBy?: string;
}

/**
 * Why this approval (or rejection) is refused, or undefined when it is allowed. The update
 * validators throw it (so a refused approval is never written to the history), the signal
 * handler logs it; clients may call it first to fail fast.
 */
export function approvalProblem(
  input: unknown,
  rules: ApprovalRules,
  state: { awaiting: boolean; planVersion?: number },
  kind: 'approve' | 'reject',
): string | undefined {
  const given = (input ?? {}) as Partial<ApprovalInput>;
  const approver = typeof given.approver === 'string' ? given.approver.trim() : '';
  if (approver === '') return 'an approval names its approver (a non-empty identity)';
  if (given.comment !== undefined && (typeof given.comment !== 'string' || given.comment.length > 2000)) {
    return 'comment must be text of at most 2000 characters';
  }
  if (!state.awaiting) return 'the restore is not waiting for an approval now';
  if (given.planVersion !== undefined && given.planVersion !== state.planVersion) {
    return `plan version ${given.planVersion} was reviewed, but the plan is now version ${state.planVersion}: review the new plan (query 'plan')`;
  }
  // The requester may withdraw its own request; approving takes one of the approvers.
  const mayReject = kind === 'reject' && approver === rules.requestedBy;
  if (!rules.approvers.includes(approver) && !mayReject) {
    return `'${approver}' is not an approver of this restore (approvers: ${rules.approvers.join(', ')})`;
  }
  if (kind === 'approve' && rules.fourEyes && approver === rules.requestedBy) {
    return `four-eyes: '${approver}' asked for this restore and cannot approve it too`;
  }
  return undefined;
}
