// The restore points an operation in flight uses, so retention never deletes them under it. Every
// upgrade and restore of a job runs as flink-job/<job name> (one at a time, workflows/messages.ts),
// and its `status` query names the points it works with.
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { z } from 'zod';
import type { PointInUse } from '../../src/domain/retention-input';
import type { RunningOperation } from '../../src/domain/running-operation';

/** The operations that name restore points in their status; a savepoint or retention holding the id names none. */
const POINT_USERS = new Set(['upgradeWorkflow', 'restoreWorkflow']);

const point = z.object({ savepointId: z.number().int(), path: z.string() }).loose();

/** Only what names a point: a restore's planned point and today's savepoint, an upgrade's savepoint. */
const OperationStatus = z
  .object({
    plan: z.object({ restorePoint: point.optional(), writer: z.object({ stoppedWithSavepoint: point.optional() }).loose().optional() }).loose().optional(),
    todaysSavepoint: point.optional(),
    savepoint: z.object({ id: z.number().int(), path: z.string() }).loose().optional(),
  })
  .loose();

export async function restorePointsInUse({ jobName }: { jobName: string }): Promise<PointInUse[]> {
  const workflowId = `flink-job/${jobName}`;
  const handle = Context.current().client.workflow.getHandle(workflowId);
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return [];
    throw err;
  }
  if (description.status.name !== 'RUNNING' || !POINT_USERS.has(description.type)) return [];
  // A run that cannot answer yet (its first task not done) works with no point yet either; any
  // other error is retried: deciding without knowing could delete the point it is about to use.
  const status = OperationStatus.parse(await handle.query('status'));
  const by = `${description.type} ${workflowId}`;
  const used: PointInUse[] = [];
  const add = (p: { savepointId: number; path: string } | undefined) => p && used.push({ savepointId: p.savepointId, path: p.path, by });
  add(status.plan?.restorePoint);
  add(status.plan?.writer?.stoppedWithSavepoint);
  add(status.todaysSavepoint);
  if (status.savepoint) add({ savepointId: status.savepoint.id, path: status.savepoint.path });
  // A restore still planning has no plan to show yet, but its input names the point it will plan
  // with ('latest-restorable' is the newest restorable point, which retention always keeps).
  if (description.type === 'restoreWorkflow' && !status.plan) {
    const savepointId = await requestedPoint(handle);
    if (savepointId !== undefined) used.push({ savepointId, by });
  }
  return used;
}

const RestoreRequest = z.object({ restorePoint: z.union([z.object({ savepointId: z.number().int() }).loose(), z.object({ tag: z.string() }).loose(), z.string()]) }).loose();

/** The savepoint id a restore's input asks for, from the first event of its history. */
async function requestedPoint(handle: WorkflowHandle): Promise<number | undefined> {
  const { client } = Context.current();
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: handle.workflowId },
    maximumPageSize: 1,
  });
  const payload = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) return undefined;
  const parsed = RestoreRequest.safeParse(defaultPayloadConverter.fromPayload(payload));
  if (!parsed.success || typeof parsed.data.restorePoint === 'string') return undefined;
  const ref = parsed.data.restorePoint;
  const id = 'savepointId' in ref ? Number(ref.savepointId) : Number(/^savepoint-(\d+)$/.exec(String(ref.tag))?.[1]);
  return Number.isInteger(id) ? id : undefined;
}

/** What runs under this workflow id now (type, run, start time); undefined when nothing runs under it. */
export async function describeOperation({ workflowId }: { workflowId: string }): Promise<RunningOperation | undefined> {
  try {
    const description = await Context.current().client.workflow.getHandle(workflowId).describe();
    if (description.status.name !== 'RUNNING') return undefined;
    return { workflowId, workflowType: description.type, runId: description.runId, startTime: description.startTime.toISOString() };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}
