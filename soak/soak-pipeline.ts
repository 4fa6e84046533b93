// A pipeline the soak can run (SOAK_PIPELINE): its sink tables, its scripts, and its checks after
// each cycle. `sequence` (soak/sql/: the demo's sequence and its aggregates) or `shapes`
// (demo/sql/shapes/: a table of every shape a restore must handle). Both emit the ids 1, 2, 3, ...
// of a datagen sequence kept in the savepoint, so what every table must hold at a point follows
// from the largest id there and the soak's model of which version emitted which id.
import type { TableRef } from '../src/domain/model';
import type { AggregateCheck } from './aggregates';
import type { TableCheck, tableFacts } from './check';
import type { ExpectedHistory, Version } from './model';
import type { SoakReport } from './report';
import type { ShapesCheck } from './shapes-check';

export type PipelineName = 'sequence' | 'shapes';

/** What the check of one cycle needs. */
export interface CycleContext {
  cycle: number;
  model: ExpectedHistory;
  report: SoakReport;
  log: (line: string) => void;
}

/** What the tables held after a cycle, as the cycle's report keeps it. */
export interface CycleChecks {
  /** the sequence tables now (sequence pipeline) */
  checks: TableCheck[];
  /** seq_agg against seq_a at each read point (sequence pipeline) */
  aggregates: AggregateCheck[];
  /** every shape's table at each read point (shapes pipeline) */
  shapes: ShapesCheck[];
  rowsChecked: number;
  /** the cycle's figures for the progress line */
  line: string;
  /** the check failed: the soak stops and keeps the tables */
  failed: boolean;
}

export interface SoakPipeline {
  name: PipelineName;
  /** every table the job writes: rolled back and tagged by the workflows */
  sinkTables: TableRef[];
  /** fresh tables of the run's own */
  create(): Promise<void>;
  /** the version's script aimed at the run's tables, the job named `jobName` */
  scriptFile(version: Version, jobName: string): string;
  /** Reads each new tag (in snapshot order), records it in the model with its max id, checks it; returns the rows read. */
  recordTags(tags: string[], madeBy: Map<string, string>, ctx: CycleContext): Promise<number>;
  /** Checks the tables after the cycle (and the new tags, where the pipeline checks them together); adds its counts to the report. */
  checkNow(tags: string[], facts: Awaited<ReturnType<typeof tableFacts>>, ctx: CycleContext): Promise<CycleChecks>;
}
