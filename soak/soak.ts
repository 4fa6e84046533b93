// The randomized exactly-once soak: N cycles of upgrade / savepoint / restore-to-a-random-point on
// one of the soak's pipelines (soak-pipeline.ts: the sequence with its aggregates, or a table of
// every shape; our own tables, job and task queue, an in-process worker running the real workflows
// and activities), on the session cluster or in application mode (placement.ts), each followed by
// a check of the tables against the history the soak worked out itself (model.ts). The seed
// decides every choice, so a failure replays.
import { rm } from 'node:fs/promises';
import os from 'node:os';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { localPath, RestorePointStore } from '../activities/catalog/store';
import type { DeploymentTarget } from '../src/domain/deployment-target';
import type { TableRef } from '../src/domain/model';
import { connectWorker, createClient } from '../src/client/temporal-connection';
import { createWorker } from '../src/worker/worker';
import { withTestApprovers } from '../test/support/approvals';
import { liveJobsNamed } from '../test/support/demo-pipeline';
import { config, paimonQuery, requireStack } from '../test/support/stack';
import { restore, restorePoints, takeSavepoint, upgrade, type Operator } from './actions';
import { checkCycle } from './cycle-check';
import { ExpectedHistory, type Version } from './model';
import { sequencePipeline } from './sequence-pipeline';
import { shapesPipeline } from './shapes-pipeline';
import type { PipelineName } from './soak-pipeline';
import { placementFor, type JobPlacement } from './placement';
import { mulberry32, type Random } from './prng';
import type { Action, SoakReport } from './report';
import { restorablePoints } from './tags';

export { summaryLine, type Action, type CycleReport, type SoakReport } from './report';

const ACTIONS: Action[] = ['savepoint', 'upgrade', 'restore'];

export interface SoakOptions {
  seed: number;
  cycles: number;
  /** No cycle starts after this many minutes. */
  minutes: number;
  /** Our own Paimon database; the run makes its own seq_a_<run>, seq_b_<run> and seq_agg_<run> there. */
  database: string;
  /** Our job names and task queues are <prefix><run id>. */
  prefix: string;
  /** Names this run's job, task queue and tables (default: the start time in base 36). */
  runId?: string;
  /** Each action at least once (needs cycles >= 3). */
  everyAction?: boolean;
  /** The pipeline the job runs (default: sequence). */
  pipeline?: PipelineName;
  /** Where the job's versions run (default: the session cluster). */
  target?: DeploymentTarget;
  log?: (line: string) => void;
}

const other = (v: Version): Version => (v === 'v1' ? 'v2' : 'v1');

/** The actions of each cycle, decided up front by the seed; a restore with no restorable point becomes a savepoint. */
export function planActions(rng: Random, cycles: number, everyAction: boolean): Action[] {
  const plan = Array.from({ length: cycles }, () => rng.pick(ACTIONS));
  if (everyAction) {
    if (cycles < 3) throw new Error('every action at least once needs 3 cycles or more');
    const slots = rng.shuffle(plan.map((_, i) => i)).slice(0, 3);
    rng.shuffle(ACTIONS).forEach((action, i) => (plan[slots[i]!] = action));
  }
  // Nothing is restorable before the first savepoint or upgrade.
  const first = plan.findIndex((a) => a !== 'restore');
  if (first > 0) [plan[0], plan[first]] = [plan[first]!, plan[0]!];
  return plan;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  const deadline = started + options.minutes * 60_000;
  const rng = mulberry32(options.seed);
  const plan = planActions(rng, options.cycles, options.everyAction ?? false);
  const runId = options.runId ?? Date.now().toString(36);
  const jobName = `${options.prefix}${runId}`;
  const placement = placementFor(options.target);
  const pipeline = (options.pipeline ?? 'sequence') === 'shapes' ? shapesPipeline(options.database, runId) : sequencePipeline(options.database, runId);
  const sinkTables = pipeline.sinkTables;
  const report: SoakReport = {
    seed: options.seed,
    target: placement.label,
    pipeline: pipeline.name,
    load: { start: os.loadavg().map((l) => Math.round(l * 100) / 100), end: [] },
    cyclesPlanned: options.cycles,
    cyclesRun: 0,
    actions: { savepoint: 0, upgrade: 0, restore: 0 },
    rowsChecked: 0,
    tagRowsChecked: 0,
    lost: 0,
    duplicated: 0,
    wrongVersion: 0,
    wrong: 0,
    aggregatesChecked: 0,
    aggregatesWrong: 0,
    reusedSavepointIds: [],
    findings: [],
    diagnoses: [],
    ok: false,
    cycles: [],
    database: options.database,
    jobName,
    keptForInspection: false,
    seconds: 0,
  };
  log(`soak: plan ${plan.join(', ')}; job ${jobName} (${placement.label}), tables ${sinkTables.join(', ')}`);

  await requireStack();
  // Live jobs of our prefix are another soak's (or a killed one's): not ours to cancel, and they
  // write tables of other names.
  const others = await liveJobsNamed(options.prefix);
  if (others.length > 0) log(`soak: left running: ${others.map((j) => `${j.name} (${j.jid})`).join(', ')}`);
  await pipeline.create();

  const taskQueue = `${options.prefix}${runId}`;
  let workerConnection: NativeConnection | undefined;
  let worker: Worker | undefined;
  let workerRunning: Promise<void> | undefined;
  let client: Client | undefined;
  const savepointPaths = new Set<string>();
  try {
    // The real workflows (bundled from workflows/) and activities, on our own task queue.
    // The soak approves its restores as 'soak-approver' with the test keyring's key: its worker checks
    // signatures against that keyring's allowed-signers file.
    const workerConfig = withTestApprovers({ ...config, temporal: { ...config.temporal, taskQueue } });
    workerConnection = await connectWorker(workerConfig);
    worker = await createWorker(workerConfig, workerConnection);
    workerRunning = worker.run();
    client = await createClient(config);
    const op: Operator = {
      client,
      taskQueue,
      jobName,
      tables: sinkTables,
      scriptFile: (v) => pipeline.scriptFile(v, jobName),
      runId,
      target: placement.target,
    };

    const model = new ExpectedHistory('v1');
    /** tags a restore's rollback deleted -> that cycle */
    const deletedBy = new Map<string, number>();
    let jobId = await startFirstJob(op, placement);
    log(`soak: v1 running as job ${jobId}`);

    for (const [i, action] of plan.entries()) {
      if (Date.now() > deadline) {
        log(`soak: ${options.minutes} min are up; ${i} of ${plan.length} cycles run`);
        break;
      }
      const cycle = i + 1;
      const t0 = Date.now();
      const madeBy = new Map<string, string>(); // tag -> savepoint path, for the tags this action made
      let afterTags: (() => void) | undefined;
      let what: string;
      let done: Action = action;
      const pointsNow = action === 'restore' ? restorablePoints(await restorePoints(op, cycle), model, report) : [];
      if (action === 'restore' && pointsNow.length === 0) {
        done = 'savepoint';
        log(`soak: cycle ${cycle}: no restorable point, a savepoint instead`);
      }

      try {
        if (done === 'savepoint') {
          const sp = await takeSavepoint(op, model.running, cycle);
          savepointPaths.add(sp.path);
          madeBy.set(sp.tag, sp.path);
          what = `savepoint ${sp.savepointId} (${sp.restorable ? 'restorable' : `NOT restorable: ${sp.reason}`})`;
          if (!sp.restorable) report.findings.push(`cycle ${cycle}: ${what}`);
        } else if (done === 'upgrade') {
          const from = model.running;
          const to = other(from);
          const up = await upgrade(op, from, to);
          if (up.savepoint) savepointPaths.add(up.savepoint.path);
          if (up.tag && up.savepoint) madeBy.set(up.tag, up.savepoint.path);
          what = `upgrade ${from} -> ${to}: ${up.status} at ${up.tag}`;
          if (up.status === 'upgraded') {
            jobId = up.newJobId!;
            afterTags = () => {
              const stoppedAt = model.tag(up.tag!);
              if (!stoppedAt) throw new Error(`the upgrade stopped at ${up.tag}, but that tag is not on every sink table`);
              model.upgraded(stoppedAt.maxId, to);
            };
          } else {
            jobId = up.restoredJobId ?? jobId;
            report.findings.push(`cycle ${cycle}: ${what} (${up.reason})`);
          }
        } else {
          const point = rng.pick(pointsNow);
          const version = rng.pick<Version>(['v1', 'v2']);
          const known = model.tag(point.tag)!;
          const result = await restore(op, point, version);
          if (result.todaysSavepoint) savepointPaths.add(result.todaysSavepoint.path);
          what =
            `restore to ${point.tag} (max id ${known.maxId}) as ${version}: ${result.status}` +
            ` [restorable were ${pointsNow.map((p) => p.tag).join(', ')}]`;
          if (result.status !== 'restored') throw new Error(what);
          jobId = result.newJobId!;
          for (const gone of model.restored(point.tag, version)) deletedBy.set(gone.tag, cycle);
        }
      } catch (err) {
        report.findings.push(`cycle ${cycle}: ${done} failed: ${err instanceof Error ? err.message : String(err)}`);
        log(`soak: cycle ${cycle}: ${done} FAILED: ${err instanceof Error ? err.message : String(err)}`);
        break;
      }
      report.actions[done]++;

      const failed = await checkCycle(
        { cycle, done, what, t0, jobId, more: rng.int(1, 3), madeBy, afterTags },
        { pipeline, model, deletedBy, report, log, placement },
      );
      if (failed) break;
    }
    report.ok = report.cyclesRun > 0 && report.lost === 0 && report.duplicated === 0 && report.wrongVersion === 0 &&
      report.wrong === 0 && report.aggregatesWrong === 0 && report.findings.length === 0;
  } finally {
    worker?.shutdown();
    await workerRunning?.catch(() => undefined);
    await workerConnection?.close();
    await client?.connection.close();
    await placement.stopAll(jobName).catch((err) => log(`soak: stopping our jobs failed: ${String(err)}`));
    report.keptForInspection = !report.ok;
    if (report.ok) {
      await cleanUp(sinkTables, jobName, savepointPaths);
      await placement.forget(jobName).catch(() => undefined);
    }
    else log(`soak: kept for a look: tables ${sinkTables.join(', ')}, savepoints ${[...savepointPaths].join(', ')}`);
    report.seconds = Math.round((Date.now() - started) / 1000);
    report.load.end = os.loadavg().map((l) => Math.round(l * 100) / 100);
  }
  return report;
}

async function startFirstJob(op: Operator, placement: JobPlacement): Promise<string> {
  const jobId = await placement.startFirst({ kind: 'sql', version: 'v1', scriptFile: op.scriptFile('v1') }, op.jobName);
  await placement.awaitCheckpointedRun(jobId);
  return jobId;
}


/** What a passed soak leaves nowhere: its tables, savepoints and restore-point records. */
async function cleanUp(tables: TableRef[], jobName: string, savepointPaths: Set<string>): Promise<void> {
  for (const p of savepointPaths) await rm(localPath(p, 'savepoint'), { recursive: true, force: true }).catch(() => undefined);
  await rm(new RestorePointStore(config.flink.savepointDir).jobDir(jobName), { recursive: true, force: true }).catch(() => undefined);
  for (const table of tables) {
    const [db, name] = table.split('.');
    await paimonQuery(`DROP TABLE IF EXISTS \`${db}\`.\`${name}\``).catch(() => undefined);
  }
}
