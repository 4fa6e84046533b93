// The randomized exactly-once soak: N cycles of upgrade / savepoint / restore-to-a-random-point on
// the soak's pipeline (soak/sql: the demo's sequence plus its aggregates; our own tables, job and
// task queue, an in-process worker running the real workflows and activities), each followed by a
// check of the sequence tables against the history the soak worked out itself (model.ts) and of the
// aggregate table against the sequence at the same checkpoint (aggregates.ts). The seed decides
// every choice, so a failure replays.
import { rm } from 'node:fs/promises';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { localPath, RestorePointStore } from '../activities/catalog/store';
import type { TableRef } from '../src/domain/model';
import type { RestorePoint } from '../src/domain/restore-points';
import { connectWorker, createClient } from '../src/client/temporal-connection';
import { createWorker } from '../src/worker/worker';
import { withTestApprovers } from '../test/support/approvals';
import { awaitCheckpointedRun, cancelJobsNamed, liveJobsNamed } from '../test/support/demo-pipeline';
import { config, flinkGet, paimonQuery, requireStack, until } from '../test/support/stack';
import { restore, restorePoints, takeSavepoint, upgrade, type Operator } from './actions';
import { checkAggregates, latestSharedCheckpoint, type AggregateCheck, type ReadPoint } from './aggregates';
import { checkTables, diagnose, tableFacts, tagContents, type Diagnosis, type TableCheck } from './check';
import { describeSegments, ExpectedHistory, type Version } from './model';
import { createSoakTables, KEYS, soakScripts, soakTableNames } from './pipeline';
import { mulberry32, type Random } from './prng';

export type Action = 'savepoint' | 'upgrade' | 'restore';
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
  log?: (line: string) => void;
}

export interface CycleReport {
  cycle: number;
  action: Action;
  what: string;
  /** the history the check expected: 'v1 1..120, v2 121..' */
  expected: string;
  checks: TableCheck[];
  /** seq_agg against seq_a's ids 1..max: at each tag this cycle made, and at the latest checkpoint both tables share */
  aggregates: AggregateCheck[];
  rowsChecked: number;
  tagRowsChecked: number;
  seconds: number;
}

export interface SoakReport {
  seed: number;
  cyclesPlanned: number;
  cyclesRun: number;
  actions: Record<Action, number>;
  rowsChecked: number;
  tagRowsChecked: number;
  lost: number;
  duplicated: number;
  wrongVersion: number;
  /** keys of seq_agg compared with what ids 1..max give, over every read point */
  aggregatesChecked: number;
  /** of those, keys whose count, sum or max differed (or a read point where seq_a was not ids 1..max) */
  aggregatesWrong: number;
  /**
   * Savepoint ids that came again on a later timeline ('savepoint-17: deleted by cycle 18's
   * restore, made again in cycle 19'): the catalog must take the new one (issue 15 item 8). Not a
   * failure; it says whether this run met that case at all (cluster timing decides the ids).
   */
  reusedSavepointIds: string[];
  /** Everything that is not as the soak expected, besides the counts: failed actions, catalog mismatches, vanished tags. */
  findings: string[];
  /** The tables' ids around a failed check. */
  diagnoses: Diagnosis[];
  ok: boolean;
  cycles: CycleReport[];
  database: string;
  jobName: string;
  /** Left in place when the soak failed, for a look; removed otherwise. */
  keptForInspection: boolean;
  seconds: number;
}

export const summaryLine = (r: SoakReport): string =>
  `soak seed=${r.seed} cycles=${r.cyclesRun} rows checked=${r.rowsChecked} lost=${r.lost} duplicated=${r.duplicated} wrong-version=${r.wrongVersion}` +
  ` aggregates checked=${r.aggregatesChecked} wrong=${r.aggregatesWrong}` +
  (r.findings.length > 0 ? ` findings=${r.findings.length}` : '');

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
  // The sequence tables get the id checks; every sink table, the aggregates too, is rolled back and tagged.
  // Table names of their own: a restore and an upgrade refuse while another live job writes a
  // table of a sink table's name in any database (Flink's plan names a Paimon writer by table name
  // only), so the demo's seq_a / seq_b of other tests, or of another soak, would stop ours and ours theirs.
  const names = soakTableNames(runId);
  const tables: TableRef[] = names.sequence.map((t) => `${options.database}.${t}`);
  const aggregateTable: TableRef = `${options.database}.${names.aggregate}`;
  const sinkTables: TableRef[] = [...tables, aggregateTable];
  const report: SoakReport = {
    seed: options.seed,
    cyclesPlanned: options.cycles,
    cyclesRun: 0,
    actions: { savepoint: 0, upgrade: 0, restore: 0 },
    rowsChecked: 0,
    tagRowsChecked: 0,
    lost: 0,
    duplicated: 0,
    wrongVersion: 0,
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
  log(`soak: plan ${plan.join(', ')}; job ${jobName}, tables ${sinkTables.join(', ')}`);

  await requireStack();
  // Live jobs of our prefix are another soak's (or a killed one's): not ours to cancel, and they
  // write tables of other names.
  const others = await liveJobsNamed(options.prefix);
  if (others.length > 0) log(`soak: left running: ${others.map((j) => `${j.name} (${j.jid})`).join(', ')}`);
  await createSoakTables(options.database, names);

  const script = soakScripts(options.database, runId);
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
      scriptFile: (v) => script(`pipeline-${v}.sql`, jobName),
      runId,
    };

    const model = new ExpectedHistory('v1');
    /** tags a restore's rollback deleted -> that cycle */
    const deletedBy = new Map<string, number>();
    let jobId = await startFirstJob(op);
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

      // Let the running job commit a few more checkpoints (how many, the seed says).
      await checkpointsMore(jobId, rng.int(1, 3));
      const facts = await tableFacts(sinkTables);
      const { rows: tagRows, tags: newTags } = await syncTags(sinkTables, tables, facts, model, madeBy, cycle, report);
      afterTags?.();
      for (const tag of newTags.filter((t) => deletedBy.has(t))) {
        report.reusedSavepointIds.push(`${tag}: deleted by cycle ${deletedBy.get(tag)}'s restore, made again in cycle ${cycle}`);
        deletedBy.delete(tag);
      }
      const latest = (t: TableRef) => facts.get(t)!.latestSnapshotId;
      const checks = await checkTables(tables, latest, model);
      // The aggregates at every new tag, and at the latest checkpoint both tables hold (a restore
      // makes no tag that stays: the rollback deletes the one its stop made).
      const shared = await latestSharedCheckpoint(tables[0]!, aggregateTable);
      const points: ReadPoint[] = [...newTags.map((tag) => ({ kind: 'tag' as const, tag })), ...(shared ? [shared] : [])];
      const aggregates = await checkAggregates(tables[0]!, aggregateTable, KEYS, points);
      if (!shared) report.findings.push(`cycle ${cycle}: ${tables[0]} and ${aggregateTable} share no checkpoint`);
      const cycleReport: CycleReport = {
        cycle,
        action: done,
        what,
        expected: describeSegments(model.history()),
        checks,
        aggregates,
        rowsChecked: checks.reduce((n, c) => n + c.rows, 0),
        tagRowsChecked: tagRows,
        seconds: Math.round((Date.now() - t0) / 1000),
      };
      report.cycles.push(cycleReport);
      report.cyclesRun = cycle;
      report.rowsChecked += cycleReport.rowsChecked;
      report.tagRowsChecked += tagRows;
      for (const c of checks) {
        report.lost += c.lost;
        report.duplicated += c.duplicated;
        report.wrongVersion += c.wrongVersion;
      }
      for (const a of aggregates) {
        report.aggregatesChecked += a.keys;
        report.aggregatesWrong += a.wrong.length;
        for (const w of a.wrong) report.findings.push(`cycle ${cycle}: ${aggregateTable} as of ${a.at} (ids 1..${a.maxId}): ${w}`);
      }
      log(
        `soak: cycle ${cycle} ${what}; expected ${cycleReport.expected}; ` +
          checks.map((c) => `${c.table} ids 1..${c.maxId} rows ${c.rows} lost ${c.lost} dup ${c.duplicated} wrong ${c.wrongVersion}`).join('; ') +
          `; ${aggregateTable} ` +
          aggregates.map((a) => `at ${a.at} ids 1..${a.maxId} keys ${a.keys} wrong ${a.wrong.length}`).join(', ') +
          ` (${cycleReport.seconds}s)`,
      );
      const bad = checks.filter((c) => c.lost > 0 || c.duplicated > 0 || c.wrongVersion > 0 || c.maxId < model.runningSince);
      for (const c of checks) {
        if (c.maxId < model.runningSince) report.findings.push(`cycle ${cycle}: ${c.table} has nothing from the running ${model.running} yet (max id ${c.maxId})`);
        if (c.earliestSnapshotId > 1) report.findings.push(`cycle ${cycle}: ${c.table}'s history starts at snapshot ${c.earliestSnapshotId}: the duplicate count misses the commits before`);
      }
      if (bad.length > 0) {
        for (const c of bad) report.diagnoses.push(await diagnose(c.table, c.snapshotId, model));
        log(`soak: cycle ${cycle} FAILED the check; ids: ${JSON.stringify(report.diagnoses)}`);
      }
      const wrongAggregates = aggregates.flatMap((a) => a.wrong.map((w) => `${a.at}: ${w}`));
      if (wrongAggregates.length > 0) log(`soak: cycle ${cycle} FAILED the aggregate check: ${wrongAggregates.join('; ')}`);
      if (bad.length > 0 || wrongAggregates.length > 0) break;
    }
    report.ok = report.cyclesRun > 0 && report.lost === 0 && report.duplicated === 0 && report.wrongVersion === 0 &&
      report.aggregatesWrong === 0 && report.findings.length === 0;
  } finally {
    worker?.shutdown();
    await workerRunning?.catch(() => undefined);
    await workerConnection?.close();
    await client?.connection.close();
    await cancelJobsNamed(jobName).catch((err) => log(`soak: cancelling our jobs failed: ${String(err)}`));
    report.keptForInspection = !report.ok;
    if (report.ok) await cleanUp(sinkTables, jobName, savepointPaths);
    else log(`soak: kept for a look: tables ${sinkTables.join(', ')}, savepoints ${[...savepointPaths].join(', ')}`);
    report.seconds = Math.round((Date.now() - started) / 1000);
  }
  return report;
}

async function startFirstJob(op: Operator): Promise<string> {
  const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  const activities = createActivities(config);
  const { jobId } = (await env.run(activities.deployJob, {
    deployment: { kind: 'sql' as const, version: 'v1', scriptFile: op.scriptFile('v1') },
    deployToken: `${op.jobName}/first`,
  })) as { jobId: string };
  await awaitCheckpointedRun(jobId);
  return jobId;
}

/** Waits until the job completed `more` checkpoints after now: the tables have grown by then. */
async function checkpointsMore(jobId: string, more: number): Promise<void> {
  const completed = async () => (await flinkGet<{ counts: { completed: number } }>(`/jobs/${jobId}/checkpoints`)).counts.completed;
  const target = (await completed()) + more;
  await until(`job ${jobId} to complete ${more} more checkpoint(s)`, 120_000, async () => ((await completed()) >= target ? true : undefined));
}

/**
 * The restorable points of the listing that the soak can judge: the tag must be one the soak saw
 * made in the tables' current history, by the savepoint the listing names. Any other pairing is a
 * finding; such a point is still offered, as the catalog offers it, so the check shows what a
 * restore to it does.
 */
function restorablePoints(points: RestorePoint[], model: ExpectedHistory, report: SoakReport): RestorePoint[] {
  const restorable = points.filter((p) => p.restorable);
  return restorable.filter((p) => {
    const known = model.tag(p.tag);
    if (!known) {
      report.findings.push(`the catalog lists ${p.tag} (${p.path}) as restorable, but no such tag is in the tables' current history`);
      return false;
    }
    if (known.path !== null && p.path !== known.path) {
      report.findings.push(`the catalog pairs ${p.tag} with savepoint ${p.path}, but Paimon made that tag for savepoint ${known.path}`);
    }
    return true;
  });
}

/**
 * Brings the model's tags in line with the tables: a tag the soak expected but that is gone from a
 * sink table is a finding; a new tag on every sink table is read (the sequence tables' ids 1..max
 * once each, payloads as the model says, the same max in each) and becomes a restore point of the
 * model. Returns the sequence rows read and the new tags.
 */
async function syncTags(
  sinkTables: TableRef[],
  tables: TableRef[],
  facts: Awaited<ReturnType<typeof tableFacts>>,
  model: ExpectedHistory,
  madeBy: Map<string, string>,
  cycle: number,
  report: SoakReport,
): Promise<{ rows: number; tags: string[] }> {
  const onEvery = (tag: string) => sinkTables.every((t) => facts.get(t)!.tags.has(tag));
  for (const fact of [...model.tags]) {
    if (!onEvery(fact.tag)) {
      report.findings.push(`cycle ${cycle}: tag ${fact.tag} vanished from ${sinkTables.filter((t) => !facts.get(t)!.tags.has(fact.tag)).join(', ')}`);
      model.forget(fact.tag);
    }
  }
  const seen = new Set(sinkTables.flatMap((t) => [...facts.get(t)!.tags.keys()]));
  const fresh = [...seen].filter((tag) => !model.tag(tag));
  for (const tag of fresh.filter((t) => !onEvery(t))) report.findings.push(`cycle ${cycle}: tag ${tag} is on some sink tables only`);
  const tags = fresh.filter(onEvery).sort((a, b) => facts.get(tables[0]!)!.tags.get(a)! - facts.get(tables[0]!)!.tags.get(b)!);
  const contents = await tagContents(tables, tags, model);
  let rows = 0;
  for (const tag of tags) {
    const byTable = contents.get(tag)!;
    const maxIds = new Set(tables.map((t) => byTable.get(t)!.maxId));
    for (const table of tables) {
      const c = byTable.get(table)!;
      rows += c.rows;
      const lost = c.maxId - c.distinctIds;
      if (c.minId !== 1 || lost > 0 || c.wrongVersion > 0) {
        report.findings.push(`cycle ${cycle}: ${table} as of ${tag}: ids ${c.minId}..${c.maxId}, ${c.rows} rows, ${c.wrongVersion} of the wrong version`);
        report.lost += Math.max(0, lost);
        report.wrongVersion += c.wrongVersion;
      }
    }
    if (maxIds.size > 1) report.findings.push(`cycle ${cycle}: the sink tables disagree on ${tag}'s max id: ${[...maxIds].join(' vs ')}`);
    model.tagged(tag, madeBy.get(tag) ?? null, Math.min(...maxIds));
  }
  return { rows, tags };
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
