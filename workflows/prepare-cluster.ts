// Before a stop: the next version's cluster set up where the job's target can (application mode's
// local launcher starts its TaskManager), so that JVM's start is not part of the job's downtime. A
// TaskManager alone runs and commits nothing. Only a head start: a prepare that fails is logged and
// the deploy starts the whole cluster as before; a stop that fails releases what was prepared.
import { log, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities, DeployParallelism } from '../activities/contract';
import type { Deployment } from '../src/domain/model';
import { restCall } from './activity-options';
import type { Placement } from './placement';

/** Histories recorded before this patch started nothing before the stop. */
const PREPARES_CLUSTER = 'prepares-next-cluster';

const once = proxyActivities<Activities>({ startToCloseTimeout: '90s', retry: { maximumAttempts: 1 } });
const rest = proxyActivities<Activities>(restCall);

export interface PreparedCluster {
  /** Stops the prepared cluster if its deploy never came; a launched one is left alone. */
  release(): Promise<void>;
}

/** What the deploy after the stop will be given, but the savepoint: the same token, version and parallelism. */
export interface NextVersion {
  deployment: Deployment;
  token: string;
  parallelism?: DeployParallelism;
  placement: Placement;
}

export async function prepareNextCluster({ deployment, token, parallelism, placement }: NextVersion): Promise<PreparedCluster | undefined> {
  const { target, jobName } = placement;
  if (target?.kind !== 'application' || target.launcher !== 'local' || !patched(PREPARES_CLUSTER)) return undefined;
  try {
    await once.prepareVersion({ deployment, deployToken: token, target, ...(jobName ? { jobName } : {}), ...(parallelism ? { parallelism } : {}) });
  } catch (err) {
    log.warn('the next version\'s cluster was not prepared; the deploy will start all of it', { version: deployment.version, error: String(err) });
  }
  return {
    release: () =>
      rest.releaseVersion({ deployToken: token, target }).catch((err) => {
        // Its TaskManager ends itself once Flink's taskmanager.registration.timeout (5 min) passes without a JobManager.
        log.warn('the prepared cluster was not released', { version: deployment.version, error: String(err) });
      }),
  };
}
