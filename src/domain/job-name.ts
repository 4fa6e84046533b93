// A job's name: what restore points, schedules and retention belong to, and the ids derived from it.
// Pure zod: bundled into workflow code.
import { z } from 'zod';
import { lazySchema } from './lazy-schema';

/**
 * A restore point belongs to a job *name*, not a job id: an upgrade starts a new job (new id) under
 * the same name, and its restore points, schedule and retention carry over.
 */
export const JobNameSchema = lazySchema(() =>
  z.string().min(1).max(256),
);

/**
 * The job's name as a single, safe path segment and id suffix: restore-point records live in a
 * folder named by it, so '/', '\' and a leading '.' must not survive. Letters, digits, '_' and '-'
 * stay as they are (the usual job names read unchanged); everything else is %-encoded, so two
 * different names never share a key.
 */
export function jobKey(jobName: string): string {
  // encodeURIComponent already escapes '%', so the result stays unambiguous.
  return encodeURIComponent(JobNameSchema.parse(jobName)).replace(
    /[^A-Za-z0-9_%-]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/** The schedule that takes a job's long-retention savepoints: one per job. */
export const savepointScheduleId = (jobName: string): string => `savepoints/${jobKey(jobName)}`;

/** Workflow id prefix of the scheduled runs (Temporal appends the scheduled time). */
export const savepointWorkflowId = (jobName: string): string => `savepoint/${jobKey(jobName)}`;

/** One retention run per job at a time: the id is the mutual exclusion. */
export const retentionWorkflowId = (jobName: string): string => `retention/${jobKey(jobName)}`;
