// Flink JobManager REST payloads we read, named after Flink's own classes and fields
// (flink-runtime-web rest_v1_dispatcher.yml). Unknown fields are ignored, so a newer patch
// release that adds fields still parses; the same schemas hold for every line in
// activities/compat.ts (Flink 2.x removed none of the fields read here).
import { z } from 'zod';

export const JobStatus = z.enum([
  'INITIALIZING',
  'CREATED',
  'RUNNING',
  'FAILING',
  'FAILED',
  'CANCELLING',
  'CANCELED',
  'FINISHED',
  'RESTARTING',
  'SUSPENDED',
  'RECONCILING',
]);

/** GET /config */
export const DashboardConfiguration = z.object({
  'flink-version': z.string(),
  'flink-revision': z.string().optional(),
});

/** GET /overview */
export const ClusterOverviewWithVersion = z.object({
  taskmanagers: z.number(),
  'slots-total': z.number(),
  'slots-available': z.number(),
  'jobs-running': z.number(),
  'flink-version': z.string().optional(),
});

/** An entry of GET /jobs/overview */
export const JobDetails = z.object({
  jid: z.string(),
  name: z.string(),
  state: JobStatus,
  'start-time': z.number(),
  'end-time': z.number().optional(),
});

/** GET /jobs/overview */
export const MultipleJobsDetails = z.object({ jobs: z.array(JobDetails) });

/** GET /jobs/:jobid */
export const JobDetailsInfo = z.object({
  jid: z.string(),
  name: z.string(),
  isStoppable: z.boolean().optional(),
  state: JobStatus,
  'start-time': z.number(),
  'end-time': z.number().optional(),
  now: z.number().optional(),
  /** epoch millis at which the job last entered each state (0 = never) */
  timestamps: z.record(z.string(), z.number()).optional(),
  /** JobVertexDetailsInfo: one entry per vertex, with its aggregated ExecutionState */
  vertices: z.array(z.object({ name: z.string(), status: z.string() })).default([]),
  /** how many of the job's tasks are in each ExecutionState (SCHEDULED: waiting for a slot) */
  'status-counts': z.record(z.string(), z.number()).optional(),
});
export type JobDetailsInfo = z.infer<typeof JobDetailsInfo>;

/** GET /jobs/:jobid/status */
export const JobStatusInfo = z.object({ status: JobStatus });

/** GET /jobs/:jobid/config */
export const JobConfigInfo = z.object({
  jid: z.string(),
  name: z.string().optional(),
  'execution-config': z
    .object({ 'user-config': z.record(z.string(), z.unknown()).default({}) })
    .optional(),
});

/** POST /jobs/:jobid/stop, POST /jobs/:jobid/savepoints, POST /savepoint-disposal */
export const TriggerResponse = z.object({ 'request-id': z.string() });

export const SerializedThrowable = z
  .object({
    class: z.string().optional(),
    'stack-trace': z.string().optional(),
  })
  .loose();

/** GET /jobs/:jobid/savepoints/:triggerid and GET /savepoint-disposal/:triggerid */
export const AsynchronousOperationResult = z.object({
  status: z.object({ id: z.enum(['IN_PROGRESS', 'COMPLETED']) }),
  operation: z
    .object({
      location: z.string().optional(),
      'failure-cause': SerializedThrowable.optional(),
    })
    .nullish(),
});
export type AsynchronousOperationResult = z.infer<typeof AsynchronousOperationResult>;

/** An entry of GET /jobs/:jobid/checkpoints history (Completed/Failed/PendingCheckpointStatistics) */
export const CheckpointStatistics = z.object({
  id: z.number(),
  status: z.enum(['IN_PROGRESS', 'COMPLETED', 'FAILED']),
  is_savepoint: z.boolean(),
  trigger_timestamp: z.number(),
  latest_ack_timestamp: z.number(),
  checkpoint_type: z.string(),
  external_path: z.string().nullish(),
  failure_message: z.string().nullish(),
});
export type CheckpointStatistics = z.infer<typeof CheckpointStatistics>;

/** GET /jobs/:jobid/checkpoints */
export const CheckpointingStatistics = z.object({
  counts: z.object({ completed: z.number(), failed: z.number(), in_progress: z.number() }),
  latest: z.object({
    completed: CheckpointStatistics.nullish(),
    savepoint: CheckpointStatistics.nullish(),
    failed: CheckpointStatistics.nullish(),
  }),
  history: z.array(CheckpointStatistics),
});
export type CheckpointingStatistics = z.infer<typeof CheckpointingStatistics>;

/** GET /jobs/:jobid/checkpoints/config (CheckpointConfigInfo); 404 while checkpointing is disabled */
export const CheckpointConfigInfo = z.object({
  mode: z.string(),
  /** ms between checkpoints */
  interval: z.number(),
  timeout: z.number(),
});

/** GET /jobs/:jobid/exceptions */
export const JobExceptionsInfoWithHistory = z.object({
  'root-exception': z.string().nullish(),
  timestamp: z.number().nullish(),
  exceptionHistory: z
    .object({
      entries: z.array(
        z.object({
          exceptionName: z.string(),
          stacktrace: z.string().optional(),
          timestamp: z.number(),
          taskName: z.string().nullish(),
        }),
      ),
      truncated: z.boolean().optional(),
    })
    .optional(),
});

/** GET /jobs/:jobid/metrics?get=... */
export const MetricCollectionResponseBody = z.array(z.object({ id: z.string(), value: z.string() }));

/** POST /jars/upload */
export const JarUploadResponseBody = z.object({ filename: z.string(), status: z.literal('success') });

/** POST /jars/:jarid/plan (JobPlanInfo): the job graph the jar's main method builds, not run */
export const JobPlanInfo = z.object({
  plan: z.object({
    jid: z.string(),
    name: z.string(),
    nodes: z.array(z.object({ id: z.string(), description: z.string().optional() })).default([]),
  }),
});

/**
 * GET /jobs/:jobid/plan: Flink's JobPlanInfo of a submitted job, `{"plan": {}}` while it is still
 * INITIALIZING (seen on Flink 1.20.3), so nothing but the nodes is required.
 */
export const SubmittedJobPlanInfo = z.object({
  plan: z.object({
    jid: z.string().optional(),
    nodes: z.array(z.object({ id: z.string(), description: z.string().optional() })).optional(),
  }),
});

/** POST /jars/:jarid/run */
export const JarRunResponseBody = z.object({ jobid: z.string() });
