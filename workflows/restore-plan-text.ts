// The restore plan in words, for the approver: the summary, how to undo the restore, what cannot be undone.
import { RECORDS_MEANING } from '../src/domain/records';
import type { TableRef } from '../src/domain/model';
import type { RestorePlan, TableBlastRadius } from './restore-plan-types';

export function undoText(undoName: string, tables: TableRef[]): string {
  const copy = tables
    .map((t) => {
      const [db, name] = t.split('.');
      return `INSERT OVERWRITE \`${db}\`.\`${name}\` SELECT * FROM \`${db}\`.\`${name}$branch_${undoName}\``;
    })
    .join('; ');
  return (
    `Before the rollback every sink table gets branch '${undoName}' on its latest snapshot (once the writer stopped; made from today's savepoint tag, or a tag of the same name). ` +
    'rollback_to deletes newer tags but not branches, so the rows from before the restore stay readable in ' +
    `<table>$branch_${undoName}. To undo the restore: stop the job, copy the rows back (with 'table.dml-sync' = 'true': ${copy}), ` +
    "then start the job from today's savepoint (in the result). Not CALL sys.fast_forward: in Paimon 1.3.1 it leaves a gap in " +
    "main's snapshot ids and reading <table>$snapshots fails afterwards (docs/paimon-rollback.md)."
  );
}

export function irreversibleText(tables: TableBlastRadius[], writerStopsWithSavepoint: boolean, dropsStateOf?: string): string {
  const lost = tables.flatMap((t) => t.tagsDeleted.map((d) => `${d.tag} on ${t.table}`));
  const parts: string[] = [];
  if (lost.length > 0) {
    parts.push(
      `rollback_to deletes these tags for good and the undo branch does not bring them back: ${lost.join(', ')}; ` +
        'a savepoint-<id> among them is a restore point that can no longer be restored with these tables (its savepoint files stay)',
    );
  }
  if (writerStopsWithSavepoint) {
    parts.push("the tag of today's savepoint (taken when the writer stops) is deleted by the rollback too; today's rows stay only in the undo branch");
  }
  if (dropsStateOf !== undefined) {
    parts.push(`${dropsStateOf} starts with allowNonRestoredState: state in the restore point's savepoint that none of its operators claims is dropped`);
  }
  parts.push('anything that reads the tables (downstream jobs, queries) sees the rows after the tag disappear at once');
  return `${parts.join('. ')}.`;
}

export function summaryText(plan: RestorePlan): string {
  const writer =
    plan.writer.action === 'stop-with-savepoint'
      ? `stop job ${plan.writer.jobId} with a savepoint (a restore that ends before any table is rolled back starts ` +
        `${plan.deploymentVersion} from it in that job's place)`
      : plan.writer.action === 'cancel'
        ? `cancel job ${plan.writer.jobId} (${plan.writer.state}: no savepoint possible)`
        : 'no writer to stop';
  const others = (plan.otherWriters ?? [])
    .map((j) => {
      const lost = (j.rolledBack ?? []).map((l) => `${l.snapshots} snapshot(s) with ${l.records} record(s) in data files on ${l.table}`);
      return `; job '${j.name}' (${j.jobId}) is left running by request (options.notWriters)${lost.length > 0 ? `, and the rollback deletes what it committed since the tag: ${lost.join(', ')}` : ''}`;
    })
    .join('');
  const readers = (plan.readers ?? []).map((r) => `${r.job ? `job '${r.job.name}'` : 'consumer'}${r.consumerId ? ` (consumer ${r.consumerId})` : ''} reads ${r.table}`);
  const readersText = readers.length > 0 ? ` Readers, each with its remedy in the plan: ${readers.join('; ')}.` : '';
  // The running writer commits until it stops: its figures are estimates, and its stop adds today's tag.
  const estimate = plan.writer.action === 'stop-with-savepoint';
  const tables = plan.tables
    .map(
      (t) =>
        `${t.table}: snapshot ${t.latestSnapshotId ?? 'none'} -> ${t.tagSnapshotId}; ` +
        `${estimate ? 'about ' : ''}${t.snapshotsDeleted} snapshot(s) and ${t.tagsDeleted.length} tag(s) deleted${estimate ? ", plus today's savepoint tag" : ''}` +
        `${t.restorePointsLost.length ? ` (restore points lost: ${t.restorePointsLost.join(', ')})` : ''}; ` +
        `${t.recordsNow ?? 'unknown'} now, ${t.recordsAtTag ?? 'unknown'} at the tag`,
    )
    .join('; ');
  const counted = estimate ? ' Figures are estimates until the writer stops; the result counts what the rollback deleted.' : '';
  return (
    `Plan v${plan.version} for job '${plan.job}': ${writer}${others}; roll ${plan.tables.length} table(s) back to ${plan.restorePoint.tag}; ` +
    `start ${plan.deploymentVersion} from ${plan.restorePoint.path}. ${tables} (${RECORDS_MEANING}).${counted}${readersText}`
  );
}
