// Workflow steps on a Flink job that more than one operation takes (upgrade, restore).
import { ActivityFailure, ApplicationFailure, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import type { JobState } from '../src/domain/model';
import { restCall } from './activity-options';
import { WorkflowFailureType } from './messages';

const rest = proxyActivities<Activities>(restCall);

/** A failure no retry fixes, raised by the workflow itself. */
export const fatal = (type: string, message: string, details?: unknown[]) =>
  ApplicationFailure.create({ type, message, nonRetryable: true, details });

/** The type of an activity's ApplicationFailure (e.g. JobNotFound), or of the failure itself. */
export function failureType(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

export const STOPPED: readonly JobState[] = ['CANCELED', 'FAILED', 'FINISHED'];
const CANCEL_POLLS = 60;

/**
 * Cancel and wait until Flink reports the job stopped: a job still CANCELLING may yet commit a
 * checkpoint to Paimon, and that commit would land after the tables were rolled back.
 */
export async function cancelAndWait(jobId: string): Promise<void> {
  let { state } = await rest.getJob({ jobId });
  if (STOPPED.includes(state)) return;
  await rest.cancelJob({ jobId });
  for (let poll = 0; poll < CANCEL_POLLS; poll++) {
    ({ state } = await rest.getJob({ jobId }));
    if (STOPPED.includes(state)) return;
    await sleep('2s');
  }
  throw fatal(WorkflowFailureType.JobNotStopped, `job ${jobId} is still ${state} after cancelling it`);
}
