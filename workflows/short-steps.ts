// The scheduled savepoint's short steps (the checks before it, the record after it) run as local
// activities: in the worker that runs the workflow, each recorded as a marker in its history, with
// no round trip through the task queue and no workflow task of its own. A fan-out of savepoints
// then costs Temporal less than half the work. One at a time, never side by side, and never left
// running when the workflow ends: this SDK's core can misorder side-by-side local activities'
// markers on replay, and records the marker of one still running after the workflow's last
// command (sdk-rust #659), which the server refuses.
//
// Only steps that answer at once stay local. A Paimon read is a Flink batch job that can wait for a
// task slot; as a local activity it holds the workflow task meanwhile, and the workflow answers no
// query (`status` said "Failed to query Workflow" for minutes on a cluster with no free slot). So
// the table check and the record (which reads the tags) are scheduled activities again.
import { patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import { localCall, restCall } from './activity-options';

export type ShortSteps = Pick<Activities, 'resolveJob' | 'requireRecentCheckpoint' | 'describeSinkTables' | 'recordRestorePoint'>;

/** Histories recorded before this patch scheduled these steps as activities and read the tags apart. */
export const SHORT_STEPS_LOCAL = 'savepoint-short-steps-local';

/** Histories recorded with SHORT_STEPS_LOCAL but before this patch made the Paimon reads local too. */
export const PAIMON_READS_SCHEDULED = 'savepoint-paimon-reads-scheduled';

const scheduled: ShortSteps = proxyActivities<Activities>(restCall);
const local: ShortSteps = proxyLocalActivities<Activities>(localCall);

/** Flink REST lookups local; the steps that read Paimon through the SQL gateway scheduled. */
const restLocal: ShortSteps = {
  resolveJob: local.resolveJob,
  requireRecentCheckpoint: local.requireRecentCheckpoint,
  describeSinkTables: scheduled.describeSinkTables,
  recordRestorePoint: scheduled.recordRestorePoint,
};

/** Whether this run makes its short steps as local activities (decided at its first call). */
export const shortStepsRunLocally = (): boolean => patched(SHORT_STEPS_LOCAL);

export const shortSteps = (): ShortSteps => {
  if (!shortStepsRunLocally()) return scheduled;
  return patched(PAIMON_READS_SCHEDULED) ? restLocal : local;
};
