// The restore-point catalog as short workflows, so a client (the CLI, a service) needs nothing
// but Temporal: the worker, which sees the savepoints and the SQL gateway, does the work.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import type { TableRef } from '../src/domain/model';
import type { RestorePoint, RestorePointRecord } from '../src/domain/restore-points';
import { restCall } from './activity-options';

const { listRestorePoints, pinRestorePoint, unpinRestorePoint } = proxyActivities<Activities>(restCall);

export async function listRestorePointsWorkflow(input: { jobName: string; tables?: TableRef[] }): Promise<RestorePoint[]> {
  return listRestorePoints(input);
}

/**
 * A person's pin (never expires; also takes over an upgrade's pin), or its removal, which hands the
 * point to the retention policy.
 */
export async function pinRestorePointWorkflow(input: { jobName: string; savepointId: number; pinned: boolean }): Promise<RestorePointRecord> {
  const { jobName, savepointId } = input;
  return input.pinned ? pinRestorePoint({ jobName, savepointId }) : unpinRestorePoint({ jobName, savepointId });
}
