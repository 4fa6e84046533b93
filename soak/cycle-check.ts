// The check after each cycle: a few more checkpoints, then the new tags, the sequence tables and the
// aggregate table against the model; the cycle's figures go into the report.
import type { TableRef } from '../src/domain/model';
import { flinkGet, until } from '../test/support/stack';
import { checkAggregates, latestSharedCheckpoint, type ReadPoint } from './aggregates';
import { checkTables, diagnose, tableFacts } from './check';
import { describeSegments, type ExpectedHistory } from './model';
import { KEYS } from './pipeline';
import type { Action, CycleReport, SoakReport } from './report';
import { syncTags } from './tags';

/** What the whole run checks against, the same every cycle. */
export interface SoakRun {
  /** every sink table: the sequence tables and the aggregate table */
  sinkTables: TableRef[];
  /** the sequence tables */
  tables: TableRef[];
  aggregateTable: TableRef;
  model: ExpectedHistory;
  /** tags a restore's rollback deleted -> that cycle */
  deletedBy: Map<string, number>;
  report: SoakReport;
  log: (line: string) => void;
}

/** What one cycle did, as the check needs it. */
export interface CycleDone {
  cycle: number;
  done: Action;
  what: string;
  /** when the cycle started (epoch ms) */
  t0: number;
  /** the job running now */
  jobId: string;
  /** checkpoints to wait for before the check (the seed says how many) */
  more: number;
  /** tag -> savepoint path, for the tags this cycle's action made */
  madeBy: Map<string, string>;
  /** the model's update that needs the new tags (an upgrade's), if any */
  afterTags?: () => void;
}

/** Checks the tables after a cycle and reports it; true when the check failed and the soak stops. */
export async function checkCycle(
  { cycle, done, what, t0, jobId, more, madeBy, afterTags }: CycleDone,
  { sinkTables, tables, aggregateTable, model, deletedBy, report, log }: SoakRun,
): Promise<boolean> {
  // Let the running job commit a few more checkpoints (how many, the seed says).
  await checkpointsMore(jobId, more);
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
  return bad.length > 0 || wrongAggregates.length > 0;
}

/** Waits until the job completed `more` checkpoints after now: the tables have grown by then. */
async function checkpointsMore(jobId: string, more: number): Promise<void> {
  const completed = async () => (await flinkGet<{ counts: { completed: number } }>(`/jobs/${jobId}/checkpoints`)).counts.completed;
  const target = (await completed()) + more;
  await until(`job ${jobId} to complete ${more} more checkpoint(s)`, 120_000, async () => ((await completed()) >= target ? true : undefined));
}
