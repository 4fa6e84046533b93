// When each activity really ran inside the worker. With eager activity dispatch the server records
// ActivityTaskStarted at the very moment it schedules the task, so the history alone cannot tell
// the delivery to the worker and the completion's trip back from the activity's own work. Each
// run also keeps what its HTTP requests and the event loop did meanwhile (request-timer.ts).
import { Context } from '@temporalio/activity';
import type { Activities } from '../activities/contract';
import { timedCall, type CallCost } from './request-timer';

export interface ActivityRun {
  startedAt: number;
  endedAt: number;
  cost: CallCost;
}

const runs = new Map<string, ActivityRun>();
const key = (workflowId: string, runId: string, activityId: string) => `${workflowId}/${runId}/${activityId}`;

/** The same activities, each noting its start and end and its requests (nothing else changes). */
export function timedActivities(activities: Activities): Activities {
  const timed = Object.entries(activities).map(([name, fn]) => [
    name,
    async (...args: unknown[]) => {
      const { workflowExecution, activityId } = Context.current().info;
      const startedAt = Date.now();
      const { value, error, cost } = await timedCall(() => (fn as (...a: unknown[]) => Promise<unknown>)(...args));
      if (workflowExecution) runs.set(key(workflowExecution.workflowId, workflowExecution.runId, activityId), { startedAt, endedAt: Date.now(), cost });
      if (error !== undefined) throw error;
      return value;
    },
  ]);
  return Object.fromEntries(timed) as Activities;
}

export const activityRun = (workflowId: string, runId: string, activityId: string): ActivityRun | undefined =>
  runs.get(key(workflowId, runId, activityId));
