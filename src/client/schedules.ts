// Savepoint schedules: one Temporal Schedule per Flink job that starts takeSavepointWorkflow on a
// cron or an interval. A small typed API for the CLI; the input is validated here, at the edge.
// Each run (id savepoint/<job>-<time>, kept as it is for the schedules that exist) takes its
// savepoint as a child under the job's operation id, flink-job/<job>; a run that fires while an
// upgrade, a restore or another savepoint holds that id is skipped, and its result says why
// (workflows/savepoint.ts).
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleHandle,
  type ScheduleSpec,
  type ScheduleSummary,
} from '@temporalio/client';
import { z } from 'zod';
import { duration } from '../domain/durations';
import { savepointScheduleId, savepointWorkflowId } from '../domain/job-name';
import { TakeSavepointInputSchema, type TakeSavepointParams } from '../domain/savepoint-input';
import { describeIssues } from '../../workflows/input';
import { flinkJobKey } from '../../workflows/messages';
import type { takeSavepointWorkflow } from '../../workflows/savepoint';

const WORKFLOW_TYPE = 'takeSavepointWorkflow';
const SCHEDULE_ID_PREFIX = savepointScheduleId('x').slice(0, -1);

const durationMs = (what: string) => duration(what, { min: 1000 });

export const SavepointScheduleInputSchema = z
  .object({
    /** What each run does; the job must be named, since its id changes with every upgrade. */
    savepoint: TakeSavepointInputSchema.refine((s) => 'jobName' in s.job, {
      message: 'a schedule names its job by jobName: the job id changes with every upgrade',
      path: ['job'],
    }),
    /** A cron expression (e.g. '0 3 * * *'), or… */
    cron: z.string().min(1).optional(),
    /** …an interval (e.g. '6h'). */
    every: durationMs('every').optional(),
    /** IANA time zone for the cron expression (default UTC). */
    timezone: z.string().min(1).optional(),
    /** After a Temporal outage, a run missed by less than this is still taken (one, with SKIP). */
    catchupWindow: durationMs('catchupWindow').default(60 * 60_000),
    paused: z.boolean().default(false),
    note: z.string().max(1000).optional(),
  })
  .strict()
  .refine((s) => (s.cron === undefined) !== (s.every === undefined), {
    message: 'give exactly one of cron or every',
  });
export type SavepointScheduleInput = z.input<typeof SavepointScheduleInputSchema>;

export class InvalidScheduleInputError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid savepoint schedule:\n  ${problems.join('\n  ')}`);
    this.name = 'InvalidScheduleInputError';
  }
}

export class ScheduleExistsError extends Error {
  constructor(readonly scheduleId: string, jobName: string) {
    super(`job '${jobName}' already has a savepoint schedule (${scheduleId}); delete it first to replace it`);
    this.name = 'ScheduleExistsError';
  }
}

export interface SavepointScheduleSummary {
  scheduleId: string;
  jobName: string;
  paused: boolean;
  note?: string;
  nextActionTimes: Date[];
  recentActions: { scheduledAt: Date; takenAt: Date; workflowId: string; runId: string }[];
}

/** Creates the job's schedule; fails with ScheduleExistsError if it has one. */
export async function createSavepointSchedule(
  client: Client,
  input: SavepointScheduleInput,
  options: { taskQueue: string },
): Promise<ScheduleHandle> {
  const parsed = SavepointScheduleInputSchema.safeParse(input);
  if (!parsed.success) throw new InvalidScheduleInputError(describeIssues(parsed.error.issues));
  const { savepoint, cron, every, timezone, catchupWindow, paused, note } = parsed.data;
  const jobName = jobNameOf(savepoint);
  const scheduleId = savepointScheduleId(jobName);
  const spec: ScheduleSpec = cron !== undefined ? { cronExpressions: [cron], timezone } : { intervals: [{ every: every! }] };
  try {
    return await client.schedule.create<typeof takeSavepointWorkflow>({
      scheduleId,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: WORKFLOW_TYPE,
        // Temporal appends the scheduled time to this id, one workflow per run.
        workflowId: savepointWorkflowId(jobName),
        taskQueue: options.taskQueue,
        // Normalised (defaults filled in, durations in ms): the history shows what each run does.
        args: [savepoint],
        typedSearchAttributes: [{ key: flinkJobKey, value: jobName }],
      },
      policies: {
        // A savepoint still being taken (or waiting for its tag) is not joined by a second one.
        overlap: ScheduleOverlapPolicy.SKIP,
        catchupWindow,
      },
      memo: { jobName },
      state: { paused, note },
    });
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) throw new ScheduleExistsError(scheduleId, jobName);
    throw err;
  }
}

export const savepointScheduleHandle = (client: Client, jobName: string): ScheduleHandle =>
  client.schedule.getHandle(savepointScheduleId(jobName));

export async function pauseSavepointSchedule(client: Client, jobName: string, note?: string): Promise<void> {
  await savepointScheduleHandle(client, jobName).pause(note ?? 'paused via flink-paimon-ops');
}

export async function unpauseSavepointSchedule(client: Client, jobName: string, note?: string): Promise<void> {
  await savepointScheduleHandle(client, jobName).unpause(note ?? 'unpaused via flink-paimon-ops');
}

/** A savepoint now, outside the spec; skipped if the schedule's previous run is still going. */
export async function triggerSavepointSchedule(client: Client, jobName: string): Promise<void> {
  await savepointScheduleHandle(client, jobName).trigger(ScheduleOverlapPolicy.SKIP);
}

/** Deletes the schedule; runs already started finish on their own. */
export async function deleteSavepointSchedule(client: Client, jobName: string): Promise<void> {
  await savepointScheduleHandle(client, jobName).delete();
}

export async function describeSavepointSchedule(client: Client, jobName: string): Promise<SavepointScheduleSummary> {
  return summary(await savepointScheduleHandle(client, jobName).describe());
}

/** Every job's savepoint schedule. */
export async function listSavepointSchedules(client: Client): Promise<SavepointScheduleSummary[]> {
  const found: SavepointScheduleSummary[] = [];
  for await (const s of client.schedule.list()) {
    if (s.scheduleId.startsWith(SCHEDULE_ID_PREFIX) && s.action?.workflowType === WORKFLOW_TYPE) found.push(summary(s));
  }
  return found.sort((a, b) => a.jobName.localeCompare(b.jobName));
}

function summary(s: Pick<ScheduleSummary, 'scheduleId' | 'memo' | 'state' | 'info'>): SavepointScheduleSummary {
  return {
    scheduleId: s.scheduleId,
    jobName: typeof s.memo?.jobName === 'string' ? s.memo.jobName : s.scheduleId.slice(SCHEDULE_ID_PREFIX.length),
    paused: s.state.paused,
    note: s.state.note,
    nextActionTimes: s.info.nextActionTimes,
    recentActions: s.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt,
      takenAt: a.takenAt,
      workflowId: a.action.workflow.workflowId,
      runId: a.action.workflow.firstExecutionRunId,
    })),
  };
}

/** The schema's refinement guarantees a named job. */
const jobNameOf = (savepoint: TakeSavepointParams): string => (savepoint.job as { jobName: string }).jobName;
