// Tables whose snapshots expire quickly, against the real stack: the plan's figures count the
// snapshots that exist (not an id range), a rollback to a tag whose snapshot expired is still
// checked from metadata, and no read fails because a snapshot expired while it ran.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireStack } from '../../support/stack';
import { rollbackMismatch } from '../../../workflows/rollback-check';
import { cancelOurJobs, freshDatabase, insertRows, paimonActivities, paimonQuery, run, snapshotIds, startWriter } from '../../support/paimon-fixtures';

const DB = 'paimontest_expiry';
const JOB_PREFIX = 'paimontest-expiry';
// Paimon expires snapshots on commit down to this many: at most two snapshot files at a time.
const EXPIRE_FAST = "'snapshot.num-retained.min' = '1', 'snapshot.num-retained.max' = '2', 'snapshot.time-retained' = '1 ms'";

async function createKeyedTable(table: string): Promise<void> {
  await paimonQuery(
    `CREATE TABLE \`${DB}\`.\`${table}\` (id BIGINT NOT NULL, payload STRING, PRIMARY KEY (id) NOT ENFORCED) ` +
      `WITH ('bucket' = '1', 'sink.savepoint.auto-tag' = 'true', ${EXPIRE_FAST})`,
  );
}

describe('tables with fast snapshot expiry', () => {
  const paimon = paimonActivities();

  beforeAll(async () => {
    await requireStack();
    await freshDatabase(DB);
  });
  afterAll(() => cancelOurJobs(JOB_PREFIX));

  it('counts the snapshots a rollback deletes from those that exist, and checks a rollback to an expired snapshot by metadata', async () => {
    const table = `${DB}.keyed`;
    await createKeyedTable('keyed');
    await insertRows(DB, 'keyed', [1, 2, 3]);
    await run(paimon.createTag, { table, tag: 'early' });
    const [early] = (await run(paimon.listTags, { table })).filter((t) => t.tagName === 'early');
    // Upserts of the same keys: records pile up while the merged rows stay 3.
    for (let i = 0; i < 5; i++) await insertRows(DB, 'keyed', [1, 2, 3]);
    const existing = await snapshotIds(DB, 'keyed');
    expect(existing.length).toBeLessThanOrEqual(2);
    expect(existing[0]).toBeGreaterThan(early!.snapshotId + 1); // the tag's snapshot and the next ones expired

    const state = await run(paimon.tableState, { table, newerThan: early!.snapshotId });
    expect(state.latestSnapshotId).toBe(existing.at(-1));
    // Not latest - tag (an id range, 5 here): only what exists is deleted.
    expect(state.snapshotsNewer).toBe(existing.length);
    expect(state.totalRecordCount).toBeGreaterThan(early!.recordCount!);

    // Paimon writes the tag's snapshot back as the latest when expiry had removed it.
    await run(paimon.rollbackToTag, { table, tag: 'early' });
    const after = await run(paimon.tableState, { table });
    expect(rollbackMismatch({ tagSnapshotId: early!.snapshotId, tagSchemaId: early!.schemaId, recordsAtTag: early!.recordCount }, after)).toEqual([]);
    expect(after).toMatchObject({ latestSnapshotId: early!.snapshotId, totalRecordCount: 3 });
    const rows = await paimonQuery(`SELECT id, payload FROM \`${DB}\`.\`keyed\``);
    expect(rows.map((r) => Number(r.id)).sort()).toEqual([1, 2, 3]);

    // And the check fails when the table is not at the tag: one more commit.
    await insertRows(DB, 'keyed', [4]);
    const moved = await run(paimon.tableState, { table });
    expect(rollbackMismatch({ tagSnapshotId: early!.snapshotId, tagSchemaId: early!.schemaId, recordsAtTag: early!.recordCount }, moved)).toEqual([
      `its latest snapshot is ${moved.latestSnapshotId}, the tag's is ${early!.snapshotId}`,
      `its snapshot counts 4 records in data files, the tag 3`,
    ]);
  });

  it('reads the state of a table while a running job commits and expires snapshots every checkpoint, without a failure', async () => {
    const table = `${DB}.live`;
    await createKeyedTable('live');
    await startWriter(DB, ['live'], `${JOB_PREFIX}-${Date.now()}`, 1);
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) {
      const state = await run(paimon.tableState, { table, newerThan: 1 });
      seen.push(state.latestSnapshotId!);
      expect(state.snapshotsNewer).toBeLessThanOrEqual(3);
    }
    // The reads spanned several commits, each of which expired an older snapshot.
    expect(new Set(seen).size).toBeGreaterThan(2);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });
});
