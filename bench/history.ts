// Where a workflow's time goes, read from its history: each activity's schedule-to-start latency
// and run time, and the workflow-task turnarounds between them (activity closed -> next one
// scheduled, which includes the server dispatching and the worker running the workflow task).
import type { WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];

// temporal.api.enums.v1.EventType (numbers, to stay off @temporalio/proto, which we do not depend on)
const WORKFLOW_EXECUTION_STARTED = 1;
const WORKFLOW_EXECUTION_COMPLETED = 2;
const WORKFLOW_TASK_SCHEDULED = 5;
const WORKFLOW_TASK_STARTED = 6;
const WORKFLOW_TASK_COMPLETED = 7;
const ACTIVITY_TASK_SCHEDULED = 10;
const ACTIVITY_TASK_STARTED = 11;
const ACTIVITY_TASK_COMPLETED = 12;
const ACTIVITY_TASK_FAILED = 13;
const ACTIVITY_TASK_TIMED_OUT = 14;

export interface ActivitySpan {
  name: string;
  activityId: string;
  scheduledAt: number;
  startedAt: number;
  closedAt: number;
  /** the attempt that closed it (1 = no retry) */
  attempt: number;
  scheduleToStartMs: number;
  runMs: number;
}

export interface WorkflowBreakdown {
  startedAt: number;
  completedAt: number;
  activities: ActivitySpan[];
  /** sum of ActivityTaskScheduled -> ActivityTaskStarted */
  scheduleToStartMs: number;
  /** sum of the activities' run times (ActivityTaskStarted -> closed) */
  activityRunMs: number;
  /** execution started -> first activity scheduled, each activity closed -> next scheduled, last closed -> completed */
  workflowTaskGapsMs: number;
  workflowTasks: {
    count: number;
    /** sum of WorkflowTaskScheduled -> Started: waiting for the worker to pick the task up */
    queuedMs: number;
    /** sum of WorkflowTaskStarted -> Completed: the worker running workflow code (and the round trip) */
    runMs: number;
    /** the first task alone: it also loads the workflow's modules into its sandbox */
    firstRunMs: number;
  };
}

const time = (e: HistoryEvent): number => tsToMs(e.eventTime);
const num = (v: unknown): number => Number(v ?? 0);

export function breakdown(history: History): WorkflowBreakdown {
  const events = history.events ?? [];
  const scheduled = new Map<number, { name: string; activityId: string; at: number }>();
  const started = new Map<number, { at: number; attempt: number }>();
  const spans: ActivitySpan[] = [];
  let startedAt = Number.NaN;
  let completedAt = Number.NaN;
  const wft = { count: 0, queuedMs: 0, runMs: 0, firstRunMs: Number.NaN };
  let wftScheduled = Number.NaN;
  let wftStarted = Number.NaN;
  for (const e of events) {
    const type = num(e.eventType);
    if (type === WORKFLOW_TASK_SCHEDULED) wftScheduled = time(e);
    else if (type === WORKFLOW_TASK_STARTED) {
      wftStarted = time(e);
      wft.queuedMs += wftStarted - wftScheduled;
    } else if (type === WORKFLOW_TASK_COMPLETED) {
      wft.count++;
      wft.runMs += time(e) - wftStarted;
      if (wft.count === 1) wft.firstRunMs = time(e) - wftStarted;
    } else if (type === WORKFLOW_EXECUTION_STARTED) startedAt = time(e);
    else if (type === WORKFLOW_EXECUTION_COMPLETED) completedAt = time(e);
    else if (type === ACTIVITY_TASK_SCHEDULED) {
      const a = e.activityTaskScheduledEventAttributes;
      scheduled.set(num(e.eventId), { name: a?.activityType?.name ?? '?', activityId: a?.activityId ?? '?', at: time(e) });
    } else if (type === ACTIVITY_TASK_STARTED) {
      const a = e.activityTaskStartedEventAttributes!;
      started.set(num(a.scheduledEventId), { at: time(e), attempt: num(a.attempt) });
    } else if (type === ACTIVITY_TASK_COMPLETED || type === ACTIVITY_TASK_FAILED || type === ACTIVITY_TASK_TIMED_OUT) {
      const id = num(
        e.activityTaskCompletedEventAttributes?.scheduledEventId ??
          e.activityTaskFailedEventAttributes?.scheduledEventId ??
          e.activityTaskTimedOutEventAttributes?.scheduledEventId,
      );
      const s = scheduled.get(id);
      const st = started.get(id);
      if (!s || !st) continue;
      spans.push({
        name: s.name,
        activityId: s.activityId,
        scheduledAt: s.at,
        startedAt: st.at,
        closedAt: time(e),
        attempt: st.attempt,
        scheduleToStartMs: st.at - s.at,
        runMs: time(e) - st.at,
      });
    }
  }
  // The upgrade runs its activities one after another, so the gaps are what is left between them.
  let gaps = 0;
  let previous = startedAt;
  for (const span of spans) {
    gaps += Math.max(0, span.scheduledAt - previous);
    previous = span.closedAt;
  }
  gaps += Math.max(0, completedAt - previous);
  return {
    startedAt,
    completedAt,
    activities: spans,
    scheduleToStartMs: spans.reduce((a, s) => a + s.scheduleToStartMs, 0),
    activityRunMs: spans.reduce((a, s) => a + s.runMs, 0),
    workflowTaskGapsMs: gaps,
    workflowTasks: wft,
  };
}
