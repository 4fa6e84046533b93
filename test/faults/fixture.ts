// What the fault tests share: the demo pipeline on our own tables (database `faults`), an upgrade
// of it to v2 started through src/client/start-upgrade.ts, a way to catch the workflow inside a
// given activity (from Temporal's own record of it), and the end-state checks every fault must
// pass: exactly one savepoint, exactly one live job, every id exactly once.
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, expect } from 'vitest';
import { startUpgrade } from '../../src/client/start-upgrade';
import type { UpgradeResult } from '../../workflows/messages';
import { run } from '../support/activity-calls';
import { activities } from '../support/flink-activities';
import { awaitCheckpointedRun, cancelJobsNamed, createSinkTables, demoScripts, liveJobsNamed } from '../support/demo-pipeline';
import { expectIdsOnceIn, maxIdsOf } from '../support/demo-rows';
import { resultThroughRestarts, terminateIfRunning as terminateWorkflowIfRunning } from '../support/operation-handles';
import { savepointDirsOf } from '../support/savepoint-dirs';
import { config, flinkGet, paimonQuery, requireStack, until } from '../support/stack';
import { unique } from '../support/temporal-env';
import type { WorkerProcess } from '../support/worker-process';

export const DATABASE = 'faults';
// Names no other test's job writes: the demo job (left by `stack.sh demo`) writes seq_a and seq_b,
// and an upgrade refuses tables of a name another live job writes.
export const TABLES = ['faults_seq_a', 'faults_seq_b'];
export const SINKS = TABLES.map((t) => `${DATABASE}.${t}`);
/** Every job a fault test starts is named faults-...; cleanup cancels only those. */
export const JOB_PREFIX = 'faults-';

/** The demo pipeline's scripts on the fault tests' own tables. */
export const script = demoScripts(DATABASE, { seq_a: TABLES[0]!, seq_b: TABLES[1]! });

export async function connectClient(): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: '5s' });
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** Fresh tables and demo pipeline v1 under `jobName`, running with rows in both tables. */
export async function startV1(jobName: string): Promise<string> {
  await createSinkTables(DATABASE, TABLES);
  const { jobId } = await run(activities().deployJob, {
    deployment: { kind: 'sql', version: 'v1', scriptFile: script('pipeline-v1.sql', jobName) },
    deployToken: unique(jobName),
  });
  await awaitCheckpointedRun(jobId);
  await until('rows in both tables', 60_000, async () => ((await maxIds()).every((hi) => hi > 20) ? true : undefined));
  return jobId;
}

export const maxIds = (tag?: string): Promise<number[]> => maxIdsOf(DATABASE, TABLES, tag);

/**
 * Upgrade `jobName` to v2 on `taskQueue`, from v1 or (`label` other than 'v2') from the v2 an
 * earlier upgrade left running; v2 continues the ids where its savepoint left them either way.
 */
export function upgradeToV2(client: Client, jobName: string, taskQueue: string, from: 'v1' | 'v2' = 'v1', label = 'v2') {
  return startUpgrade(
    client,
    {
      job: { jobName },
      newVersion: { kind: 'sql', version: label, scriptFile: script('pipeline-v2.sql', jobName) },
      oldVersion: { kind: 'sql', version: from, scriptFile: script(`pipeline-${from}.sql`, jobName) },
      sinkTables: SINKS,
      options: { healthTimeout: '2m', tagTimeout: '90s', savepointTimeout: '3m' },
    },
    { taskQueue },
  );
}

const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

/** Resolves once a worker has picked up activity `type` of the workflow (and not finished it). */
export async function activityRunning(handle: WorkflowHandle, type: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { raw, status } = await handle.describe();
    if ((raw.pendingActivities ?? []).some((a) => a.activityType?.name === type && a.state === STARTED)) return;
    if (status.name !== 'RUNNING' || Date.now() > deadline) {
      throw new Error(`${handle.workflowId} is ${status.name} and never ran ${type} (waited ${timeoutMs} ms)`);
    }
    // Short activities (a tag check, one rollback_to) run for a second or two: look often.
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * How long after `since` (a worker's death) a later attempt of the pending `type` activity
 * started: the heartbeat timeout plus the retry's backoff. Undefined when the activity ended
 * first (its attempt had finished its work before the kill).
 */
export async function retryStartedAfter(handle: WorkflowHandle, type: string, since: number, timeoutMs = 120_000): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { raw } = await handle.describe();
    const pending = (raw.pendingActivities ?? []).find((a) => a.activityType?.name === type);
    // A later attempt scheduled or started: the server noticed the dead worker (heartbeat timeout).
    if (pending && (pending.attempt ?? 1) > 1) return Date.now() - since;
    if (!pending) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // The retry ran and finished between two looks: its ActivityTaskStarted carries when it started.
  const { events } = await handle.fetchHistory();
  const scheduled = new Set((events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type).map((e) => String(e.eventId)));
  const started = (events ?? []).filter(
    (e) => e.activityTaskStartedEventAttributes && scheduled.has(String(e.activityTaskStartedEventAttributes.scheduledEventId)) && (e.activityTaskStartedEventAttributes.attempt ?? 1) > 1,
  );
  const at = started.at(-1)?.eventTime;
  return at?.seconds != null ? Number(at.seconds) * 1000 + Math.floor((at.nanos ?? 0) / 1e6) - since : undefined;
}

/** The attempt number of every ActivityTaskStarted of `type` in the history (written when the attempt ends). */
export async function startedAttempts(handle: WorkflowHandle, type: string): Promise<number[]> {
  const { events } = await handle.fetchHistory();
  const typeOf = new Map<string, string>();
  const attempts: number[] = [];
  for (const e of events ?? []) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(String(e.eventId), scheduled.activityType?.name ?? '');
    const started = e.activityTaskStartedEventAttributes;
    if (started && typeOf.get(String(started.scheduledEventId)) === type) attempts.push(started.attempt ?? 0);
  }
  return attempts;
}

/** The upgrade's result, waiting through a Temporal server that is away for a while. */
export const resultOf = (handle: WorkflowHandle, timeoutMs = 300_000): Promise<UpgradeResult> => resultThroughRestarts<UpgradeResult>(handle, timeoutMs);

export { savepointDirsOf };

/**
 * What every upgrade that survived a fault must show: `upgraded`; the old job stopped by exactly
 * one savepoint (in its checkpoint statistics and on disk); exactly one live job of that name,
 * the new one; the savepoint's tag on both tables; and, once v2 has written more, every id from 1
 * up exactly once, v1's payload up to `v1UpTo` (default: the tag, for an upgrade from v1) and v2's after it.
 */
export async function expectCleanUpgrade(
  result: UpgradeResult,
  oldJobId: string,
  jobName: string,
  v1UpTo?: number[],
): Promise<void> {
  expect(result).toMatchObject({ status: 'upgraded', oldJobId, tag: `savepoint-${result.savepoint?.id}` });
  const stats = await flinkGet<{ history: { is_savepoint: boolean; status: string; id: number }[] }>(`/jobs/${oldJobId}/checkpoints`);
  expect(stats.history.filter((c) => c.is_savepoint).map((c) => ({ id: c.id, status: c.status }))).toEqual([
    { id: result.savepoint!.id, status: 'COMPLETED' },
  ]);
  expect(await savepointDirsOf(oldJobId)).toHaveLength(1);
  expect((await liveJobsNamed(jobName)).map((j) => j.jid)).toEqual([result.newJobId]);
  const tagged = await paimonQuery(
    TABLES.map((t) => `SELECT '${t}' AS t FROM \`${DATABASE}\`.\`${t}$tags\` WHERE tag_name = '${result.tag}'`).join(' UNION ALL '),
  );
  expect(tagged.map((r) => r.t).sort()).toEqual([...TABLES].sort());
  const atTag = await maxIds(result.tag);
  await until('v2 to write past the tag in both tables', 90_000, async () => {
    const now = await maxIds();
    return now.every((hi, i) => hi > atTag[i]! + 20) ? true : undefined;
  });
  await expectIdsOnce(v1UpTo ?? atTag, 'v2');
}

/** Every id from 1 to the largest exactly once; `v1:` payloads up to `v1UpTo[i]`, `later:` after. */
export const expectIdsOnce = (v1UpTo: number[], later: 'v1' | 'v2'): Promise<void> => expectIdsOnceIn(DATABASE, TABLES, v1UpTo, later);

/** After a failed test: end our upgrade or restore if it still runs, so a rerun can start one. */
export const terminateIfRunning = (client: Client, jobName: string): Promise<void> =>
  terminateWorkflowIfRunning(client, `flink-job/${jobName}`, 'fault test cleanup');

/** What one fault test file works with; `worker` is the file's worker process once it started one. */
export interface FaultScene {
  jobName: string;
  taskQueue: string;
  client: Client;
  worker?: WorkerProcess;
}

/**
 * A fault test file's job name and task queue (`faults-<name>`), a client, and the teardown every
 * file needs whatever happened: the disrupted service back first (later test files need it), then
 * our worker, our workflow and our jobs gone, then what `cleanUp` removes.
 */
export function faultScene(
  name: string,
  { bringBack, cleanUp }: { bringBack?: () => Promise<unknown>; cleanUp?: () => Promise<unknown> } = {},
): FaultScene {
  const scene = { jobName: `${JOB_PREFIX}${name}`, taskQueue: unique(`${JOB_PREFIX}${name}`) } as FaultScene;
  beforeAll(async () => {
    await requireStack();
    await cancelJobsNamed(scene.jobName);
    scene.client = await connectClient();
  });
  afterAll(async () => {
    await bringBack?.();
    await scene.worker?.stop();
    if (scene.client) await terminateIfRunning(scene.client, scene.jobName).catch(() => undefined);
    await cancelJobsNamed(scene.jobName);
    await cleanUp?.();
    await scene.client?.connection.close();
  });
  return scene;
}
