// Upgrade a Flink job that writes to Paimon: stop it with a savepoint, check that every sink table
// tagged the savepoint, start the new version from the savepoint, and let a health gate decide
// whether it stays. The tag is the tables' restore point; the savepoint is the job's.
import { ApplicationFailure, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import {
  tagFor,
  type Deployment,
  type HealthReport,
  type JobRef,
  type JobSummary,
  type Savepoint,
  type TableRef,
} from '../src/domain/model';
import { longRunning, restCall, savepointWait, submitCall, tableRollback } from './activity-options';
import { checkDeploymentsBeforeStop, requireRecentCheckpointOf } from './deployment-check';
import { cancelAndWait, fatal } from './job-steps';
import { parseUpgradeInput, type UpgradeInput, type UpgradeParams } from './input';
import { droppedStateText, jobLabel, statusQuery, WorkflowFailureType, type UpgradeResult } from './messages';
import { Progress } from './progress';
import { requireOperationWorkflowId } from './operation-id';
import { messageOf, Saga } from './saga';
import { withOutcomeMemo } from './outcome-memo';
import { collidingTables, savepointTagsAhead, TagCollision, tagCollisionFailure, tagsAheadFailure, tagsAheadOf } from './tag-guard';
import { refuseWrongWritersOfUpgrade } from './table-users';
import { stepToken } from './tokens';
import { newVersionParallelism, oldVersionParallelism, planUpgradeShapeBeforeStop } from './upgrade-shape';
import { recordUpgradeOutcomeOf, recordUpgradeSavepoint } from './upgrade-restore-point';
import { humanDuration } from '../src/domain/durations';

const rest = proxyActivities<Activities>(restCall);
const submit = proxyActivities<Activities>(submitCall);
const rollback = proxyActivities<Activities>(tableRollback);
const waitUpTo = (timeoutMs: number) => proxyActivities<Activities>(longRunning(timeoutMs));
const savepointUpTo = (timeoutMs: number) => proxyActivities<Activities>(savepointWait(timeoutMs));

export async function upgradeWorkflow(input: UpgradeInput): Promise<UpgradeResult> {
  return withOutcomeMemo(() => runUpgrade(input));
}

async function runUpgrade(input: UpgradeInput): Promise<UpgradeResult> {
  const progress = new Progress();
  setHandler(statusQuery, () => progress.snapshot());

  const { job, newVersion, oldVersion, sinkTables, options } = validated(input);
  await requireOperationWorkflowId(job, 'upgrade');
  progress.forJob(job);

  progress.enter('preflight');
  const { oldJob, latestCheckpointId } = await runningJob(job);
  const tagsBefore = savepointTagsAhead(sinkTables);
  await preflight(sinkTables);
  await refuseWrongWritersOfUpgrade(sinkTables, oldJob, options.notWriters);
  // The new version, and the old one the compensation would start again: a bad path, an unknown
  // column or a syntax error is found here, not after the job is stopped.
  await checkDeploymentsBeforeStop([newVersion, oldVersion], sinkTables);
  // The parallelism asked for fits every vertex, and the new version claims the job's state.
  const shape = await planUpgradeShapeBeforeStop(oldJob, newVersion, options);
  progress.note({ oldJobId: oldJob.jobId });
  if (shape) {
    progress.note({
      stateCheck: shape.stateCheck.text,
      ...(shape.parallelism ? { parallelism: shape.parallelism.vertices } : {}),
    });
  }

  const saga = new Saga(progress);
  /** Put the old version back on the savepoint it stopped at (the undo of stopping it). */
  const restoreOldVersion = async (savepoint: Savepoint) => {
    progress.enter('redeploying-old-version');
    const since = Date.now();
    const { jobId } = await submit.deployJob({
      deployment: oldVersion,
      deployToken: stepToken('redeploy-old-version'),
      savepointPath: savepoint.path,
      ...oldVersionParallelism(shape),
    });
    progress.note({ restoredJobId: jobId });
    progress.enter('awaiting-old-version-health');
    await requireHealthy(jobId, oldVersion, since, options.healthTimeout);
  };
  /** Stop the new version and undo what it wrote: every sink table back to the tag. */
  const withdrawNewVersion = async (newJobId: string, { tag, path }: { tag: string; path: string }) => {
    progress.enter('cancelling-new-job');
    await cancelAndWait(newJobId);
    progress.enter('rolling-back-tables');
    const done: TableRef[] = [];
    for (const table of sinkTables) {
      try {
        await rollback.rollbackToTag({ table, tag });
      } catch (err) {
        const notDone = sinkTables.filter((t) => !done.includes(t));
        const byHand = notDone.map((t) => `CALL sys.rollback_to(\`table\` => '${t}', tag => '${tag}')`).join('; ');
        throw ApplicationFailure.create({
          type: WorkflowFailureType.CompensationFailed,
          nonRetryable: true,
          message:
            `rolling ${table} back failed: ${messageOf(err)}. Rolled back to ${tag}: ${done.join(', ') || 'none'}; ` +
            `NOT rolled back: ${notDone.join(', ')}. Job ${newJobId} is cancelled and no job runs: finish by hand (${byHand}), ` +
            `then start ${oldVersion.version} from ${path}`,
        });
      }
      done.push(table);
    }
  };

  let upgrade: { newJobId: string; health: HealthReport; savepoint: Savepoint; tag: string };
  let recording: ReturnType<typeof recordUpgradeSavepoint> | undefined;
  let stopped: Savepoint | undefined;
  try {
    const tagNamesBefore = await tagsBefore();
    // Paimon would keep an old tag of the stop's savepoint's name: refused while nothing is stopped.
    const ahead = latestCheckpointId === undefined ? [] : tagsAheadOf(latestCheckpointId, tagNamesBefore);
    if (ahead.length > 0) throw tagsAheadFailure(`job '${oldJob.name}' (${oldJob.jobId})`, latestCheckpointId!, ahead);
    progress.enter('stopping-with-savepoint');
    const triggerId = stepToken('stop-with-savepoint');
    progress.note({ triggerId });
    const savepoint = await savepointUpTo(options.savepointTimeout).stopWithSavepoint({
      jobId: oldJob.jobId,
      triggerId,
      drain: options.drain,
    });
    const tag = tagFor(savepoint.savepointId);
    stopped = savepoint;
    progress.note({ savepoint: { id: savepoint.savepointId, path: savepoint.path }, tag });
    saga.add(() => restoreOldVersion(savepoint));

    // The same names read before the stop: what guards a run without the job's checkpoint id (recorded before it was read).
    const collided = collidingTables(tag, tagNamesBefore);
    if (collided.length > 0) throw tagCollisionFailure(tag, collided);

    // Paimon tags a stop-with-savepoint when the commit of its final checkpoint lands, so the tag
    // may trail the savepoint; without it there would be no restore point for the tables.
    progress.enter('awaiting-tag');
    const { missing } = await waitUpTo(options.tagTimeout).awaitTag({ tables: sinkTables, tag, timeoutMs: options.tagTimeout });
    if (missing.length > 0) {
      throw fatal(
        WorkflowFailureType.TagMissing,
        `tag '${tag}' did not appear on ${missing.join(', ')} within ${humanDuration(options.tagTimeout)}, so ${newVersion.version} was not deployed`,
      );
    }

    progress.enter('deploying-new-version');
    recording = recordUpgradeSavepoint({
      oldJob,
      savepoint,
      tables: sinkTables,
      oldVersion: oldVersion.version,
      newVersion: newVersion.version,
      workflowId: workflowInfo().workflowId,
    });
    const since = Date.now();
    const { jobId: newJobId } = await submit.deployJob({
      deployment: newVersion,
      deployToken: stepToken('deploy-new-version'),
      savepointPath: savepoint.path,
      ...(options.allowNonRestoredState ? { allowNonRestoredState: true } : {}),
      ...newVersionParallelism(shape),
    });
    progress.note({ newJobId });
    if (options.allowNonRestoredState) progress.note({ droppedState: droppedStateText(newVersion.version, savepoint.path) });
    if (options.compensate) saga.add(() => withdrawNewVersion(newJobId, { tag, path: savepoint.path }));
    else saga.forget();

    progress.enter('awaiting-health');
    const health = await waitUpTo(options.healthTimeout).awaitHealthy({
      jobId: newJobId,
      since,
      timeoutMs: options.healthTimeout,
    });
    progress.note(await recording);
    upgrade = { newJobId, health, savepoint, tag };
  } catch (err) {
    const reason = messageOf(err);
    const undone = !saga.isEmpty;
    await saga.compensate(reason);
    if (stopped) await recordUpgradeOutcomeOf(recording, { oldJob, savepoint: stopped }, 'failed');
    progress.finish('failed', { reason });
    if (undone && err instanceof ApplicationFailure && (err.type === WorkflowFailureType.TagMissing || err.type === TagCollision)) {
      const { restoredJobId, savepoint } = progress.snapshot();
      throw fatal(
        err.type,
        `${err.message}; ${oldVersion.version} runs again from ${savepoint?.path} as job ${restoredJobId}`,
        [progress.snapshot()],
      );
    }
    throw err;
  }

  const { newJobId, health, savepoint, tag } = upgrade;
  const outcome = (ended: 'succeeded' | 'failed') => recordUpgradeOutcomeOf(recording, { oldJob, savepoint }, ended);
  if (health.healthy) {
    await outcome('succeeded');
    log.info('upgraded', { job: jobLabel(job), newJobId });
    return progress.finish('upgraded');
  }

  const reason = `${newVersion.version} (job ${newJobId}) was not healthy within ${humanDuration(options.healthTimeout)}: ${health.reason ?? health.state}`;
  if (!options.compensate) {
    await outcome('failed');
    const instructions = manualRollback(newJobId, tag, sinkTables, oldVersion, savepoint.path);
    const result = progress.finish('failed', { reason, instructions });
    throw fatal(WorkflowFailureType.UpgradeUnhealthy, `${reason}. compensate is off, so it is left as it is. ${instructions}`, [result]);
  }
  await saga.compensate(reason);
  await outcome('failed');
  log.warn('rolled back', { job: jobLabel(job), reason });
  return progress.finish('rolled-back', { reason });
}

/** Input typed into the Temporal UI reaches us unchecked: refuse it before touching anything. */
function validated(input: UpgradeInput): UpgradeParams {
  const parsed = parseUpgradeInput(input);
  if (!parsed.ok) {
    throw fatal(WorkflowFailureType.InvalidInput, `invalid upgrade input: ${parsed.problems.join('; ')}`);
  }
  return parsed.value;
}

/** Observe before acting: the job to upgrade exists, is RUNNING and checkpoints; with its latest completed checkpoint id. */
async function runningJob(job: JobRef): Promise<{ oldJob: JobSummary; latestCheckpointId?: number }> {
  const found = await rest.resolveJob({ job });
  // A savepoint is a checkpoint: a job that completes none would fail the stop in Flink's words.
  const checkpoint = await requireRecentCheckpointOf(found);
  if (found.state !== 'RUNNING') {
    throw fatal(
      WorkflowFailureType.JobNotRunning,
      `job '${found.name}' (${found.jobId}) is ${found.state}: an upgrade stops a RUNNING job with a savepoint`,
    );
  }
  return { oldJob: found, latestCheckpointId: checkpoint?.checkpointId };
}

/** Every sink table can tag a savepoint, and the cluster is one we know. */
async function preflight(tables: TableRef[]): Promise<void> {
  const described = await rest.describeSinkTables({ tables });
  const info = (table: TableRef) => described.find((d) => d.table === table);
  const notFound = tables.filter((table) => !info(table)?.exists);
  if (notFound.length > 0) {
    throw fatal(WorkflowFailureType.TableNotFound, `sink table(s) not found: ${notFound.join(', ')}`);
  }
  // Only with sink.savepoint.auto-tag does Paimon tag a savepoint's snapshot as savepoint-<id>;
  // without that tag there is no restore point to roll the table back to.
  const untagged = tables.filter((table) => !info(table)?.autoTagOnSavepoint);
  if (untagged.length > 0) {
    throw fatal(
      WorkflowFailureType.AutoTagDisabled,
      `sink table(s) without 'sink.savepoint.auto-tag' = 'true': ${untagged.join(', ')}; ` +
        `set it (ALTER TABLE <table> SET ('sink.savepoint.auto-tag' = 'true')) and start the upgrade again`,
    );
  }
  await rest.checkFlinkCluster();
}

async function requireHealthy(jobId: string, version: Deployment, since: number, timeoutMs: number): Promise<void> {
  const health = await waitUpTo(timeoutMs).awaitHealthy({ jobId, since, timeoutMs });
  if (!health.healthy) {
    throw fatal(
      WorkflowFailureType.RollbackUnhealthy,
      `${version.version} (job ${jobId}) was not healthy within ${humanDuration(timeoutMs)}: ${health.reason ?? health.state}`,
    );
  }
}

function manualRollback(
  newJobId: string,
  tag: string,
  tables: TableRef[],
  oldVersion: Deployment,
  savepointPath: string,
): string {
  const rollbacks = tables.map((t) => `CALL sys.rollback_to(\`table\` => '${t}', tag => '${tag}')`).join('; ');
  return (
    `To roll back by hand: cancel job ${newJobId} and wait until it is CANCELED; ` +
    `roll every sink table back to tag '${tag}' (${rollbacks}); ` +
    `deploy ${oldVersion.version} from savepoint ${savepointPath}.`
  );
}
