// The soak's model of the tags against the tables: which restorable points of the catalog's listing
// the soak can judge, and the new tags a cycle made, read and checked.
import type { TableRef } from '../src/domain/model';
import type { RestorePoint } from '../src/domain/restore-points';
import { tagContents, type tableFacts } from './check';
import type { ExpectedHistory } from './model';
import type { SoakReport } from './report';

/**
 * The restorable points of the listing that the soak can judge: the tag must be one the soak saw
 * made in the tables' current history, by the savepoint the listing names. Any other pairing is a
 * finding; such a point is still offered, as the catalog offers it, so the check shows what a
 * restore to it does.
 */
export function restorablePoints(points: RestorePoint[], model: ExpectedHistory, report: SoakReport): RestorePoint[] {
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
 * sink table is a finding (dropped from the model); returns the new tags on every sink table, in
 * the order of their snapshots, for the pipeline to read and record (a tag on some tables only is
 * a finding).
 */
export function freshTags(
  sinkTables: TableRef[],
  facts: Awaited<ReturnType<typeof tableFacts>>,
  model: ExpectedHistory,
  cycle: number,
  report: SoakReport,
): string[] {
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
  const first = facts.get(sinkTables[0]!)!.tags;
  return fresh.filter(onEvery).sort((a, b) => first.get(a)! - first.get(b)!);
}

/**
 * Reads each new tag of the sequence tables (ids 1..max once each, payloads as the model says, the
 * same max in each) and makes it a restore point of the model. Returns the sequence rows read.
 */
export async function recordSequenceTags(
  tables: TableRef[],
  tags: string[],
  model: ExpectedHistory,
  madeBy: Map<string, string>,
  cycle: number,
  report: SoakReport,
): Promise<number> {
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
  return rows;
}
