// A job that cannot get task slots, said in plain words. Flink's scheduler leaves such a job
// RUNNING (or CREATED/INITIALIZING) with tasks SCHEDULED and never deployed while its slot requests
// wait; only after slot.request.timeout (5 min) does it fail them with NoResourceAvailableException,
// and restart to wait again. Every operation that waits for a job (health gate after a deploy, a
// savepoint refused because not every task runs) asks here before it reports the job's state.
import type { FlinkClient } from './client';

/** A TaskManager's slots hold one parallel task of every job each; the stack's count is TASK_SLOTS. */
export const SLOTS_REMEDY =
  'Give the Flink cluster more task slots (the stack: scripts/stack.sh down, then TASK_SLOTS=N scripts/stack.sh up; ' +
  'a cluster of your own: taskmanager.numberOfTaskSlots or more TaskManagers), or stop a job that no longer needs to run';

/** Flink's own words for a slot request that could not be met (in an exception or a failure cause). */
export const NO_SLOTS = /NoResourceAvailableException|Could not acquire the minimum required resources|Slot request bulk is not fulfillable/;

/**
 * Why job `jobId` waits for task slots, or undefined when it does not: tasks SCHEDULED (not yet
 * deployed) while the cluster has no free slot, or Flink's NoResourceAvailableException as its
 * latest failure.
 */
export async function slotShortage(flink: FlinkClient, jobId: string, latestException?: string): Promise<string | undefined> {
  const [details, overview] = await Promise.all([flink.jobDetails(jobId).catch(() => undefined), flink.overview().catch(() => undefined)]);
  const waiting = details?.['status-counts']?.SCHEDULED ?? 0;
  const free = overview?.['slots-available'];
  const cluster = overview
    ? `the Flink cluster has ${overview['slots-available']} free of ${overview['slots-total']} task slot(s) on ${overview.taskmanagers} TaskManager(s), ` +
      `held by ${overview['jobs-running']} running job(s)`
    : 'the Flink cluster did not say how many slots it has';
  if (waiting > 0 && free === 0) {
    return `job ${jobId} cannot get task slots: ${waiting} of its tasks wait for a slot and ${cluster}. ${SLOTS_REMEDY}.`;
  }
  if (latestException && NO_SLOTS.test(latestException)) {
    return `job ${jobId} could not get task slots (Flink: ${latestException.split('\n')[0]!.slice(0, 200)}); ${cluster}. ${SLOTS_REMEDY}.`;
  }
  return undefined;
}
