// The soak's three actions, each through the same client entry points an operator's tools use:
// an upgrade (src/client/start-upgrade), an intermediate savepoint (takeSavepointWorkflow, as
// `savepointctl savepoint` starts it), and a restore to a restore point from the catalog's listing
// (src/client/start-restore), approved at once through src/client/approval.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { approveRestore, restorePlan } from '../src/client/approval';
import { signedFor } from '../test/support/approvals';
import { startRestore } from '../src/client/start-restore';
import { startUpgrade } from '../src/client/start-upgrade';
import type { DeploymentTarget } from '../src/domain/deployment-target';
import type { TableRef } from '../src/domain/model';
import { jobKey, savepointWorkflowId } from '../src/domain/job-name';
import type { RestorePoint } from '../src/domain/restore-points';
import type { TakeSavepointResult } from '../src/domain/savepoint-input';
import type { UpgradeResult } from '../workflows/messages';
import type { RestoreResult } from '../workflows/restore-messages';
import { until } from '../test/support/stack';
import type { Version } from './model';

export interface Operator {
  client: Client;
  taskQueue: string;
  jobName: string;
  tables: TableRef[];
  /** The demo pipeline script of a version, aimed at the soak's tables and job name. */
  scriptFile: (version: Version) => string;
  /** Makes workflow ids unique per action. */
  runId: string;
  /** Where the upgrades and restores start versions (undefined: the session cluster, inputs as before). */
  target?: DeploymentTarget;
}

const targetOf = (op: Operator) => (op.target ? { target: op.target } : {});

const APPROVER = 'soak-approver';
/** No action may hang the soak: a workflow still running after this is terminated and the action fails. */
const ACTION_TIMEOUT_MS = 8 * 60_000;

async function resultWithin<T>(handle: WorkflowHandle, result: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void handle.terminate(`soak: ${what} took longer than ${ACTION_TIMEOUT_MS} ms`).catch(() => undefined);
      reject(new Error(`${what} (${handle.workflowId}) did not finish within ${ACTION_TIMEOUT_MS} ms; terminated`));
    }, ACTION_TIMEOUT_MS);
  });
  try {
    return await Promise.race([result, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

export async function takeSavepoint(op: Operator, version: Version, cycle: number): Promise<TakeSavepointResult> {
  const handle = await op.client.workflow.start('takeSavepointWorkflow', {
    taskQueue: op.taskQueue,
    workflowId: `${savepointWorkflowId(op.jobName)}/soak-${op.runId}-${cycle}`,
    args: [{ job: { jobName: op.jobName }, tables: op.tables, options: { label: `soak cycle ${cycle}`, deploymentVersion: version, tagTimeout: '2m' } }],
  });
  return resultWithin(handle, handle.result() as Promise<TakeSavepointResult>, 'the savepoint');
}

export async function upgrade(op: Operator, from: Version, to: Version): Promise<UpgradeResult> {
  const handle = await startUpgrade(
    op.client,
    {
      job: { jobName: op.jobName },
      newVersion: { kind: 'sql', version: to, scriptFile: op.scriptFile(to) },
      oldVersion: { kind: 'sql', version: from, scriptFile: op.scriptFile(from) },
      sinkTables: op.tables,
      ...targetOf(op),
      // A version in a cluster of its own starts a JobManager and a TaskManager first: on a loaded
      // machine that takes longer than a job submitted to the session cluster.
      options: { healthTimeout: op.target ? '4m' : '2m', tagTimeout: '2m' },
    },
    { taskQueue: op.taskQueue },
  );
  return resultWithin(handle, handle.result(), 'the upgrade');
}

/** The job's restore points as the restore workflow sees them (the same listing `savepointctl restore-points` shows). */
export async function restorePoints(op: Operator, cycle: number): Promise<RestorePoint[]> {
  const handle = await op.client.workflow.start('listRestorePointsWorkflow', {
    taskQueue: op.taskQueue,
    workflowId: `restore-points/${jobKey(op.jobName)}/soak-${op.runId}-${cycle}`,
    args: [{ jobName: op.jobName, tables: op.tables }],
  });
  return resultWithin(handle, handle.result() as Promise<RestorePoint[]>, 'the restore-point listing');
}

/** Restore to `point`, restarting `version`; every plan it shows is approved at once. */
export async function restore(op: Operator, point: RestorePoint, version: Version): Promise<RestoreResult> {
  const handle = await startRestore(
    op.client,
    {
      job: { jobName: op.jobName },
      deployment: { kind: 'sql', version, scriptFile: op.scriptFile(version) },
      sinkTables: op.tables,
      restorePoint: { savepointId: point.savepointId },
      ...targetOf(op),
      options: {
        approvers: [APPROVER],
        requestedBy: 'soak-driver',
        approvalTimeout: '5m',
        savepointTimeout: '3m',
        tagTimeout: '2m',
        healthTimeout: op.target ? '4m' : '3m',
      },
    },
    { taskQueue: op.taskQueue },
  );
  return resultWithin(handle, approveEveryPlan(op, handle, point), 'the restore');
}

async function approveEveryPlan(op: Operator, handle: WorkflowHandle, point: RestorePoint): Promise<RestoreResult> {
  const job = { jobName: op.jobName };
  let reviewed = 0;
  // A plan approved while the writer still ran may change before the restore acts on it (the
  // workflow then asks again): approve each new version until the answer is 'proceeding'.
  for (;;) {
    const plan = await until('the restore to wait for approval', ACTION_TIMEOUT_MS, async () => {
      const ended = await handle.describe().then((d) => d.status.name !== 'RUNNING');
      if (ended) return null;
      const p = await restorePlan(op.client, job).catch(() => undefined);
      return p && p.version > reviewed ? p : undefined;
    });
    if (plan === null) break;
    reviewed = plan.version;
    const answer = await approveRestore(op.client, job, await signedFor(op.client, job, { approver: APPROVER, comment: `soak: restore to ${point.tag}`, planVersion: plan.version }));
    if (answer.outcome !== 'plan-changed') break;
  }
  return handle.result() as Promise<RestoreResult>;
}
