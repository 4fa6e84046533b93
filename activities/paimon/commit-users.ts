// Who committed what to a table since a snapshot, from `<table>$snapshots` alone: Paimon records
// each snapshot's commit_user (a Flink job's sink keeps one commit user for its whole life, across
// restarts from its checkpoints and savepoints; a job started afresh gets a new one) and its
// delta_record_count. So the snapshots a rollback deletes can be told apart by the job that wrote them.
import type { TableRef } from '../../src/domain/model';
import type { CommitsSince } from '../contract';
import { FailureType, fatal } from '../errors';
import { label, type PaimonContext } from './context';
import { tableName } from './identifiers';
import { CommitsByUserRow } from './schemas';
import { selectCommitsByUser } from './sql';
import { readAgainIfExpired, readOfTables } from './tables';

export async function commitsByUser(ctx: PaimonContext, input: { tables: { table: TableRef; after: number }[] }): Promise<CommitsSince[]> {
  const attempted = `commitsByUser of ${label(input?.tables?.map?.((t) => t?.table))}`;
  if (!Array.isArray(input?.tables)) throw fatal(FailureType.InvalidInput, `${attempted}: tables must be a list of { table, after }.`);
  const asked = input.tables.map((t) => {
    if (!(Number.isSafeInteger(t?.after) && t.after >= 0)) {
      throw fatal(FailureType.InvalidInput, `${attempted}: after must be a whole number, got ${label(t?.after)}.`);
    }
    return { table: tableName(t.table, attempted), after: t.after };
  });
  if (asked.length === 0) return [];
  return ctx.session(attempted, (session) =>
    readOfTables(session, asked.map((a) => a.table), ctx.catalog, async () => {
      const rows = await readAgainIfExpired(() => session.rows(selectCommitsByUser(asked), CommitsByUserRow));
      return asked.map(({ table, after }) => {
        const mine = rows.filter((r) => r.table_ref === table.ref);
        const users = new Map<string, CommitsSince['users'][number]>();
        for (const r of mine.filter((r) => r.snapshots > 0)) {
          const u = users.get(r.commit_user) ?? {
            commitUser: r.commit_user,
            snapshots: 0,
            compactions: 0,
            recordsAdded: 0,
            firstSnapshotId: Number.MAX_SAFE_INTEGER,
            lastSnapshotId: 0,
          };
          u.snapshots += r.snapshots;
          // A compaction rewrites files the writes made: its delta is not output of the job.
          if (r.commit_kind === 'COMPACT') u.compactions += r.snapshots;
          else u.recordsAdded += r.delta_records ?? 0;
          u.firstSnapshotId = Math.min(u.firstSnapshotId, r.first_snapshot_id ?? u.firstSnapshotId);
          u.lastSnapshotId = Math.max(u.lastSnapshotId, r.last_snapshot_id ?? 0);
          users.set(r.commit_user, u);
        }
        const list = [...users.values()].sort((a, b) => a.firstSnapshotId - b.firstSnapshotId);
        return {
          table: table.ref,
          after,
          // Absent when expiry removed that snapshot from $snapshots (a tag keeps its own copy).
          afterCommittedBy: mine.find((r) => r.committed_after === 1)?.commit_user ?? null,
          upToSnapshotId: list.reduce((m, u) => Math.max(m, u.lastSnapshotId), after),
          users: list,
        };
      });
    }),
  );
}
