// The Flink activities of the contract, bound to one Flink REST client and one SQL gateway client.
import type { Config } from '../../src/config/config';
import type { FlinkActivities } from '../contract';
import { SqlGatewayClient } from '../sql-gateway/client';
import { FlinkClient } from './client';
import { requireRecentCheckpoint } from './checkpoint-recency';
import { deployJob } from './deploy';
import { checkDeployments } from './deployment-check';
import { awaitHealthy } from './health';
import { jobParallelism } from './job-parallelism';
import { cancelJob, checkFlinkCluster, getJob, resolveJob } from './jobs';
import { disposeSavepoint, inspectSavepoint, stopWithSavepoint, triggerSavepoint } from './savepoints';
import { retainedState } from './retained-state';
import { findTableJobs, PlanCache } from './table-jobs';
import { planUpgradeShape } from './upgrade-shape';

export interface FlinkActivityOptions {
  /** One pause for every poll (savepoint, disposal, health gate) instead of the configured ones (tests). */
  pollIntervalMs?: number;
}

export function createFlinkActivities(
  config: Pick<Config, 'flink' | 'sqlGateway' | 'paimon' | 'deployments'>,
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
  return {
    checkFlinkCluster: () => checkFlinkCluster(flink),
    resolveJob: (input) => resolveJob(flink, input),
    getJob: (input) => getJob(flink, input),
    cancelJob: (input) => cancelJob(flink, input),
    stopWithSavepoint: (input) => stopWithSavepoint(flink, savepointPoll, input),
    triggerSavepoint: (input) => triggerSavepoint(flink, savepointPoll, input),
    inspectSavepoint: (input) => inspectSavepoint(input),
    disposeSavepoint: (input) => disposeSavepoint(flink, savepointPoll, input),
    deployJob: (input) => deployJob(flink, gateway, config.paimon, input),
    awaitHealthy: (input) => awaitHealthy(flink, healthPoll, input),
    checkDeployments: (input) => checkDeployments(flink, gateway, config, input),
    requireRecentCheckpoint: (input) => requireRecentCheckpoint(flink, config.flink.checkpointMaxAgeMs, input),
    findTableJobs: (input) => findTableJobs(flink, input, plans),
    planUpgradeShape: (input) => planUpgradeShape(flink, config, input),
    jobParallelism: (input) => jobParallelism(flink, input),
    retainedState: (input) => retainedState(flink, input),
  };
}
