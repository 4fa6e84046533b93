// The restore's stop of the writer, once the approved plan still holds: stop it with a savepoint
// (today's state stays a restore point) or cancel it, and wait until every sink table has the tag
// of that savepoint, reading meanwhile what the checks after the stop need besides the tags. The
// undo of the stop, registered right after it, starts the writer again from today's savepoint at
// the parallelism it ran at.
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities, DeployParallelism } from '../activities/contract';
import { humanDuration } from '../src/domain/durations';
import { tagFor, type Deployment } from '../src/domain/model';
import { longRunning, restCall, savepointWait } from './activity-options';
import { cancelAndWait, fatal } from './job-steps';
import { WorkflowFailureType } from './messages';
import type { Progress } from './progress';
import type { RestoreParams } from './restore-input';
import type { RestorePlan, RestoreStatus } from './restore-messages';
import type { PlanFor } from './restore-plan';
import { readAfterStop, type AfterStopReads } from './restore-after-stop';
import { afterFailedStop, RESTORE_ACTS_ON_FAILED_STOP } from './restore-stop-failed';
import type { Saga } from './saga';
import { placementOf, type Placement } from './placement';
import { startVersion } from './start-version';
import { stepToken } from './tokens';
import { keptParallelism } from './upgrade-shape';
import { prepareNextCluster, type PreparedCluster } from './prepare-cluster';
import { DEPLOY_RESTORED } from './restore-deploy';

const rest = proxyActivities<Activities>(restCall);
const waitUpTo = (timeoutMs: number) => proxyActivities<Activities>(longRunning(timeoutMs));
const savepointUpTo = (timeoutMs: number) => proxyActivities<Activities>(savepointWait(timeoutMs));

/** Histories recorded before this patch started the job at the parallelism its script or jar gives. */
const KEEP_WRITER_PARALLELISM = 'restore-keeps-writer-parallelism';
/** Histories recorded before this patch read the writer's parallelism after the plan, just before the stop. */
export const WRITER_PARALLELISM_BESIDE_PLAN = 'restore-writer-parallelism-beside-plan';
/** Histories recorded before this patch read the jobs and the restore point's files after today's tag came. */
const AFTER_STOP_READS_BESIDE_TAG_WAIT = 'restore-reads-after-stop-beside-tag-wait';

export type StoppedWriter = NonNullable<PlanFor['stopped']>;

/** The writer as this restore left it: `stopped` once it stopped it. */
export interface WriterStop {
  stopped?: StoppedWriter;
  /** the parallelism it ran at (set apart by an upgrade): the job started next runs at it */
  parallelism?: DeployParallelism;
  /** the next job's cluster, set up before the stop: released if the restore ends before its deploy */
  prepared?: PreparedCluster;
}

/** A stop with a savepoint, and the reads after it that started beside the wait for its tag (readAfterStop). */
export type WriterStopped = WriterStop & { readsAfterStop?: Promise<AfterStopReads> };

/** The parallelism the writer runs at, as the job started after it keeps it; undefined for histories from before that. */
export type WriterParallelismRead = Promise<DeployParallelism | undefined>;

/** Reads the parallelism job `jobId` runs at (set apart by an upgrade); undefined for histories recorded before KEEP_WRITER_PARALLELISM. */
export function readWriterParallelism(jobId: string): WriterParallelismRead | undefined {
  if (!patched(KEEP_WRITER_PARALLELISM)) return undefined;
  return rest.jobParallelism({ jobId }).then((read) => keptParallelism(read).parallelism);
}

/**
 * Stops the writer the plan names; registers its restart on `saga` once it stopped with a savepoint.
 * `parallelismRead`: the writer's parallelism, when it was read beside the plan (else read here).
 */
export async function stopWriter(
  plan: RestorePlan,
  params: RestoreParams,
  progress: Progress<RestoreStatus>,
  saga: Saga,
  parallelismRead?: WriterParallelismRead,
): Promise<WriterStopped> {
  const { options, deployment, sinkTables: tables } = params;
  const placement = placementOf(params.target, params.job);
  const jobId = plan.writer.jobId!;
  const parallelism = await (parallelismRead ?? readWriterParallelism(jobId));
  if (parallelism) progress.note({ writerParallelism: parallelism });
  // The restored job's cluster set up while the writer still runs (application mode's local launcher).
  const { allowNonRestoredState } = options;
  const restoring = { savepointPath: plan.restorePoint.path, allowNonRestoredState };
  const prepared = await prepareNextCluster({ deployment, token: stepToken(DEPLOY_RESTORED), parallelism, placement, ...restoring });
  if (prepared) saga.add(() => prepared.release());
  progress.enter('stopping-writer');
  if (plan.writer.action === 'cancel') {
    await cancelAndWait(jobId);
    await prepared?.ready;
    return { stopped: { jobId }, parallelism, ...(prepared ? { prepared } : {}) };
  }
  // A failed stop says what Flink shows the writer in, and starts it again if it is not running.
  const actsOnFailure = patched(RESTORE_ACTS_ON_FAILED_STOP);
  const stop = savepointUpTo(options.savepointTimeout).stopWithSavepoint({ jobId, triggerId: stepToken('stop-with-savepoint'), drain: options.drain });
  const savepoint = !actsOnFailure
    ? await stop
    : await stop.catch(async (err: unknown) => {
        const failedStop = { jobId, err, deployment, parallelism, healthTimeout: options.healthTimeout, placement };
        throw await afterFailedStop({ ...failedStop, otherWriters: plan.otherWriters ?? [], progress });
      });
  const tag = tagFor(savepoint.savepointId);
  progress.note({ todaysSavepoint: { savepointId: savepoint.savepointId, path: savepoint.path, tag } });
  saga.add(() => restartWriter({ deployment, savepointPath: savepoint.path, parallelism, healthTimeout: options.healthTimeout, placement }, progress));
  // The checks after the stop that do not need today's tag run beside the wait for it: the job is
  // down meanwhile. planAfterStop judges what they read; a read that fails fails it there.
  const readsAfterStop = patched(AFTER_STOP_READS_BESIDE_TAG_WAIT) ? readAfterStop(tables, jobId, plan.restorePoint.path) : undefined;
  // Not left unhandled while the tag is awaited (a missing tag ends the restore before it is read).
  readsAfterStop?.catch(() => undefined);
  // Paimon tags a stop-with-savepoint when the commit of its final checkpoint lands: until the
  // tag is there, that commit may still come, and it must not land after the rollback.
  progress.enter('awaiting-savepoint-tag');
  // The tables' tags as read when today's tag was there: what planAfterStop checks; in the same
  // read what the rollback will delete, so that it need not count it while the job is down.
  const { missing, tags: tagsAfterStop, newer: newerAfterStop } = await waitUpTo(options.tagTimeout).awaitTag({
    tables,
    tag,
    timeoutMs: options.tagTimeout,
    withTags: true,
    newerThanTag: plan.restorePoint.tag,
  });
  if (missing.length > 0) {
    throw fatal(
      WorkflowFailureType.TagMissing,
      `the writer stopped with savepoint ${savepoint.savepointId}, but tag '${tag}' did not appear on ${missing.join(', ')} ` +
        `within ${humanDuration(options.tagTimeout)}; nothing was rolled back`,
    );
  }
  const stopped = { jobId, savepoint: { savepointId: savepoint.savepointId, path: savepoint.path, tag }, tagsAfterStop, ...(newerAfterStop ? { newerAfterStop } : {}) };
  await prepared?.ready;
  return { stopped, parallelism, readsAfterStop, ...(prepared ? { prepared } : {}) };
}

interface WriterToRestart {
  deployment: Deployment;
  savepointPath: string;
  parallelism?: DeployParallelism;
  healthTimeout: number;
  placement: Placement;
}

/** Today's savepoint is the state the writer stopped with: start it again from there. */
async function restartWriter(writer: WriterToRestart, progress: Progress<RestoreStatus>): Promise<void> {
  progress.enter('restarting-writer');
  const { jobId, health } = await startVersion({ ...writer, token: stepToken('restart-writer') }, (jobId) => {
    progress.note({ restartedJobId: jobId });
    progress.enter('awaiting-writer-health');
  });
  if (!health.healthy) {
    throw fatal(WorkflowFailureType.RollbackUnhealthy, `the writer restarted from ${writer.savepointPath} (job ${jobId}) is not healthy: ${health.reason ?? health.state}`);
  }
}
