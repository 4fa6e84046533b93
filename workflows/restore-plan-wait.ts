// A client that waits for the plan (to show it, or to sign it) asks once and is answered when the
// plan is there, instead of polling the plan query: one update that the server holds open. Each
// query the restore answers is a workflow task on the worker and the server, taken while the plan's
// own reads run.
import { HandlerUnfinishedPolicy } from '@temporalio/common';
import { condition, setHandler } from '@temporalio/workflow';
import type { Progress } from './progress';
import { awaitPlanUpdate, type RestorePlan, type RestoreStatus, type RestoreStep } from './restore-messages';

/** The steps in which a plan may yet come to be approved. */
const BEFORE_APPROVAL: RestoreStep[] = ['validating-input', 'planning', 'awaiting-approval', 're-planning'];

/**
 * Answers `awaitPlan`: the plan under review once its version is above the one the client already
 * has; the current plan (or none) once the restore went past its approval or ended.
 */
export function answerPlanWaits(plan: () => RestorePlan | undefined, progress: Progress<RestoreStatus>): void {
  setHandler(
    awaitPlanUpdate,
    async (given) => {
      const after = given?.afterVersion ?? 0;
      await condition(() => (plan()?.version ?? 0) > after || !BEFORE_APPROVAL.includes(progress.step));
      return plan();
    },
    {
      validator: (given) => {
        const after = given?.afterVersion;
        if (after !== undefined && !(Number.isInteger(after) && after >= 0)) throw new TypeError(`afterVersion must be a whole number of at least 0, got ${JSON.stringify(after)}`);
      },
      // A restore refused while planning ends with the wait open: its client is told the run ended.
      unfinishedPolicy: HandlerUnfinishedPolicy.ABANDON,
    },
  );
}
