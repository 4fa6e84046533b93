// One interface for where a job's versions run (as the Flink Kubernetes Operator keeps one small
// class per upgrade mode): start a version from a savepoint and say where it runs; stop what is no
// longer needed. One module per target (session.ts, local.ts, command.ts), chosen in targets.ts.
import type { DeployParallelism } from '../contract';
import type { Deployment } from '../../src/domain/model';

export interface LaunchRequest {
  /** the job's name: with the target, what identifies the job across its versions' clusters */
  jobName: string;
  deployment: Deployment;
  /** one launch per token: a retried launch finds the cluster and job the first attempt started */
  deployToken: string;
  /** 32 hex characters derived from deployToken (deployIdOf), usable in names and paths */
  deployId: string;
  /** the SQL script or jar on the worker's disk (an inline script is written to a file first) */
  artifact: string;
  savepointPath?: string;
  allowNonRestoredState: boolean;
  parallelism?: DeployParallelism;
}

export interface Launched {
  jobId: string;
  /** the REST address of the cluster the job runs in, without a trailing slash */
  restUrl: string;
}

export interface TargetDriver {
  launch(request: LaunchRequest): Promise<Launched>;
  /**
   * Stops the clusters whose job ended (stopped, failed, replaced); nothing for a shared session
   * cluster. Never the cluster of `exceptDeployId`, the launch just made: if its job failed at once,
   * why is for the health gate to read there.
   */
  reap(exceptDeployId?: string): Promise<void>;
  /**
   * Whether reap may wait until the launch is over instead of running before it. Stopping the
   * replaced version's processes takes seconds, and CPU that the starting JVMs need, that the new
   * version's downtime need not wait for, where the machine has room for both clusters a moment; a
   * platform may need the old cluster's resources (a namespace quota) before the new one fits.
   */
  readonly reapsAfterLaunch: boolean;
  /**
   * Sets the version's cluster up before the old version stops, where the target can (the local
   * launcher starts its TaskManager), so the launch after the stop has less to start. A later launch
   * of the same deployId uses it; nothing it starts runs or commits a job.
   */
  prepare?(request: Omit<LaunchRequest, 'savepointPath' | 'allowNonRestoredState'>): Promise<void>;
  /** Stops and removes a prepared cluster that was never launched; a launched one is left alone. */
  release?(deployId: string): Promise<void>;
}
