// savepointctl restore: plan a restore to a restore point, show the plan, wait for approval.
import type { WorkflowHandle } from '@temporalio/client';
import { awaitPlanOf } from '../../client/approval';
import { startRestore } from '../../client/start-restore';
import type { JobRef } from '../../domain/model';
import { restoreStatusQuery, type RestoreResult } from '../../../workflows/restore-messages';
import { flinkJobNames } from '../../client/job-name';
import { bool, compact, list, readJson, str, type Parsed } from '../args';
import { workflowUrl } from '../context';
import { CommandFailed, UsageError } from '../errors';
import { follow } from '../follow';
import { json } from '../output';
import { describePlan, rolledBackLine } from '../views/plan';
import { waitingFor } from '../waiting';
import { TARGET_FLAGS, TARGET_USAGE, targetFromFlags } from '../target-flags';
import type { Command } from './command';

function restorePoint(p: Parsed) {
  const id = str(p, 'savepoint-id');
  const tag = str(p, 'tag');
  const latest = bool(p, 'latest');
  if ([id, tag, latest || undefined].filter((v) => v !== undefined).length !== 1) {
    throw new UsageError('give exactly one of --savepoint-id, --tag or --latest');
  }
  if (id !== undefined && !/^\d+$/.test(id)) throw new UsageError(`--savepoint-id must be a whole number, got '${id}'`);
  return id !== undefined ? { savepointId: Number(id) } : tag !== undefined ? { tag } : 'latest-restorable';
}

function inputFromFlags(p: Parsed): unknown {
  const jobName = str(p, 'job-name');
  const jobId = str(p, 'job-id');
  if ((jobId === undefined) === (jobName === undefined)) throw new UsageError('give exactly one of --job-id or --job-name');
  const version = str(p, 'version');
  const sqlFile = str(p, 'sql-file');
  if (!version || !sqlFile) throw new UsageError('--version and --sql-file are required: the version to run after the restore');
  const approvers = list(p, 'approver');
  if (approvers.length === 0) throw new UsageError('--approver is required: the identities allowed to approve (repeat or comma-separate)');
  return {
    job: jobId !== undefined ? { jobId } : { jobName },
    deployment: { kind: 'sql', version, scriptFile: sqlFile },
    sinkTables: list(p, 'table'),
    restorePoint: restorePoint(p),
    ...(targetFromFlags(p) !== undefined ? { target: targetFromFlags(p) } : {}),
    options: compact({
      approvers,
      requestedBy: str(p, 'requested-by'),
      fourEyes: bool(p, 'no-four-eyes') ? false : undefined,
      approvalTimeout: str(p, 'approval-timeout'),
      healthTimeout: str(p, 'health-timeout'),
      drain: bool(p, 'drain') || undefined,
      notWriters: list(p, 'not-writer').length > 0 ? list(p, 'not-writer') : undefined,
      allowNonRestoredState: bool(p, 'allow-non-restored-state') || undefined,
    }),
  };
}

/** What the restore is doing now, for the lines that show a wait goes on. */
export async function restoreStep(handle: WorkflowHandle): Promise<string | undefined> {
  const status = (await handle.query(restoreStatusQuery).catch(() => undefined)) as { step?: string } | undefined;
  return status?.step ? `the restore is ${status.step}` : undefined;
}

export const restore: Command = {
  name: 'restore',
  summary: 'roll every sink table back to a restore point and restart the job from its savepoint, after approval',
  usage: `savepointctl restore (--input FILE | --job-name NAME --table DB.T... POINT --version V --sql-file F --approver ID...) [options]

  --input FILE           the workflow input as JSON (as pasted into the Temporal UI; '-' = stdin)
  --savepoint-id N | --tag savepoint-N | --latest   the restore point (--latest: the newest restorable)
  --version LABEL --sql-file FILE                   the version to run after the restore
  --approver ID          an identity allowed to approve (repeat, or comma-separated)
  --requested-by ID      who asks; with four-eyes (the default) they cannot approve it themselves
  --no-four-eyes         let the requester approve too
  --approval-timeout D   how long the plan waits for an approval (default 24h); then nothing changes
  --health-timeout D     how long the restarted job has to checkpoint (default 5m)
  --drain                stop the writer with --drain
  --not-writer JOB       a live job (id or name) that writes a table of a sink table's name in another
                         database (Flink's plan names the table only): left running instead of refusing
  --allow-non-restored-state   start the version even if it leaves savepoint state unclaimed: that state
                         is dropped for good (the result says so)
${TARGET_USAGE}
  --wait                 after showing the plan, wait until the restore ends and print its result

Prints the plan (what will change, what cannot be undone, its digest) and how to approve it:
  savepointctl approve JOB --as ID --key FILE --plan-version N --plan-digest D [--comment TEXT]`,
  flags: {
    ...TARGET_FLAGS,
    input: { type: 'string' },
    'job-name': { type: 'string' },
    'job-id': { type: 'string' },
    table: { type: 'string', multiple: true },
    'savepoint-id': { type: 'string' },
    tag: { type: 'string' },
    latest: { type: 'boolean' },
    version: { type: 'string' },
    'sql-file': { type: 'string' },
    approver: { type: 'string', multiple: true },
    'requested-by': { type: 'string' },
    'no-four-eyes': { type: 'boolean' },
    'approval-timeout': { type: 'string' },
    'health-timeout': { type: 'string' },
    drain: { type: 'boolean' },
    'not-writer': { type: 'string', multiple: true },
    'allow-non-restored-state': { type: 'boolean' },
    wait: { type: 'boolean' },
  },
  async run(p, ctx) {
    const input = (str(p, 'input') !== undefined ? readJson('input', str(p, 'input')!) : inputFromFlags(p)) as { job: JobRef };
    const handle = await startRestore(await ctx.client(), input as never, {
      taskQueue: ctx.config.temporal.taskQueue,
      uiUrl: ctx.config.temporal.uiUrl,
      namespace: ctx.config.temporal.namespace,
      jobNameOf: flinkJobNames(ctx.config.flink),
    });
    ctx.working(handle.workflowId);
    if (!ctx.json) ctx.out(`started ${handle.workflowId}\n  ${workflowUrl(ctx.config, handle.workflowId, handle.firstExecutionRunId)}`);
    const plan = await waitingFor(
      ctx,
      'planning: reading the writer, every table\'s tags and snapshots, readers and the savepoint\'s files (nothing changes yet)',
      awaitPlanOf(handle),
      { progress: () => restoreStep(handle) },
    );
    // A restore refused while planning (tag missing, savepoint files gone…) ends before it has a
    // plan: fail with its reason rather than ask for an approval nobody can give.
    if (!plan) {
      await handle.result();
      throw new CommandFailed('the restore ended before it had a plan');
    }
    if (ctx.json && !bool(p, 'wait')) {
      ctx.out(json({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, plan }));
      return 0;
    }
    const job = 'jobName' in input.job ? input.job.jobName : input.job.jobId;
    if (!ctx.json) {
      ctx.out(describePlan(plan));
      const pinned = plan.digest ? ` --plan-version ${plan.version} --plan-digest ${plan.digest}` : '';
      ctx.out(`waiting for approval: savepointctl approve ${job} --as <approver> --key <your SSH key>${pinned} [--comment TEXT]`);
    }
    if (!bool(p, 'wait')) return 0;
    const outcome = await follow<RestoreResult>(ctx, handle);
    ctx.out(ctx.json ? json(outcome) : restoreSummary(outcome));
    if (outcome.status !== 'restored') throw new CommandFailed(`${outcome.status}: ${outcome.reason ?? 'the restore did not restore'}`);
    return 0;
  },
};

/** A finished restore in a few lines: outcome, who decided, per table what was done, the new job, the undo. */
export function restoreSummary(outcome: RestoreResult): string {
  return [
    `${outcome.status}: job ${outcome.job}`,
    ...(outcome.reason ? [`  reason: ${outcome.reason}`] : []),
    ...(outcome.approval
      ? [
          `  approved: plan v${outcome.approval.planVersion} by ${outcome.approval.approver}` +
            `${outcome.approval.proof ? ` (signed by key ${outcome.approval.proof.key})` : ''}${outcome.approval.comment ? ` ("${outcome.approval.comment}")` : ''}`,
        ]
      : []),
    ...(outcome.rejection ? [`  rejected by ${outcome.rejection.rejectedBy}`] : []),
    ...(outcome.todaysSavepoint ? [`  today's savepoint: ${outcome.todaysSavepoint.savepointId} at ${outcome.todaysSavepoint.path}`] : []),
    ...(outcome.tables ?? []).map((t) => `  ${rolledBackLine(t)}`),
    ...(outcome.newJobId ? [`  new job ${outcome.newJobId}`] : []),
    ...(outcome.undo ? [`  undo: ${outcome.undo.instructions}`] : []),
  ].join('\n');
}
