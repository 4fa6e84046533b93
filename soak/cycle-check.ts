// The check after each cycle: a few more checkpoints, then the new tags and the tables against the
// model, as the pipeline checks them (soak/sequence-pipeline.ts, soak/shapes-pipeline.ts); the
// cycle's figures go into the report.
import { until } from '../test/support/stack';
import { tableFacts } from './check';
import { describeSegments, type ExpectedHistory } from './model';
import type { JobPlacement } from './placement';
import type { Action, CycleReport, SoakReport } from './report';
import type { SoakPipeline } from './soak-pipeline';
import { freshTags } from './tags';

/** What the whole run checks against, the same every cycle. */
export interface SoakRun {
  pipeline: SoakPipeline;
  model: ExpectedHistory;
  /** tags a restore's rollback deleted -> that cycle */
  deletedBy: Map<string, number>;
  report: SoakReport;
  log: (line: string) => void;
  /** where the job runs: its checkpoints are read from its cluster */
  placement: JobPlacement;
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
  { pipeline, model, deletedBy, report, log, placement }: SoakRun,
): Promise<boolean> {
  // Let the running job commit a few more checkpoints (how many, the seed says).
  await checkpointsMore(placement, jobId, more);
  const ctx = { cycle, model, report, log };
  const facts = await tableFacts(pipeline.sinkTables);
  const newTags = freshTags(pipeline.sinkTables, facts, model, cycle, report);
  const tagRows = await pipeline.recordTags(newTags, madeBy, ctx);
  afterTags?.();
  for (const tag of newTags.filter((t) => deletedBy.has(t))) {
    report.reusedSavepointIds.push(`${tag}: deleted by cycle ${deletedBy.get(tag)}'s restore, made again in cycle ${cycle}`);
    deletedBy.delete(tag);
  }
  const checked = await pipeline.checkNow(newTags, facts, ctx);
  const cycleReport: CycleReport = {
    cycle,
    action: done,
    what,
    expected: describeSegments(model.history()),
    checks: checked.checks,
    aggregates: checked.aggregates,
    shapes: checked.shapes,
    rowsChecked: checked.rowsChecked,
    tagRowsChecked: tagRows,
    seconds: Math.round((Date.now() - t0) / 1000),
  };
  report.cycles.push(cycleReport);
  report.cyclesRun = cycle;
  report.rowsChecked += cycleReport.rowsChecked;
  report.tagRowsChecked += tagRows;
  log(`soak: cycle ${cycle} ${what}; expected ${cycleReport.expected}; ${checked.line} (${cycleReport.seconds}s)`);
  return checked.failed;
}

/** Waits until the job completed `more` checkpoints after now: the tables have grown by then. */
async function checkpointsMore(placement: JobPlacement, jobId: string, more: number): Promise<void> {
  const completed = async () => (await placement.get<{ counts: { completed: number } }>(jobId, `/jobs/${jobId}/checkpoints`)).counts.completed;
  const target = (await completed()) + more;
  await until(`job ${jobId} to complete ${more} more checkpoint(s)`, 180_000, async () => ((await completed()) >= target ? true : undefined));
}
