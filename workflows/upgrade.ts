// Upgrade a Flink job that writes to Paimon: stop it with a savepoint, check that every sink table
// tagged the savepoint, start the new version from the savepoint, and let a health gate decide
// whether it stays. The tag is the tables' restore point; the savepoint is the job's. Each step is
// a module of its own: upgrade-preflight, upgrade-stop, upgrade-deploy, upgrade-undo.
import { log, setHandler, workflowInfo } from '@temporalio/workflow';
import { humanDuration } from '../src/domain/durations';
import type { HealthReport, Savepoint } from '../src/domain/model';
import { parseUpgradeInput, type UpgradeInput, type UpgradeParams } from './input';
import { fatal } from './job-steps';
import { jobLabel, statusQuery, WorkflowFailureType, type UpgradeResult } from './messages';
import { requireOperationWorkflowId } from './operation-id';
import { withOutcomeMemo } from './outcome-memo';
import { Progress } from './progress';
import { Saga } from './saga';
import { deployNewVersion } from './upgrade-deploy';
import { checkBeforeStop } from './upgrade-preflight';
import { UpgradePoint } from './upgrade-restore-point';
import { stopOldVersion } from './upgrade-stop';
import { manualRollback, undoAfterFailure } from './upgrade-undo';

export async function upgradeWorkflow(input: UpgradeInput): Promise<UpgradeResult> {
  return withOutcomeMemo(() => runUpgrade(input));
}

async function runUpgrade(input: UpgradeInput): Promise<UpgradeResult> {
  const progress = new Progress();
  setHandler(statusQuery, () => progress.snapshot());

  const params = validated(input);
  const { job, newVersion, oldVersion, sinkTables, options } = params;
  await requireOperationWorkflowId(job, 'upgrade');
  progress.forJob(job);

  const checked = await checkBeforeStop(params, progress);
  const saga = new Saga(progress);
  const point = new UpgradePoint({
    oldJob: checked.oldJob,
    tables: sinkTables,
    oldVersion: oldVersion.version,
    newVersion: newVersion.version,
    workflowId: workflowInfo().workflowId,
  });
  let upgrade: { newJobId: string; health: HealthReport; savepoint: Savepoint; tag: string };
  try {
    const stopped = await stopOldVersion(checked, params, saga, progress);
    upgrade = { ...stopped, ...(await deployNewVersion({ ...stopped, shape: checked.shape, oldJob: checked.oldJob }, params, { saga, point }, progress)) };
  } catch (err) {
    throw await undoAfterFailure(err, saga, point, oldVersion, progress);
  }

  const { newJobId, health, savepoint, tag } = upgrade;
  if (health.healthy) {
    await point.outcome('succeeded');
    log.info('upgraded', { job: jobLabel(job), newJobId });
    return progress.finish('upgraded');
  }

  const reason = `${newVersion.version} (job ${newJobId}) was not healthy within ${humanDuration(options.healthTimeout)}: ${health.reason ?? health.state}`;
  if (!options.compensate) {
    await point.outcome('failed');
    const instructions = manualRollback(newJobId, tag, sinkTables, oldVersion, savepoint.path);
    const result = progress.finish('failed', { reason, instructions });
    throw fatal(WorkflowFailureType.UpgradeUnhealthy, `${reason}. compensate is off, so it is left as it is. ${instructions}`, [result]);
  }
  await saga.compensate(reason);
  await point.outcome('failed');
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
