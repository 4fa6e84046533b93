// A long-retention savepoint of a running job, the way the runbook takes one: an intermediate
// savepoint (the job keeps running), wait for Paimon's `savepoint-<id>` tag on every sink table,
// then record the restore point so the catalog and retention know it. Schedules start this.
// The work runs under the job's operation id (flink-job/<job name>), as upgrades and restores do:
// never beside another operation on the job (workflows/operation-id.ts).
import { ApplicationFailure, executeChild, log, patched, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import { tagFor, type JobSummary, type SinkTableInfo, type TableRef } from '../src/domain/model';
import { retentionWorkflowId } from '../src/domain/job-name';
import { pinnedTagExpiryWarning } from '../src/domain/restore-points';
import type { RetentionResult } from '../src/domain/retention-input';
import { jobBusyText } from '../src/domain/running-operation';
import {
  TakeSavepointInputSchema,
  type TakeSavepointInput,
  type TakeSavepointOutcome,
  type TakeSavepointParams,
  type TakeSavepointResult,
} from '../src/domain/savepoint-input';
import { longRunning } from './activity-options';
import { observeTableUsers, requireOwnJobWrites } from './table-users';
import { countOperation } from './metrics';
import { requireRecentCheckpointOf } from './deployment-check';
import { describeIssues } from './input';
import { flinkJobKey, WorkflowFailureType } from './messages';
import { holdsOperationId, operationIdOf, startedBySchedule, underOperationId } from './operation-id';
import { retentionWorkflow } from './retention';
import { messageOf } from './saga';
import { shortSteps, shortStepsRunLocally } from './short-steps';
import { collidingTables, savepointTagsAhead, tagCollisionFailure, type TagsBefore } from './tag-guard';
import { stepToken } from './tokens';
import { humanDuration } from '../src/domain/durations';
import { FailureType } from '../src/domain/failure-types';

const waitUpTo = (timeoutMs: number) => proxyActivities<Activities>(longRunning(timeoutMs));

const fatal = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

/**
 * Runs recorded before it ran retention only after a savepoint was taken; from it on, retention
 * also runs when the savepoint step fails (the job stopped, its name not running).
 */
export const RETENTION_WHEN_SAVEPOINT_FAILS = 'retention-when-savepoint-fails';
/** Runs recorded before it checked, in the job's plan in Flink, that the job writes every sink table. */
export const SAVEPOINT_CHECKS_JOB_WRITES = 'savepoint-checks-job-writes-tables';

/**
 * Runs recorded before it ran under its own id (savepoint/<job>-<time>, or any typed in the UI),
 * beside an upgrade or restore of the job; from it on, the work runs under the job's operation id.
 */
export const SAVEPOINT_HOLDS_JOB = 'savepoint-holds-operation-id';

export async function takeSavepointWorkflow(input: TakeSavepointInput): Promise<TakeSavepointOutcome> {
  const params = validated(input);
  const { job, tables, retention } = params;
  if (patched(SAVEPOINT_HOLDS_JOB)) {
    const { operationId, jobName } = await operationIdOf(job);
    if (!holdsOperationId(operationId)) return takeUnderOperationId(operationId, jobName, input);
  }
  if (!retention || !patched(RETENTION_WHEN_SAVEPOINT_FAILS)) return takeSavepoint(params);
  let result: TakeSavepointResult;
  try {
    result = await takeSavepoint({ ...params, retention: undefined });
  } catch (err) {
    // Retention needs no running job: it reads the records, Paimon's tags and the savepoint dir.
    // A job named by id only has no name to run it for once the job is gone.
    if (!('jobName' in job)) throw err;
    // The tables are not this job's: retention would judge (and delete) restore points on tables it does not write.
    if (failureTypeOf(err) === WorkflowFailureType.NotTheWriter) {
      throw fatal(WorkflowFailureType.NotTheWriter, `${messageOf(err)} Retention did not run either: it would judge restore points on these tables.`);
    }
    const ran = await runRetention(job.jobName, tables, retention);
    const savepointError = messageOf(err);
    const retentionText =
      'retention' in ran
        ? `retention ran anyway: deleted ${ran.retention.deleted.join(', ') || 'none'}` +
          `${ran.retention.failed.length > 0 ? `, not deleted ${ran.retention.failed.map((f) => f.savepointId).join(', ')}` : ''}`
        : `retention did not complete either: ${ran.retentionError}`;
    throw ApplicationFailure.create({
      type: failureTypeOf(err) ?? FailureType.SavepointFailed,
      message: `savepoint of job '${job.jobName}' not taken: ${savepointError}; ${retentionText}`,
      nonRetryable: true,
      details: [{ savepointError, ...ran }],
    });
  }
  return { ...result, ...(await runRetention(result.jobName, tables, retention)) };
}

/**
 * This run (a schedule's, or one typed in the UI) starts the savepoint as its child under the job's
 * operation id. While an upgrade, a restore or another savepoint holds that id, Flink is not
 * touched: a scheduled run is skipped and says why (the schedule's next run takes one), any other
 * is refused naming the operation.
 */
async function takeUnderOperationId(operationId: string, jobName: string, input: TakeSavepointInput): Promise<TakeSavepointOutcome> {
  const outcome = await underOperationId(operationId, () =>
    executeChild(takeSavepointWorkflow, {
      workflowId: operationId,
      args: [input],
      typedSearchAttributes: [{ key: flinkJobKey, value: jobName }],
    }),
  );
  if ('ran' in outcome) return outcome.ran;
  const busy = jobBusyText(jobName, outcome.busy);
  if (startedBySchedule()) {
    const reason = `${busy}; this scheduled savepoint was skipped and nothing was sent to Flink (the schedule's next run takes one)`;
    log.warn('scheduled savepoint skipped: the job is busy', { jobName, runningOperation: outcome.busy });
    countOperation('skipped');
    return { jobName, skipped: { reason, runningOperation: outcome.busy } };
  }
  countOperation('refused');
  throw ApplicationFailure.create({
    type: WorkflowFailureType.OperationRunning,
    message: `${busy}. This savepoint was refused and nothing was sent to Flink: take it once that operation has ended.`,
    nonRetryable: true,
    details: [{ runningOperation: outcome.busy }],
  });
}

/** The failure type of the innermost ApplicationFailure (e.g. JobNotFound), kept for clients that match on it. */
function failureTypeOf(err: unknown): string | undefined {
  let current: unknown = err;
  let type: string | undefined;
  while (current instanceof Error) {
    if (current instanceof ApplicationFailure && current.type) type = current.type;
    current = current.cause;
  }
  return type ?? undefined;
}

async function takeSavepoint(params: TakeSavepointParams): Promise<TakeSavepointResult> {
  const { job, tables, options, retention } = params;

  const { running, tagNamesBefore } = await checkJobAndTables(job, tables, params.target);
  const savepoint = await waitUpTo(options.savepointTimeout).triggerSavepoint({
    jobId: running.jobId,
    triggerId: stepToken('savepoint'),
    formatType: options.formatType,
  });
  const tag = tagFor(savepoint.savepointId);
  // Not recorded: the catalog would take the old tag for this savepoint's. The savepoint stays.
  const collided = collidingTables(tag, tagNamesBefore);
  if (collided.length > 0) throw tagCollisionFailure(tag, collided);

  // Intermediate savepoints commit nothing since Flink 1.15, so Paimon creates the tag only when
  // the next checkpoint after the savepoint commits: a bounded wait, not an immediate check.
  const { missing } = await waitUpTo(options.tagTimeout).awaitTag({ tables, tag, timeoutMs: options.tagTimeout });

  // Recorded even without the tag: the tag may still come, and retention needs the record to
  // clean the savepoint up if it never does.
  const record = await shortSteps().recordRestorePoint({
    jobName: running.name,
    jobId: running.jobId,
    savepoint,
    tables,
    pinned: options.pinned,
    label: options.label,
    deploymentVersion: options.deploymentVersion,
    taggedAtRecord: missing.length === 0,
  });

  const result: TakeSavepointResult = {
    jobName: running.name,
    jobId: running.jobId,
    savepointId: savepoint.savepointId,
    path: savepoint.path,
    tag,
    restorable: missing.length === 0,
    missingTags: missing,
  };
  // A pinned point is kept by retention, but Paimon expires its tag by the table's own option.
  const expiries = Object.entries(record.tagsAtRecord ?? {})
    .flatMap(([table, t]) => (t.expiresAt ? [{ table, at: t.expiresAt }] : []))
    .sort((a, b) => a.at.localeCompare(b.at));
  if (expiries.length > 0) result.tagExpiresAt = expiries[0]!.at;
  const warning = options.pinned ? pinnedTagExpiryWarning(tag, expiries) : undefined;
  if (warning) {
    result.warning = warning;
    log.warn('pinned savepoint whose tag Paimon will expire', { savepointId: savepoint.savepointId, expiries });
  }
  if (missing.length > 0) {
    result.reason =
      `tag ${tag} did not appear within ${humanDuration(options.tagTimeout)} on ${missing.join(', ')}; ` +
      'Paimon tags an intermediate savepoint only after the next checkpoint commits — is the job checkpointing?';
    log.warn('savepoint taken but not restorable yet', { savepointId: savepoint.savepointId, missing });
  }
  if (retention) Object.assign(result, await runRetention(running.name, tables, retention));
  countOperation(result.restorable ? 'restorable' : 'not-restorable');
  return result;
}

/**
 * Observe before acting: the job is RUNNING and has a recent completed checkpoint, every sink table exists and tags savepoints, and
 * the job's plan writes every one of them. Also
 * the `savepoint-*` tag names the tables have before the savepoint (workflows/tag-guard.ts).
 */
async function checkJobAndTables(
  job: TakeSavepointParams['job'],
  tables: TableRef[],
  target?: TakeSavepointParams['target'],
): Promise<{ running: JobSummary; tagNamesBefore: TagsBefore }> {
  const steps = shortSteps();
  const running = await steps.resolveJob({ job, ...(target ? { target } : {}) });
  upsertSearchAttributes([{ key: flinkJobKey, value: running.name }]);
  await requireRecentCheckpointOf(running, steps);
  if (running.state !== 'RUNNING') {
    throw fatal(WorkflowFailureType.JobNotRunning, `job '${running.name}' (${running.jobId}) is ${running.state}, not RUNNING`);
  }
  // Read beside the tables' description; judged after it (a missing table is named first).
  const users = patched(SAVEPOINT_CHECKS_JOB_WRITES) ? observeTableUsers(tables, running.jobId, false) : undefined;
  users?.catch(() => undefined);
  const requireJobWrites = async () => {
    if (users) {
      requireOwnJobWrites(tables, running, await users, 'Its savepoint would be no restore point of these tables (Paimon tags it only on the tables the job writes)');
    }
  };
  if (!shortStepsRunLocally()) {
    const tagsBefore = savepointTagsAhead(tables);
    requireTaggingSinks(await steps.describeSinkTables({ tables }));
    await requireJobWrites();
    return { running, tagNamesBefore: await tagsBefore() };
  }
  // The tag names come with the tables' description, from one gateway session.
  const sinks = await steps.describeSinkTables({ tables, withSavepointTags: true });
  requireTaggingSinks(sinks);
  await requireJobWrites();
  return { running, tagNamesBefore: Object.fromEntries(sinks.map((s) => [s.table, s.savepointTags ?? []])) };
}

function requireTaggingSinks(sinks: SinkTableInfo[]): void {
  const absent = sinks.filter((s) => !s.exists).map((s) => s.table);
  if (absent.length > 0) throw fatal(WorkflowFailureType.TableNotFound, `sink tables not found: ${absent.join(', ')}`);
  // Without auto-tag Paimon never tags the savepoint: the tables would have no restore point.
  const untagged = sinks.filter((s) => !s.autoTagOnSavepoint).map((s) => s.table);
  if (untagged.length > 0) {
    throw fatal(
      WorkflowFailureType.AutoTagDisabled,
      `sink tables without 'sink.savepoint.auto-tag' = 'true': ${untagged.join(', ')}`,
    );
  }
}

/** Retention as a child under the job's retention id, so it never runs twice at once for a job. */
async function runRetention(
  jobName: string,
  tables: TakeSavepointParams['tables'],
  policy: NonNullable<TakeSavepointParams['retention']>,
): Promise<{ retention: RetentionResult } | { retentionError: string }> {
  try {
    const retention = await executeChild(retentionWorkflow, {
      workflowId: retentionWorkflowId(jobName),
      args: [{ jobName, tables, policy, dryRun: false }],
    });
    return { retention };
  } catch (err) {
    // The savepoint is taken and recorded either way; a retention that failed or is already
    // running for this job is reported, not a reason to fail the savepoint.
    log.warn('retention after the savepoint did not complete', { error: String(err) });
    return { retentionError: err instanceof Error ? err.message : String(err) };
  }
}

function validated(input: TakeSavepointInput): TakeSavepointParams {
  const parsed = TakeSavepointInputSchema.safeParse(input);
  if (!parsed.success) {
    throw fatal(
      WorkflowFailureType.InvalidInput,
      `invalid savepoint input: ${describeIssues(parsed.error.issues).join('; ')}`,
    );
  }
  return parsed.data;
}
