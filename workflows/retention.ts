// Retention for one job's restore points: decide (a pure function of the catalog), then delete
// each expired point in the one order that never leaves a half-deleted point looking restorable:
// mark the record expiring, delete the tag on every table, dispose the savepoint, drop the record.
// The deletions run under the job's operation id (flink-job/<job name>): never while an upgrade, a
// restore or a savepoint of the job runs; a run that finds the job busy is skipped and says why.
import { ApplicationFailure, executeChild, log, patched, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import type { TableRef } from '../src/domain/model';
import type { RestorePoint } from '../src/domain/restore-points';
import { RetentionInputSchema, type RetentionInput, type RetentionParams, type RetentionResult } from '../src/domain/retention-input';
import { decideRetention } from '../src/domain/retention-policy';
import { longRunning, restCall } from './activity-options';
import { describeIssues } from './input';
import { flinkJobKey, operationWorkflowId, WorkflowFailureType } from './messages';
import { countOperation } from './metrics';
import { holdsOperationId, underOperationId } from './operation-id';
import { jobBusyText } from '../src/domain/running-operation';

const rest = proxyActivities<Activities>(restCall);
/** Flink disposes a savepoint asynchronously and the activity polls it, heartbeating. */
const DISPOSE_TIMEOUT_MS = 5 * 60_000;
const disposal = proxyActivities<Activities>(longRunning(DISPOSE_TIMEOUT_MS));

/**
 * Runs recorded before it held an upgrade's pin for good and did not ask which points the
 * operation in flight uses; from it on, an upgrade's pin expires by policy.upgradePins.
 */
export const RETENTION_UPGRADE_PIN_LIFECYCLE = 'retention-upgrade-pin-lifecycle';
/**
 * Runs recorded before it judged each recorded point by the tables given (one table given by
 * mistake made every point unrestorable, and all were deleted) and kept nothing when no point was
 * restorable; from it on, by its record's tables, and the newest point stays when none is restorable.
 */
export const RETENTION_JUDGES_POINTS_AS_RECORDED = 'retention-judges-points-as-recorded';

/**
 * Runs recorded before it deleted under its own id (retention/<job>, or a savepoint's), beside an
 * upgrade or restore of the job; from it on, the deletions run under the job's operation id.
 */
export const RETENTION_HOLDS_JOB = 'retention-holds-operation-id';

/** What deleteTag raises for a tag that is not there (already deleted): the goal is reached. */
const TAG_ALREADY_GONE = 'TagMissing';

export async function retentionWorkflow(input: RetentionInput): Promise<RetentionResult> {
  const { jobName, tables, policy, dryRun } = validated(input);
  upsertSearchAttributes([{ key: flinkJobKey, value: jobName }]);
  // A dry run deletes nothing: it may run beside any operation.
  if (!dryRun && patched(RETENTION_HOLDS_JOB)) {
    const operationId = operationWorkflowId({ jobName });
    if (!holdsOperationId(operationId)) return deleteUnderOperationId(operationId, input, jobName);
  }

  const asRecorded = patched(RETENTION_JUDGES_POINTS_AS_RECORDED);
  const points = await rest.listRestorePoints({ jobName, tables, ...(asRecorded ? { asRecorded } : {}) });
  const lifecycle = patched(RETENTION_UPGRADE_PIN_LIFECYCLE);
  // After the listing: a point an operation took up meanwhile is known before anything is decided.
  const inUse = lifecycle ? await rest.restorePointsInUse({ jobName }) : [];
  const rules = { ...policy, ...(lifecycle ? {} : { upgradePins: undefined }), ...(asRecorded ? { keepOneWhenNoneRestorable: true } : {}) };
  const decisions = decideRetention(points, rules, Date.now(), inUse);
  const result: RetentionResult = { jobName, dryRun, decisions, deleted: [], failed: [], ...(lifecycle ? { inUse } : {}) };
  if (dryRun) return result;

  // Lost points (older timelines) share ids with current ones and are always kept: never by id.
  const byId = new Map(points.filter((p) => !p.lost).map((p) => [p.savepointId, p]));
  // Oldest first: if the run stops half-way, what is left is the newer, more useful points.
  const expired = decisions
    .filter((d) => d.action === 'delete')
    .map((d) => ({ point: byId.get(d.savepointId)!, upgradePinReleased: d.reason === 'upgrade-pin-expired' }))
    .reverse();
  for (const { point, upgradePinReleased } of expired) {
    try {
      await deleteRestorePoint(jobName, point, upgradePinReleased);
      result.deleted.push(point.savepointId);
    } catch (err) {
      // One point that cannot go (pinned meanwhile, Flink away) does not keep the others; it stays
      // marked expiring, never restorable, and the next run finishes it.
      const error = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      log.warn('restore point not deleted', { savepointId: point.savepointId, error });
      result.failed.push({ savepointId: point.savepointId, error });
    }
  }
  return result;
}

/**
 * Runs the deletions as a child under the job's operation id. While an upgrade, a restore or a
 * savepoint holds it, retention skips (it does not wait: the point an upgrade stops at, or a restore
 * rolls back to, is decided by that operation; the next retention run judges the points anew).
 */
async function deleteUnderOperationId(operationId: string, input: RetentionInput, jobName: string): Promise<RetentionResult> {
  const outcome = await underOperationId(operationId, () =>
    executeChild(retentionWorkflow, {
      workflowId: operationId,
      args: [input],
      typedSearchAttributes: [{ key: flinkJobKey, value: jobName }],
    }),
  );
  if ('ran' in outcome) return outcome.ran;
  const reason = `${jobBusyText(jobName, outcome.busy)}; retention was skipped and deleted nothing (run it again once that operation has ended)`;
  log.warn('retention skipped: the job is busy', { jobName, runningOperation: outcome.busy });
  countOperation('skipped');
  return { jobName, dryRun: false, decisions: [], deleted: [], failed: [], skipped: { reason, runningOperation: outcome.busy } };
}

async function deleteRestorePoint(jobName: string, point: RestorePoint, upgradePinReleased: boolean): Promise<void> {
  const { savepointId, tag } = point;
  // First, so that the catalog never counts this point as restorable again, even if we stop here.
  // With the path: a record of this id that a new timeline's savepoint replaced since is refused.
  await rest.markRestorePointExpiring({
    jobName,
    savepointId,
    at: new Date().toISOString(),
    path: point.path ?? undefined,
    ...(upgradePinReleased ? { upgradePinReleased } : {}),
  });

  // Every table of the point, also where the listing saw no tag: an intermediate savepoint's tag
  // can still arrive with a late checkpoint.
  for (const table of Object.keys(point.tables) as TableRef[]) {
    try {
      await rest.deleteTag({ table, tag });
    } catch (err) {
      if (!(err instanceof Error && err.cause instanceof ApplicationFailure && err.cause.type === TAG_ALREADY_GONE)) throw err;
    }
  }

  if (point.path !== null) {
    // Flink disposes the state files through the cluster (no job needed); with `_metadata` gone
    // there is nothing for it to read, so only the directory is left to delete.
    if (point.savepointPresent) {
      try {
        await disposal.disposeSavepoint({ path: point.path });
      } catch (err) {
        log.warn('Flink could not dispose the savepoint; deleting its directory instead', {
          savepointId,
          error: String(err),
        });
      }
    }
    // ...and may leave the directory; when the cluster could not dispose it at all, this removes
    // everything. Only savepoint-* directories under the configured savepoint dir are deleted.
    await rest.deleteSavepointDirectory({ path: point.path });
  }

  await rest.deleteRestorePointRecord({ jobName, savepointId, path: point.path ?? undefined });
}

function validated(input: RetentionInput): RetentionParams {
  const parsed = RetentionInputSchema.safeParse(input);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: WorkflowFailureType.InvalidInput,
      message: `invalid retention input: ${describeIssues(parsed.error.issues).join('; ')}`,
      nonRetryable: true,
    });
  }
  return parsed.data;
}
