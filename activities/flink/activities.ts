// The Flink activities of the contract, bound to one Flink REST client and one SQL gateway client.
import type { Config } from '../../src/config/config';
import type { FlinkActivities } from '../contract';
import { SqlGatewayClient } from '../sql-gateway/client';
import { FlinkClient } from './client';
import { requireRecentCheckpoint } from './checkpoint-recency';
import { deployJob, prepareVersion, releaseVersion } from './deploy';
import { PreparedSessions } from './sql-session-prepare';
import { checkDeployments } from './deployment-check';
import { awaitHealthy } from './health';
import { jobParallelism } from './job-parallelism';
import { cancelJob, checkFlinkCluster, getJob } from './jobs';
import { disposeSavepoint, inspectSavepoint, stopWithSavepoint, triggerSavepoint } from './savepoints';
import { retainedState } from './retained-state';
import { PlanCache } from './table-jobs';
import { planUpgradeShape } from './upgrade-shape';
import { loadApplicationModeConfig, type ApplicationModeConfig } from '../../src/config/application-mode';
import { Clusters } from '../targets/clusters';
import { findTableJobsAcross, resolveJobAcross } from '../targets/jobs-across';
import { LaunchRegistry } from '../targets/registry';
import { applicationDrivers } from '../targets/targets';

export interface FlinkActivityOptions {
  /** One pause for every poll (savepoint, disposal, health gate) instead of the configured ones (tests). */
  pollIntervalMs?: number;
  /** Application mode's launchers and registry (default: read from the environment, README: application mode). */
  applicationMode?: ApplicationModeConfig;
}

/** The job id in an activity's input, to find the cluster it runs in; the activity's own parse checks it. */
const jobIdOf = (input: unknown): unknown => (input as { jobId?: unknown } | undefined)?.jobId;

export function createFlinkActivities(
  config: Pick<Config, 'flink' | 'sqlGateway' | 'paimon' | 'deployments' | 'stackHome'>,
  options: FlinkActivityOptions = {},
): FlinkActivities {
  const flink = new FlinkClient(config.flink);
  // The gateway is part of the same Flink deployment, so it takes the same auth header and CA.
  const gateway = new SqlGatewayClient({
    url: config.sqlGateway.url,
    requestTimeoutMs: config.flink.requestTimeoutMs,
    authHeader: config.flink.authHeader,
    caFile: config.flink.caFile,
  });
  // Savepoint and disposal status are asynchronous-operation lookups, cheap for the JobManager.
  const savepointPoll = { pollIntervalMs: options.pollIntervalMs ?? config.flink.savepointPollIntervalMs };
  const healthPoll = { pollIntervalMs: options.pollIntervalMs ?? config.flink.healthPollIntervalMs };
  /** Each live job's plan, read once (findTableJobs). */
  const plans = new PlanCache();
  const appMode = options.applicationMode ?? loadApplicationModeConfig(config.stackHome);
  const registry = new LaunchRegistry(appMode.registryDir);
  const application = { drivers: applicationDrivers(appMode), registry };
  // The cluster a job runs in: the session cluster, or the one its launch recorded.
  const clusters = new Clusters(flink, registry, config.flink);
  const of = (input: unknown) => clusters.ofJob(jobIdOf(input));
  /** SQL versions' gateway sessions prepared before a stop, for their deploys in this worker. */
  const sessions = new PreparedSessions(gateway);
  return {
    checkFlinkCluster: () => checkFlinkCluster(flink),
    resolveJob: (input) => resolveJobAcross(clusters, input),
    getJob: async (input) => getJob(await of(input), input),
    cancelJob: async (input) => cancelJob(await of(input), input),
    stopWithSavepoint: async (input) => stopWithSavepoint(await of(input), savepointPoll, input),
    triggerSavepoint: async (input) => triggerSavepoint(await of(input), savepointPoll, input),
    inspectSavepoint: (input) => inspectSavepoint(input),
    disposeSavepoint: (input) => disposeSavepoint(flink, savepointPoll, input),
    deployJob: (input) => deployJob(flink, gateway, config.paimon, input, application, sessions),
    prepareVersion: (input) => prepareVersion(input, application, { sessions, paimon: config.paimon }),
    releaseVersion: (input) => releaseVersion(input, application, sessions),
    awaitHealthy: async (input) => awaitHealthy(await of(input), healthPoll, input),
    checkDeployments: (input) => checkDeployments(flink, gateway, config, input),
    requireRecentCheckpoint: async (input) => requireRecentCheckpoint(await of(input), config.flink.checkpointMaxAgeMs, input),
    findTableJobs: (input) => findTableJobsAcross(clusters, input, plans),
    planUpgradeShape: async (input) => planUpgradeShape(await of(input), config, input),
    jobParallelism: async (input) => jobParallelism(await of(input), input),
    retainedState: async (input) => retainedState(await of(input), input),
  };
}
