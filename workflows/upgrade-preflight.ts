// The upgrade's checks before the stop (observe before acting): the job runs and checkpoints,
// every sink table can tag a savepoint, no other job writes the tables, both versions deploy, and
// the new version's parallelism and state fit. Nothing is stopped until all of them hold.
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities, UpgradeShape } from '../activities/contract';
import type { JobRef, JobSummary, TableRef } from '../src/domain/model';
import { restCall } from './activity-options';
import { checkDeploymentsBeforeStop, requireRecentCheckpointOf } from './deployment-check';
import type { UpgradeParams } from './input';
import { fatal } from './job-steps';
import { WorkflowFailureType } from './messages';
import type { Progress } from './progress';
import { savepointTagsAhead, type TagsBefore } from './tag-guard';
import { refuseWrongWritersOfUpgrade } from './table-users';
import { planUpgradeShapeBeforeStop } from './upgrade-shape';

const rest = proxyActivities<Activities>(restCall);

/** Histories recorded before this patch made the checks before the stop one after another. */
const CHECKS_AT_ONCE = 'upgrade-checks-at-once';

export interface CheckedBeforeStop {
  oldJob: JobSummary;
  latestCheckpointId?: number;
  /** the savepoint tags on the sink tables before the stop, read while the checks ran */
  tagsBefore: () => Promise<TagsBefore>;
  /** the new version's parallelism and state check; undefined in histories from before it */
  shape?: UpgradeShape;
}

export async function checkBeforeStop(params: UpgradeParams, progress: Progress): Promise<CheckedBeforeStop> {
  progress.enter('preflight');
  const checked = patched(CHECKS_AT_ONCE) ? await checksAtOnce(params) : await checksOneAfterAnother(params);
  const { oldJob, shape } = checked;
  progress.note({ oldJobId: oldJob.jobId });
  if (shape) {
    progress.note({
      stateCheck: shape.stateCheck.text,
      ...(shape.parallelism ? { parallelism: shape.parallelism.vertices } : {}),
    });
  }
  return checked;
}

/**
 * Every check only reads, so they are made at once; those about the job wait for it to be found.
 * The failure reported is the first in the order a run making them one after another reports.
 */
async function checksAtOnce({ job, newVersion, oldVersion, sinkTables, options }: UpgradeParams): Promise<CheckedBeforeStop> {
  const running = runningJob(job);
  const tagsBefore = savepointTagsAhead(sinkTables);
  const ofJob = <T>(check: (oldJob: JobSummary) => Promise<T>) => running.then(({ oldJob }) => check(oldJob));
  const others = [
    tablesTagSavepoints(sinkTables),
    rest.checkFlinkCluster(),
    ofJob((oldJob) => refuseWrongWritersOfUpgrade(sinkTables, oldJob, options.notWriters)),
    // The new version, and the old one the compensation would start again: a bad path, an unknown
    // column or a syntax error is found here, not after the job is stopped.
    checkDeploymentsBeforeStop([newVersion, oldVersion], sinkTables),
  ];
  // The parallelism asked for fits every vertex, and the new version claims the job's state.
  const shape = ofJob((oldJob) => planUpgradeShapeBeforeStop(oldJob, newVersion, options));
  const outcomes = await Promise.allSettled<unknown>([running, ...others, shape]);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
  return { ...(await running), tagsBefore, shape: await shape };
}

/** As runs recorded before CHECKS_AT_ONCE made the checks. */
async function checksOneAfterAnother({ job, newVersion, oldVersion, sinkTables, options }: UpgradeParams): Promise<CheckedBeforeStop> {
  const { oldJob, latestCheckpointId } = await runningJob(job);
  const tagsBefore = savepointTagsAhead(sinkTables);
  await tablesTagSavepoints(sinkTables);
  await rest.checkFlinkCluster();
  await refuseWrongWritersOfUpgrade(sinkTables, oldJob, options.notWriters);
  await checkDeploymentsBeforeStop([newVersion, oldVersion], sinkTables);
  const shape = await planUpgradeShapeBeforeStop(oldJob, newVersion, options);
  return { oldJob, latestCheckpointId, tagsBefore, shape };
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

/** Every sink table exists and tags savepoints. */
async function tablesTagSavepoints(tables: TableRef[]): Promise<void> {
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
}
