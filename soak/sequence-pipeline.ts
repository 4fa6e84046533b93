// The sequence pipeline as a SoakPipeline: the demo's sequence into seq_a_<run> and seq_b_<run>
// (ids 1..max each once, nothing committed twice in a table's history, each payload from the
// version that emitted it) and its aggregates into seq_agg_<run> (every key what ids 1..max give,
// max read from seq_a at the same tag or checkpoint).
import type { TableRef } from '../src/domain/model';
import { checkAggregates, latestSharedCheckpoint, type ReadPoint } from './aggregates';
import { checkTables, diagnose } from './check';
import { KEYS, createSoakTables, soakScripts, soakTableNames } from './pipeline';
import type { SoakPipeline } from './soak-pipeline';
import { recordSequenceTags } from './tags';

export function sequencePipeline(database: string, runId: string): SoakPipeline {
  // Table names of their own: a restore and an upgrade refuse while another live job writes a
  // table of a sink table's name in any database (Flink's plan names a Paimon writer by table name
  // only), so the demo's seq_a / seq_b of other tests, or of another soak, would stop ours and ours theirs.
  const names = soakTableNames(runId);
  const tables: TableRef[] = names.sequence.map((t) => `${database}.${t}`);
  const aggregateTable: TableRef = `${database}.${names.aggregate}`;
  const script = soakScripts(database, runId);
  return {
    name: 'sequence',
    sinkTables: [...tables, aggregateTable],
    create: () => createSoakTables(database, names),
    scriptFile: (version, jobName) => script(`pipeline-${version}.sql`, jobName),
    recordTags: (tags, madeBy, { cycle, model, report }) => recordSequenceTags(tables, tags, model, madeBy, cycle, report),

    async checkNow(tags, facts, { cycle, model, report, log }) {
      const checks = await checkTables(tables, (t) => facts.get(t)!.latestSnapshotId, model);
      // The aggregates at every new tag, and at the latest checkpoint both tables hold (a restore
      // makes no tag that stays: the rollback deletes the one its stop made).
      const shared = await latestSharedCheckpoint(tables[0]!, aggregateTable);
      const points: ReadPoint[] = [...tags.map((tag) => ({ kind: 'tag' as const, tag })), ...(shared ? [shared] : [])];
      const aggregates = await checkAggregates(tables[0]!, aggregateTable, KEYS, points);
      if (!shared) report.findings.push(`cycle ${cycle}: ${tables[0]} and ${aggregateTable} share no checkpoint`);
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
      return {
        checks,
        aggregates,
        shapes: [],
        rowsChecked: checks.reduce((n, c) => n + c.rows, 0),
        line:
          checks.map((c) => `${c.table} ids 1..${c.maxId} rows ${c.rows} lost ${c.lost} dup ${c.duplicated} wrong ${c.wrongVersion}`).join('; ') +
          `; ${aggregateTable} ` +
          aggregates.map((a) => `at ${a.at} ids 1..${a.maxId} keys ${a.keys} wrong ${a.wrong.length}`).join(', '),
        failed: bad.length > 0 || wrongAggregates.length > 0,
      };
    },
  };
}
