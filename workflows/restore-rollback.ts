// The restore's rollback: every sink table back to the restore point's tag with rollback_to, all
// tables at once, each checked from its metadata afterwards (rollback-check.ts), as read by the
// rollback's own activity.
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/contract';
import type { RollbackCount, TableRef, TableState } from '../src/domain/model';
import { tableRollback } from './activity-options';
import { settledAtMost, TABLES_AT_ONCE } from './fan-out';
import { fatal } from './job-steps';
import { WorkflowFailureType } from './messages';
import type { Progress } from './progress';
import type { RestorePlan, RestoreStatus, TableRollback } from './restore-messages';
import { rollbackMismatch } from './rollback-check';
import { messageOf } from './saga';

const rollback = proxyActivities<Activities>(tableRollback);

/** Histories recorded before this patch rolled the tables back one after another. */
const ROLLBACKS_AT_ONCE = 'rollbacks-at-once';
/** Histories recorded before this patch checked a rollback with COUNT(*) (legacyRowCheck). */
const ROLLBACK_CHECKED_BY_METADATA = 'rollback-checked-by-metadata';
/** Histories recorded before this patch kept no count of what each rollback_to deleted. */
const ROLLBACK_COUNTS_WHAT_IT_DELETED = 'rollback-counts-what-it-deleted';
/** Histories recorded before this patch read each table's state after its rollback in an activity of its own. */
const ROLLBACK_READS_TABLE_AFTER = 'rollback-reads-table-after';

/**
 * Roll every table back and check it from its metadata (rollback-check.ts): all tables at once,
 * each table's rollback being its own. A table that fails ends the restore with exactly which
 * tables were rolled back.
 */
export async function rollBack(
  plan: RestorePlan,
  undoInstructions: string,
  progress: Progress<RestoreStatus>,
  /** what each table's rollback deletes, counted with today's tag: those tables' rollbacks read nothing before rollback_to */
  counted: Record<TableRef, RollbackCount> = {},
): Promise<TableRef[]> {
  progress.enter('rolling-back-tables');
  const tag = plan.restorePoint.tag;
  const tables: TableRollback[] = plan.tables.map((t) => ({ table: t.table, rolledBack: false }));
  progress.note({ tables });
  const rollBackOne = async (t: RestorePlan['tables'][number], i: number): Promise<void> => {
    // What rollback_to deleted, counted as it ran: the plan's figures were read before the stop.
    const countsDeleted = patched(ROLLBACK_COUNTS_WHAT_IT_DELETED);
    // The state to check, read by the rollback's own activity: one round trip less per table while the job is down.
    const readAfter = countsDeleted && patched(ROLLBACK_READS_TABLE_AFTER);
    const before = readAfter ? counted[t.table] : undefined;
    const done = await rollback.rollbackToTag(
      countsDeleted ? { table: t.table, tag, count: true, ...(readAfter ? { readAfter } : {}), ...(before ? { before } : {}) } : { table: t.table, tag },
    );
    const deleted = countsDeleted && done ? { previousSnapshotId: done.previousSnapshotId, snapshotsDeleted: done.snapshotsDeleted, tagsDeleted: done.tagsDeleted } : {};
    tables[i] = { table: t.table, rolledBack: true, ...deleted };
    progress.note({ tables: [...tables] });
    // Left out when the activity's read after the rollback failed: read on its own then.
    const state = (readAfter && done ? done.after : undefined) ?? (await rollback.tableState({ table: t.table }));
    if (patched(ROLLBACK_CHECKED_BY_METADATA)) {
      const { latestSnapshotId, schemaId, totalRecordCount } = state;
      tables[i] = { ...tables[i]!, snapshotId: latestSnapshotId ?? undefined, schemaId: schemaId ?? undefined, records: totalRecordCount };
      progress.note({ tables: [...tables] });
      const mismatch = rollbackMismatch(t, state);
      if (mismatch.length > 0) throw new Error(`after rollback_to ${t.table} is not at tag ${tag}: ${mismatch.join('; ')}`);
    } else {
      legacyRowCheck(t, state, tables, i, tag, progress);
    }
  };
  const failures: { table: TableRef; err: unknown }[] = [];
  if (patched(ROLLBACKS_AT_ONCE)) {
    const outcomes = await settledAtMost(plan.tables, TABLES_AT_ONCE, rollBackOne);
    outcomes.forEach((o, i) => {
      if (o.status === 'rejected') failures.push({ table: plan.tables[i]!.table, err: o.reason });
    });
  } else {
    for (const [i, t] of plan.tables.entries()) {
      try {
        await rollBackOne(t, i);
      } catch (err) {
        failures.push({ table: t.table, err });
        break;
      }
    }
  }
  if (failures.length === 0) return plan.tables.map((t) => t.table);

  const done = tables.filter((r) => r.rolledBack).map((r) => r.table);
  const notDone = tables.filter((r) => !r.rolledBack).map((r) => r.table);
  const byHand = notDone.map((table) => `CALL sys.rollback_to(\`table\` => '${table}', tag => '${tag}')`).join('; ');
  const what = failures.map((f) => messageOf(f.err)).join('; ');
  const where =
    notDone.length === 0
      ? `every sink table was rolled back to ${tag}, but the check after the rollback of ${failures.map((f) => f.table).join(', ')} failed: ${what}. `
      : `the restore stopped half-way at ${failures.map((f) => f.table).join(', ')}: ${what}. ` +
        `Rolled back to ${tag}: ${done.join(', ') || 'none'}; NOT rolled back: ${notDone.join(', ')}. `;
  const reason =
    `${where}No job was started. ` +
    (notDone.length > 0 ? `To finish by hand: ${byHand}; ` : 'To finish by hand: check the tables, ') +
    `then start ${plan.deploymentVersion} from ${plan.restorePoint.path}. Or undo what was done: ${undoInstructions}`;
  const status = progress.finish('failed', { reason });
  throw fatal(WorkflowFailureType.RestoreIncomplete, reason, [status]);
}

/**
 * Histories recorded before 'rollback-checked-by-metadata' compared COUNT(*) with the tag's
 * record_count, which is wrong for any table whose keys change; kept only so they replay.
 */
function legacyRowCheck(t: RestorePlan['tables'][number], state: TableState, tables: TableRollback[], i: number, tag: string, progress: Progress<RestoreStatus>) {
  const { rowCount } = state as TableState & { rowCount?: number };
  const rowsAtTag = t.recordsAtTag;
  tables[i] = { table: t.table, rolledBack: true, snapshotId: state.latestSnapshotId ?? undefined, rowCount };
  progress.note({ tables: [...tables] });
  if (state.latestSnapshotId !== t.tagSnapshotId || (rowsAtTag !== null && rowCount !== rowsAtTag)) {
    throw new Error(
      `after rollback_to ${t.table} is at snapshot ${state.latestSnapshotId} with ${rowCount} rows; ` +
        `tag ${tag} is snapshot ${t.tagSnapshotId} with ${rowsAtTag} rows`,
    );
  }
}
