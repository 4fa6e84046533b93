// The shapes pipeline as a SoakPipeline: after each cycle every table of every shape is read at
// each new tag and at the latest checkpoint they all committed, and compared with what ids 1..max
// give (soak/shapes.ts), counting per table the ids or rows lost, the ids applied twice and the
// rows that are wrong.
import type { Version } from './model';
import type { SoakReport } from './report';
import { createShapesTables, SHAPES, shapesScripts, shapeTables, type Shape } from './shapes';
import { checkShapes, latestSharedShapesCheckpoint, type ShapesCheck, type ShapesPoint } from './shapes-check';
import type { CycleContext, SoakPipeline } from './soak-pipeline';

const SCRIPT: Record<Version, string> = { v1: 'pipeline-v1.sql', v2: 'pipeline-v2.sql' };

/** Adds a read point's counts to the run's totals, per table; returns whether any is off. */
function count(check: ShapesCheck, { cycle, report }: CycleContext): boolean {
  const totals = (report.shapes ??= { reads: 0, tables: emptyTotals() });
  totals.reads++;
  let off = false;
  for (const t of check.tables) {
    const mine = totals.tables[t.shape];
    mine.rows += t.rows;
    mine.lost += t.lost;
    mine.duplicated += t.duplicated;
    mine.wrong += t.wrong;
    report.lost += t.lost;
    report.duplicated += t.duplicated;
    report.wrong += t.wrong;
    if (t.lost > 0 || t.duplicated > 0 || t.wrong > 0) {
      off = true;
      report.findings.push(`cycle ${cycle}: ${t.table} as of ${check.at} (ids 1..${check.maxId}): lost ${t.lost} duplicated ${t.duplicated} wrong ${t.wrong}: ${t.examples.join('; ')}`);
    }
  }
  return off;
}

export const emptyTotals = (): NonNullable<SoakReport['shapes']>['tables'] =>
  Object.fromEntries(SHAPES.map((s) => [s, { rows: 0, lost: 0, duplicated: 0, wrong: 0 }])) as Record<Shape, { rows: number; lost: number; duplicated: number; wrong: number }>;

const describe = (c: ShapesCheck) =>
  `at ${c.at} ids 1..${c.maxId}: ` + c.tables.map((t) => `${t.shape} ${t.rows} rows ${t.lost}/${t.duplicated}/${t.wrong}`).join(', ');

export function shapesPipeline(database: string, runId: string): SoakPipeline {
  const tables = shapeTables(database, runId);
  const script = shapesScripts(database, runId);
  /** the checks of the tags recordTags read, for this cycle's report */
  let tagChecks: ShapesCheck[] = [];
  let tagsOff = false;
  return {
    name: 'shapes',
    sinkTables: SHAPES.map((s) => tables[s]),
    create: () => createShapesTables(database, runId),
    scriptFile: (version, jobName) => script(SCRIPT[version], jobName),

    async recordTags(tags, madeBy, ctx) {
      tagChecks = await checkShapes(tables, tags.map((tag) => ({ kind: 'tag', tag })), ctx.model);
      tagsOff = false;
      let rows = 0;
      for (const [i, check] of tagChecks.entries()) {
        rows += check.tables.reduce((n, t) => n + t.rows, 0);
        if (count(check, ctx)) tagsOff = true;
        ctx.model.tagged(tags[i]!, madeBy.get(tags[i]!) ?? null, check.maxId);
      }
      return rows;
    },

    async checkNow(_tags, _facts, ctx) {
      const { cycle, model, report, log } = ctx;
      const point: ShapesPoint | null = await latestSharedShapesCheckpoint(tables);
      const now = point ? await checkShapes(tables, [point], model) : [];
      if (!point) report.findings.push(`cycle ${cycle}: the shapes tables share no checkpoint`);
      let failed = tagsOff || !point;
      for (const check of now) {
        if (count(check, ctx)) failed = true;
        if (check.maxId < model.runningSince) {
          report.findings.push(`cycle ${cycle}: the shapes tables have nothing from the running ${model.running} yet (max id ${check.maxId} at ${check.at})`);
          failed = true;
        }
      }
      const checks = [...tagChecks, ...now];
      if (failed) log(`soak: cycle ${cycle} FAILED the shapes check: ${report.findings.filter((f) => f.startsWith(`cycle ${cycle}:`)).join(' | ')}`);
      return {
        checks: [],
        aggregates: [],
        shapes: checks,
        rowsChecked: now.reduce((n, c) => n + c.tables.reduce((m, t) => m + t.rows, 0), 0),
        line: checks.map(describe).join('; '),
        failed,
      };
    },
  };
}
