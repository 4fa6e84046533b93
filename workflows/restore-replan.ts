// After an approval the restore looks at the plan again before it acts, and stops the writer once
// the approved plan still holds: the stop's few seconds can change what the plan said, so the plan
// is made again after it too (only what the stop can change, restore-after-stop.ts).
import { patched } from '@temporalio/workflow';
import { fatal } from './job-steps';
import { WorkflowFailureType } from './messages';
import type { Progress } from './progress';
import type { RollbackCount, TableRef } from '../src/domain/model';
import { CHECK_AFTER_STOP_ONLY_WHAT_IT_CHANGES, planAfterStop, rollbackCounts, type AfterStopReads, type StoppedWithSavepoint } from './restore-after-stop';
import type { RestorePlan, RestoreStatus } from './restore-messages';
import { makePlan, planChanges, staleSavepointTag, type PlanFor } from './restore-plan';
import {
  readWriterParallelism,
  stopWriter,
  WRITER_PARALLELISM_BESIDE_PLAN,
  type StoppedWriter,
  type WriterParallelismRead,
  type WriterStop,
} from './restore-stop';
import type { Saga } from './saga';

/** What every plan of one restore is made from. */
export type PlanBasis = Pick<PlanFor, 'params' | 'undoName'>;

export interface LookedAgain {
  /** the plan as the tables and jobs are now */
  fresh: RestorePlan;
  /** what differs from the approved plan, in words: an approval holds only when it is empty */
  changes: string[];
  writer: WriterStop;
  /** what each table's rollback will delete, read with today's tag (restore-after-stop.ts' rollbackCounts) */
  counted?: Record<TableRef, RollbackCount>;
}

/** Makes the plan again; stops the writer when the approved plan still holds and it runs. */
export async function lookAgain(
  approved: RestorePlan,
  writer: WriterStop,
  basis: PlanBasis,
  progress: Progress<RestoreStatus>,
  saga: Saga,
): Promise<LookedAgain> {
  progress.enter('re-planning');
  // The parallelism the writer runs at, read beside the plan's: the stop follows at once when it holds.
  const parallelism = !writer.stopped && approved.writer.action !== 'none' ? readBesidePlan(approved.writer.jobId!) : undefined;
  const fresh = await makePlan({ ...basis, version: approved.version + 1, stopped: writer.stopped });
  const changes = planChanges(approved, fresh);
  if (changes.length > 0 || writer.stopped || approved.writer.action === 'none') return { fresh, changes, writer };
  const { readsAfterStop, ...stop } = await stopWriter(approved, basis.params, progress, saga, parallelism);
  const { after, counted } = await planOnceStopped(approved, fresh, stop.stopped!, basis, readsAfterStop);
  return { fresh: after, changes: planChanges(approved, after), writer: stop, ...(counted ? { counted } : {}) };
}

/** The writer's parallelism read (patch WRITER_PARALLELISM_BESIDE_PLAN); undefined where stopWriter reads it itself. */
function readBesidePlan(jobId: string): WriterParallelismRead | undefined {
  if (!patched(WRITER_PARALLELISM_BESIDE_PLAN)) return undefined;
  const read = readWriterParallelism(jobId);
  // Met by the stop; a plan that changed leaves it unread (the next approval reads it again).
  read?.catch(() => undefined);
  return read;
}

/** The plan once the writer stopped; refuses a stop whose tag is an older tag of the same name. */
async function planOnceStopped(
  approved: RestorePlan,
  fresh: RestorePlan,
  stopped: StoppedWriter,
  basis: PlanBasis,
  readsAfterStop?: Promise<AfterStopReads>,
): Promise<{ after: RestorePlan; counted?: Record<TableRef, RollbackCount> }> {
  const version = approved.version + 1;
  const quick = stopped.savepoint && patched(CHECK_AFTER_STOP_ONLY_WHAT_IT_CHANGES);
  let after = quick ? await planAfterStop(fresh, stopped as StoppedWithSavepoint, basis.params, readsAfterStop) : await makePlan({ ...basis, version, stopped });
  // What changed is shown to the approver in a whole plan.
  const changed = quick && planChanges(approved, after).length > 0;
  if (changed) after = await makePlan({ ...basis, version, stopped });
  const stale = stopped.savepoint ? staleSavepointTag(approved, after, stopped.savepoint.tag) : [];
  if (stale.length > 0) {
    throw fatal(
      WorkflowFailureType.TagMissing,
      `tag '${stopped.savepoint!.tag}' of the savepoint the writer stopped with is an older tag of the same name on ` +
        `${stale.join(', ')}: Paimon did not tag this stop (a job started afresh counts checkpoints from 1 again), so its ` +
        'final commit cannot be confirmed; nothing was rolled back',
    );
  }
  // The counts read with today's tag hold only for a plan made from that same read, approved as it is.
  const counted = quick && !changed ? rollbackCounts(after, stopped as StoppedWithSavepoint) : undefined;
  return { after, ...(counted ? { counted } : {}) };
}
