// Savepoints: stop-with-savepoint, intermediate savepoints, disposal, and the savepoint id
// (= checkpoint id) that Paimon's `savepoint-<id>` tag is named after.
import { Context } from '@temporalio/activity';
import type { Savepoint } from '../../src/domain/model';
import { FailureType, fatal } from '../errors';
import { HttpStatusError, rootCause } from '../http';
import type { FlinkClient, SavepointRequest } from './client';
import { jobNotRunning } from './errors';
import { SavepointPathInput, StopWithSavepointInput, TriggerSavepointInput, parseInput } from './inputs';
import { TERMINAL_STATES, jobDetails, jobState } from './jobs';
import { localPath, readSavepointHeader, sameLocation } from './savepoint-metadata';
import type { AsynchronousOperationResult } from './schemas';
import { slotShortage } from './slots';

export interface PollOptions {
  pollIntervalMs: number;
}

interface SavepointOrder extends SavepointRequest {
  jobId: string;
  /** stop-with-savepoint (true) or an intermediate savepoint (false) */
  stop: boolean;
  drain: boolean;
}

export async function stopWithSavepoint(flink: FlinkClient, poll: PollOptions, input: unknown): Promise<Savepoint> {
  const order = parseInput('stopWithSavepoint', StopWithSavepointInput, input);
  return takeSavepoint(flink, poll, { ...order, stop: true });
}

export async function triggerSavepoint(flink: FlinkClient, poll: PollOptions, input: unknown): Promise<Savepoint> {
  const order = parseInput('triggerSavepoint', TriggerSavepointInput, input);
  return takeSavepoint(flink, poll, { ...order, stop: false, drain: false });
}

/**
 * Flink keys savepoint operations by trigger id: triggering again with a known id returns the same
 * operation, and GET .../savepoints/:triggerId answers for it for rest.async.store-duration (5 min
 * by default), even after stop-with-savepoint finished the job. So a retried activity looks its
 * trigger up first and only triggers when Flink has never seen it.
 */
async function takeSavepoint(flink: FlinkClient, poll: PollOptions, order: SavepointOrder): Promise<Savepoint> {
  const { jobId, triggerId } = order;
  const attempted = `${order.stop ? 'stop-with-savepoint of' : 'savepoint of'} job ${jobId} (trigger ${triggerId})`;
  // From the first call on: a worker that dies here is noticed within the heartbeat timeout.
  Context.current().heartbeat({ triggerId, status: 'LOOKING-UP', waitedMs: 0 });
  const job = await jobDetails(flink, jobId, attempted);
  let result = await knownTrigger(flink, jobId, triggerId);
  if (result === undefined) {
    if (job.state !== 'RUNNING') {
      // Flink forgets a trigger after rest.async.store-duration; a job that our earlier attempt
      // stopped then shows up as FINISHED with a synchronous savepoint as its last.
      const stopped = order.stop && job.state === 'FINISHED' ? await stopSavepointOf(flink, jobId) : undefined;
      if (stopped) return stopped;
      if (TERMINAL_STATES.has(job.state)) throw jobNotRunning(jobId, job.state, attempted);
      // RESTARTING, INITIALIZING...: a savepoint needs every task running, which may come soon.
      throw new Error(`${attempted}: the job is ${job.state}; a savepoint needs it RUNNING. Will retry.`);
    }
    // A RUNNING job may still be deploying tasks; Flink would fail the savepoint (and remember
    // that failure under our trigger id), so wait for the tasks instead.
    const starting = job.vertices.filter((v) => v.status !== 'RUNNING' && v.status !== 'FINISHED');
    if (starting.length > 0) {
      // Tasks that wait for a slot never start by themselves: say so in plain words.
      const slots = await slotShortage(flink, jobId).catch(() => undefined);
      throw new Error(`${attempted}: ${slots ?? `${starting.length} task(s) are not running yet (${starting[0]!.status})`}. Will retry.`);
    }
    const request = { triggerId, formatType: order.formatType, targetDirectory: order.targetDirectory };
    if (order.stop) await flink.stopWithSavepoint(jobId, { ...request, drain: order.drain });
    else await flink.triggerSavepoint(jobId, request);
  }
  const started = Date.now();
  for (;;) {
    result ??= await flink.savepointStatus(jobId, triggerId);
    if (result.status.id === 'COMPLETED') break;
    Context.current().heartbeat({ triggerId, status: result.status.id, waitedMs: Date.now() - started });
    await Context.current().sleep(poll.pollIntervalMs);
    result = undefined;
  }
  const location = result.operation?.location;
  if (!location) {
    const cause = rootCause(result.operation?.['failure-cause']?.['stack-trace']);
    // "Not all required tasks are currently running": a job whose tasks wait for slots.
    const slots = /not all required tasks are currently running/i.test(cause) ? await slotShortage(flink, jobId).catch(() => undefined) : undefined;
    throw fatal(
      FailureType.SavepointFailed,
      `${attempted} failed: ${cause}.${slots ? ` ${slots}` : ''} ` +
        `${await stateAfterFailure(flink, jobId, order.stop)}; see its exceptions in the Flink UI. ` +
        'To try again use a new trigger id: Flink remembers the outcome of this one for a while.',
    );
  }
  if (order.stop) await awaitStopped(flink, poll, jobId, triggerId, attempted);
  return describeSavepoint(flink, jobId, location, order.stop);
}

/**
 * What the job is doing after its savepoint failed, in Flink's word (GET /jobs/:id/status, not
 * cached): "keeps running" only when Flink says RUNNING. A failed savepoint need not leave the job
 * running: another stop may be finishing it, or a failover restarting it.
 */
async function stateAfterFailure(flink: FlinkClient, jobId: string, stop: boolean): Promise<string> {
  let state: string;
  try {
    state = await jobState(flink, jobId, `looking up job ${jobId} after its savepoint failed`);
  } catch (err) {
    return `${stop ? 'The job was not stopped by it' : 'The savepoint changed nothing'}; Flink did not say what state the job is in now (${(err as Error).message})`;
  }
  if (state === 'RUNNING') return `${stop ? 'The job was not stopped: Flink says it is RUNNING' : 'The job keeps running (Flink says RUNNING)'}`;
  return `${stop ? 'The job was not stopped by it' : 'The savepoint changed nothing'}; Flink says the job is ${state} now${
    TERMINAL_STATES.has(state) ? '' : ' (not running: it may be stopping or restarting)'
  }`;
}

/**
 * Flink reports a stop-with-savepoint COMPLETED before the job's tasks have finished; Paimon's
 * committer commits the final checkpoint (and creates its tag) in that window. Returning only once
 * the job is terminal means no old writer is still committing when the caller moves on.
 */
async function awaitStopped(flink: FlinkClient, poll: PollOptions, jobId: string, triggerId: string, attempted: string) {
  const started = Date.now();
  for (;;) {
    const state = await jobState(flink, jobId, attempted);
    if (TERMINAL_STATES.has(state)) return;
    Context.current().heartbeat({ triggerId, status: 'COMPLETED', jobState: state, waitedMs: Date.now() - started });
    await Context.current().sleep(poll.pollIntervalMs);
  }
}

async function knownTrigger(flink: FlinkClient, jobId: string, triggerId: string) {
  try {
    return await flink.savepointStatus(jobId, triggerId);
  } catch (err) {
    if (err instanceof HttpStatusError && err.status === 404) return undefined;
    throw err;
  }
}

/** The savepoint that stopped a FINISHED job, if stop-with-savepoint is what finished it. */
async function stopSavepointOf(flink: FlinkClient, jobId: string): Promise<Savepoint | undefined> {
  const last = (await flink.checkpoints(jobId)).latest.savepoint;
  if (!last || last.status !== 'COMPLETED' || last.checkpoint_type !== 'SYNC_SAVEPOINT' || !last.external_path) {
    return undefined;
  }
  return { savepointId: last.id, path: last.external_path, jobId, stopped: true, triggeredAt: last.trigger_timestamp };
}

/** The savepoint id of a completed savepoint: from the job's checkpoint statistics, else its _metadata. */
async function describeSavepoint(flink: FlinkClient, jobId: string, location: string, stopped: boolean): Promise<Savepoint> {
  const stats = await flink.checkpoints(jobId);
  const match = [stats.latest.savepoint, ...stats.history].find(
    (c) => c?.is_savepoint && c.status === 'COMPLETED' && c.external_path && sameLocation(c.external_path, location),
  );
  if (match) return { savepointId: match.id, path: location, jobId, stopped, triggeredAt: match.trigger_timestamp };
  // The statistics keep only the last few entries (web.checkpoints.history).
  const header = localPath(location) === undefined ? undefined : await readSavepointHeader(location);
  if (header?.exists) {
    return { savepointId: header.savepointId, path: location, jobId, stopped, triggeredAt: header.writtenAt ?? Date.now() };
  }
  throw fatal(
    FailureType.SavepointNotFound,
    `savepoint of job ${jobId} completed at ${location}, but neither the job's checkpoint statistics nor a readable ` +
      '_metadata file give its id. Check that the worker sees the savepoint directory at that path.',
  );
}

export async function inspectSavepoint(input: unknown): Promise<{ savepointId: number; exists: boolean }> {
  const { path } = parseInput('inspectSavepoint', SavepointPathInput, input);
  const { exists, savepointId } = await readSavepointHeader(path);
  return { exists, savepointId };
}

/** Disposes a savepoint through the JobManager; one that is already gone counts as disposed. */
export async function disposeSavepoint(flink: FlinkClient, poll: PollOptions, input: unknown): Promise<void> {
  const { path } = parseInput('disposeSavepoint', SavepointPathInput, input);
  if (localPath(path) !== undefined && !(await readSavepointHeader(path)).exists) return;
  const { 'request-id': triggerId } = await flink.disposeSavepoint(path);
  let result: AsynchronousOperationResult;
  const started = Date.now();
  for (;;) {
    result = await flink.disposalStatus(triggerId);
    if (result.status.id === 'COMPLETED') break;
    Context.current().heartbeat({ triggerId, status: result.status.id, waitedMs: Date.now() - started });
    await Context.current().sleep(poll.pollIntervalMs);
  }
  const failure = result.operation?.['failure-cause'];
  if (!failure) return;
  const cause = rootCause(failure['stack-trace']);
  if (/FileNotFoundException|does not exist|No such file/i.test(cause)) return;
  if (/magic number|not a savepoint/i.test(cause)) {
    throw fatal(FailureType.InvalidInput, `disposing savepoint ${path}: Flink says it is not a savepoint (${cause}). Check the path.`);
  }
  // Storage trouble may pass; a new disposal request is safe to send.
  throw new Error(`disposing savepoint ${path} failed: ${cause}. Will retry.`);
}
