// The restore-point catalog as a short workflow, so a client (the CLI, a service) needs nothing
// but Temporal: the worker, which sees the savepoints and the SQL gateway, does the listing.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import type { TableRef } from '../src/domain';
import type { RestorePoint } from '../src/restore-points';
import { restCall } from './activity-options';

const { listRestorePoints } = proxyActivities<Activities>(restCall);

export async function listRestorePointsWorkflow(input: { jobName: string; tables?: TableRef[] }): Promise<RestorePoint[]> {
  return listRestorePoints(input);
}
