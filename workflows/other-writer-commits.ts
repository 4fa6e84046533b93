// What a restore's rollback takes from a writer left running (options.notWriters). Paimon records
// every snapshot's commit user, and a Flink job's sink keeps one commit user for its life (across
// restarts from its checkpoints and savepoints): the restore point's tag snapshot was committed by
// the restore's writer, so the snapshots since the tag by other commit users are the other
// writers'. Measured on Paimon 1.3.1 (test/e2e/restore-other-writer.test.ts).
import type { CommitsSince, TableJob } from '../activities/contract';
import type { OtherWriterLoss, PlanOtherWriter } from './restore-messages';
import { BY_NAME_ONLY, shortName } from './table-users';

/** Histories recorded before this patch did not read the other writers' commits for the plan. */
export const PLAN_COUNTS_OTHER_WRITERS_COMMITS = 'restore-plan-counts-other-writers-commits';

/** Two writers of one table, in Paimon's words (measured: each fails the other over, and a stop can fail with it). */
export const TWO_WRITERS_CONFLICT =
  "two jobs committing to one table fail each other: Paimon gives up a commit that conflicts with the other job's " +
  "('File deletion conflicts detected! Give up committing.', mostly when both compact the same files) and fails that job over, " +
  'and a stop-with-savepoint that meets such a failure fails (the writer may end FAILED)';

export function planOtherWriters(leftRunning: TableJob[], commits: CommitsSince[] | undefined): PlanOtherWriter[] {
  return leftRunning.map((j) => {
    const rolledBack = commits
      ?.filter((c) => j.writes.includes(c.table))
      .map((c) => lossOf(c, leftRunning.filter((o) => o.writes.includes(c.table))));
    const lost = rolledBack?.map((l) => `${l.snapshots} snapshot(s) with ${l.records} record(s) on ${l.table}`).join(', ');
    return {
      jobId: j.jobId,
      name: j.name,
      state: j.state,
      tables: j.writes,
      note:
        `left running because options.notWriters names it: it writes a table named ${j.writes.map(shortName).join(', ')} (${BY_NAME_ONLY}); ` +
        'if that is one of these tables, it writes on over the restored table' +
        (lost ? `, and the rollback deletes what it committed there since the tag (${lost}; records in data files, not rows)` : '') +
        `. ${TWO_WRITERS_CONFLICT}`,
      ...(rolledBack ? { rolledBack } : {}),
    };
  });
}

function lossOf(c: CommitsSince, writersOfTable: TableJob[]): OtherWriterLoss {
  const writer = c.afterCommittedBy;
  const others = c.users.filter((u) => u.commitUser !== writer);
  const counted = c.users.reduce((n, u) => n + u.snapshots, 0);
  const missing = c.upToSnapshotId - c.after - counted;
  const basis = [
    writer === null
      ? `Paimon no longer lists snapshot ${c.after} (the tag's) in $snapshots, so the restore's writer's commit user is unknown: these are every commit since the tag, the writer's included`
      : `commit users other than ${writer}, which committed snapshot ${c.after} (the restore point's tag: the restore's writer); a run of the writer started afresh since the tag, a batch INSERT, a compaction job or a procedure that committed meanwhile would count here too`,
    writersOfTable.length > 1 ? `the jobs left running that write a table of this name (${writersOfTable.map((w) => `'${w.name}'`).join(', ')}) together` : '',
    missing > 0 ? `${missing} snapshot(s) in that range are gone from $snapshots (expired) and not counted` : '',
  ].filter((p) => p !== '');
  return {
    table: c.table,
    commitUsers: others.map((u) => u.commitUser),
    snapshots: others.reduce((n, u) => n + u.snapshots, 0),
    compactions: others.reduce((n, u) => n + u.compactions, 0),
    records: others.reduce((n, u) => n + u.recordsAdded, 0),
    tagSnapshotId: c.after,
    upToSnapshotId: c.upToSnapshotId,
    basis: basis.join('; '),
  };
}

/** For the plan's irreversible part. */
export function otherWritersLossText(writers: PlanOtherWriter[]): string {
  const lost = writers.flatMap((w) =>
    (w.rolledBack ?? []).filter((l) => l.snapshots > 0).map((l) => `job '${w.name}' (${w.jobId}) on ${l.table}: ${l.snapshots} snapshot(s), ${l.records} record(s) in data files`),
  );
  if (lost.length === 0) return '';
  return ` What jobs left running committed since the tag is deleted by the rollback too, and the undo branch keeps it only as rows: ${lost.join('; ')}.`;
}
