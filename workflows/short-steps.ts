// The scheduled savepoint's short steps (the checks before it, the record after it) run as local
// activities: in the worker that runs the workflow, each recorded as a marker in its history, with
// no round trip through the task queue and no workflow task of its own. A fan-out of savepoints
// then costs Temporal less than half the work. One at a time, never side by side, and never left
// running when the workflow ends: this SDK's core can misorder side-by-side local activities'
// markers on replay, and records the marker of one still running after the workflow's last
// command (sdk-rust #659), which the server refuses.
import { patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import { localCall, restCall } from './activity-options';

export type ShortSteps = Pick<Activities, 'resolveJob' | 'requireRecentCheckpoint' | 'describeSinkTables' | 'recordRestorePoint'>;

/** Histories recorded before this patch scheduled these steps as activities and read the tags apart. */
export const SHORT_STEPS_LOCAL = 'savepoint-short-steps-local';

const scheduled: ShortSteps = proxyActivities<Activities>(restCall);
const local: ShortSteps = proxyLocalActivities<Activities>(localCall);

/** Whether this run makes its short steps as local activities (decided at its first call). */
export const shortStepsRunLocally = (): boolean => patched(SHORT_STEPS_LOCAL);

export const shortSteps = (): ShortSteps => (shortStepsRunLocally() ? local : scheduled);
