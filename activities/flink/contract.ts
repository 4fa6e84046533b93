// What the workflows may ask of Flink (its REST API), and the answers' shapes; they see it
// through activities/contract.ts, as types only.
import type { DeploymentTarget } from '../../src/domain/deployment-target';
import type { Deployment, HealthReport, JobRef, JobState, JobSummary, Savepoint, TableRef } from '../../src/domain/model';

export interface FlinkActivities {
  /** Cluster overview; fails non-retryably (type UnsupportedFlinkVersion) unless Flink is 1.20.x. */
  checkFlinkCluster(): Promise<{ flinkVersion: string; taskManagers: number; slotsAvailable: number }>;
  /** Resolve a job id or name to one job (JobNotFound / JobNameAmbiguous otherwise). */
  /** With `target`, only where that target runs jobs (the session cluster, or the launches of that launcher). */
  resolveJob(input: { job: JobRef; target?: DeploymentTarget }): Promise<JobSummary>;
  getJob(input: { jobId: string }): Promise<JobSummary>;
  cancelJob(input: { jobId: string }): Promise<void>;
  /**
   * Stop-with-savepoint, polled until COMPLETED with heartbeats. `triggerId` (32 hex chars, derived
   * from the workflow and activity identity) makes a retried activity find the same savepoint.
   */
  stopWithSavepoint(input: {
    jobId: string;
    triggerId: string;
    drain: boolean;
    targetDirectory?: string;
    formatType?: 'CANONICAL' | 'NATIVE';
  }): Promise<Savepoint>;
  /** An intermediate savepoint (the job keeps running); same idempotency as stopWithSavepoint. */
  triggerSavepoint(input: {
    jobId: string;
    triggerId: string;
    targetDirectory?: string;
    formatType?: 'CANONICAL' | 'NATIVE';
  }): Promise<Savepoint>;
  /** The savepoint id (checkpoint id) of a savepoint path, read from its `_metadata` header. */
  inspectSavepoint(input: { path: string }): Promise<{ savepointId: number; exists: boolean }>;
  disposeSavepoint(input: { path: string }): Promise<void>;
  /**
   * Deploy a version, optionally restoring from a savepoint. `deployToken` makes it idempotent: a
   * retry finds the job the first attempt started instead of starting a second one.
   */
  deployJob(input: {
    deployment: Deployment;
    deployToken: string;
    /** where the version runs: the session cluster (default), or an application cluster its launcher starts */
    target?: DeploymentTarget;
    /** the job's name, recorded with an application cluster's launch (default the script's pipeline.name) */
    jobName?: string;
    savepointPath?: string;
    allowNonRestoredState?: boolean;
    /** build the graph at `graphParallelism`, then set each vertex's (planUpgradeShape) */
    parallelism?: DeployParallelism;
  }): Promise<{ jobId: string; restUrl?: string; /** a session prepared before the stop was used (prepareVersion) */ preparedSession?: boolean }>;
  /**
   * Before the old version stops: the new version's cluster set up where its target can (the local
   * launcher starts its TaskManager), or a SQL version's gateway session on the session cluster (its
   * catalog and the script's statements that change only the session), so the deploy of the same
   * `deployToken` has less to do while the job is down. Starts no job; nothing for a jar on the
   * session cluster or the command launcher.
   */
  prepareVersion(input: {
    deployment: Deployment;
    deployToken: string;
    target?: DeploymentTarget;
    jobName?: string;
    /** when known before the stop (a restore point's): the deploy then sets nothing more */
    savepointPath?: string;
    allowNonRestoredState?: boolean;
    parallelism?: DeployParallelism;
  }): Promise<{ prepared: boolean }>;
  /** Stops a prepared cluster, or closes a prepared session, whose deploy will not come; a launched one is left alone. */
  releaseVersion(input: { deployToken: string; target?: DeploymentTarget }): Promise<void>;
  /** Healthy = RUNNING and a checkpoint completed after `since` (epoch ms), within `timeoutMs`. */
  awaitHealthy(input: { jobId: string; since: number; timeoutMs: number }): Promise<HealthReport>;
  /**
   * Every version an operation may start, checked before anything is stopped: the script or jar
   * is a readable file inside the deployments root, SQL compiles against the live catalog to one job
   * writing exactly `sinkTables`, a jar's entry class builds a job graph. DeploymentCheckFailed
   * naming each file and its problem otherwise; changes nothing.
   */
  checkDeployments(input: { deployments: Deployment[]; sinkTables: TableRef[] }): Promise<{ checked: DeploymentCheck[] }>;
  /**
   * The job completed a checkpoint since it last (re)started, recently enough; NoRecentCheckpoint
   * with the job's latest exception or checkpoint failure otherwise (activities/flink/checkpoint-recency.ts).
   */
  requireRecentCheckpoint(input: { jobId: string }): Promise<RecentCheckpoint>;
  /**
   * Before an upgrade's stop: the new version's parallelism per vertex, and whether its job graph
   * claims the state the running job keeps (activities/flink/upgrade-shape.ts). DeploymentCheckFailed
   * naming each problem otherwise; changes nothing.
   */
  planUpgradeShape(input: {
    jobId: string;
    newVersion: Deployment;
    parallelism?: number;
    vertexParallelism?: Record<string, number>;
    allowNonRestoredState?: boolean;
  }): Promise<UpgradeShape>;
  /**
   * The parallelism a job runs at: its graph's, and each vertex's now (activities/flink/job-parallelism.ts).
   * What a job started again from its savepoint takes to run as it ran.
   */
  jobParallelism(input: { jobId: string }): Promise<DeployParallelism>;
  /**
   * Every live job whose plan writes or reads any of `tables`, whatever its name
   * (activities/flink/table-jobs.ts); jobs that touch none are left out.
   */
  findTableJobs(input: { tables: TableRef[] }): Promise<TableJob[]>;
  /**
   * The job's state as Flink has it now, and its latest completed checkpoint or savepoint whose files
   * are still there: where a writer that is no longer running starts again from (activities/flink/retained-state.ts).
   */
  retainedState(input: { jobId: string }): Promise<RetainedState>;
}

/** A job's state and where it can be started again from. */
export interface RetainedState {
  jobId: string;
  state: JobState;
  /** null: Flink lists no completed checkpoint or savepoint whose files are there */
  retained: { kind: 'checkpoint' | 'savepoint'; id: number; path: string; completedAt: number } | null;
  /** newer ones listed by Flink whose files are gone */
  gone?: string[];
}

/** A live job that writes or reads some of the tables asked about, as its plan in Flink says. */
export interface TableJob {
  jobId: string;
  name: string;
  state: JobState;
  /**
   * Tables it writes. Paimon names its writer after the table alone (`Writer : t`), so these are
   * the tables asked about whose name it writes: Flink's plan does not say the database.
   */
  writes: TableRef[];
  /** Tables it reads (the planner names the full identifier), with the source's consumer-id hint. */
  reads: { table: TableRef; consumerId?: string }[];
}

export interface DeployParallelism {
  /** the running job's parallelism, at which the new graph is built so that every operator keeps its id */
  graphParallelism: number;
  /** pipeline.jobvertex-parallelism-overrides: vertex id to parallelism */
  overrides: Record<string, number>;
}

/** What an upgrade's new version does with the running job's state, as checked before the stop. */
export interface StateCheck {
  /** false where Flink gives no way to check before the stop (SQL, no checkpoint yet); `text` says why */
  checked: boolean;
  text: string;
  /** vertices with state in the latest checkpoint that the new job graph does not have */
  unclaimed?: { id: string; name: string }[];
}

export interface UpgradeShape {
  /** the parallelism asked for, per vertex */
  parallelism?: DeployParallelism & { vertices: { id: string; name: string; from: number; to: number; kept?: string }[] };
  /** the running job's graph parallelism and each vertex's parallelism now */
  running: DeployParallelism;
  stateCheck: StateCheck;
}

/** One version that passed checkDeployments. */
export interface DeploymentCheck {
  version: string;
  kind: 'sql' | 'jar';
  /** the real path of the script or jar (absent for an inline script) */
  file?: string;
  /** the tables its job writes, as the planner names them (SQL only: a jar's job graph does not say) */
  sinks?: string[];
  /** the job graph's name (jar only) */
  jobName?: string;
  /** statements the check did not run because they would change the catalog (CREATE TABLE, ...) */
  notRun?: string[];
  tookMs: number;
}

export interface RecentCheckpoint {
  jobId: string;
  checkpointId: number;
  /** epoch ms */
  completedAt: number;
}
