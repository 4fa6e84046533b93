// describeSinkTables and tableState against the real stack: which tables exist and tag savepoints,
// the latest snapshot's metadata, unknown tables, and an unreachable gateway.
import { beforeAll, describe, expect, it } from 'vitest';
import { requireStack } from '../../support/stack';
import {
  CountingGateway,
  createTable,
  expectFatal,
  expectRetryable,
  freshDatabase,
  insertRows,
  paimonActivities,
  paimonQuery,
  run,
  snapshotIds,
} from '../../support/paimon-fixtures';

const DB = 'paimontest_tables';

describe('sink tables', () => {
  const gateway = new CountingGateway();
  const paimon = paimonActivities(gateway);

  beforeAll(async () => {
    await requireStack();
    await freshDatabase(DB);
    await createTable(DB, 'tagged', true);
    await createTable(DB, 'untagged', false);
    await createTable(DB, 'empty', true);
    await insertRows(DB, 'tagged', [1, 2, 3]);
    await insertRows(DB, 'tagged', [3, 4]); // 3 again: a primary-key upsert, not a new row
  });

  it('describeSinkTables: existence and the sink.savepoint.auto-tag option, in input order', async () => {
    const tables = [`${DB}.untagged`, `${DB}.nope`, `${DB}.tagged`, 'paimontest_no_such_db.tagged', `${DB}.empty`];
    await expect(run(paimon.describeSinkTables, { tables })).resolves.toEqual([
      { table: `${DB}.untagged`, exists: true, autoTagOnSavepoint: false },
      { table: `${DB}.nope`, exists: false, autoTagOnSavepoint: false },
      { table: `${DB}.tagged`, exists: true, autoTagOnSavepoint: true },
      { table: 'paimontest_no_such_db.tagged', exists: false, autoTagOnSavepoint: false },
      { table: `${DB}.empty`, exists: true, autoTagOnSavepoint: true },
    ]);
    await expect(run(paimon.describeSinkTables, { tables: [] })).resolves.toEqual([]);
  });

  it("tableState: the latest snapshot's metadata, its records counted as a tag counts them, not as merged rows", async () => {
    const table = `${DB}.tagged`;
    const snapshots = await snapshotIds(DB, 'tagged');
    expect(snapshots.length).toBeGreaterThanOrEqual(2);
    const [latest] = await paimonQuery(
      `SELECT schema_id, total_record_count FROM \`${DB}\`.\`tagged$snapshots\` WHERE snapshot_id = ${snapshots.at(-1)}`,
    );
    const state = await run(paimon.tableState, { table, newerThan: snapshots[0]! });
    expect(state).toEqual({
      table,
      latestSnapshotId: snapshots.at(-1),
      schemaId: Number(latest!.schema_id),
      totalRecordCount: Number(latest!.total_record_count),
      snapshotsNewer: snapshots.length - 1,
    });
    // Id 3 was written twice: its data files hold 5 records for 4 merged rows, and a tag says 5 too.
    expect(state.totalRecordCount).toBe(5);
    const [merged] = await paimonQuery(`SELECT COUNT(*) AS n FROM \`${DB}\`.\`tagged\``);
    expect(Number(merged!.n)).toBe(4);
    await run(paimon.createTag, { table, tag: 'at_latest', snapshotId: state.latestSnapshotId! });
    const tag = (await run(paimon.listTags, { table })).find((t) => t.tagName === 'at_latest')!;
    expect({ snapshotId: tag.snapshotId, schemaId: tag.schemaId, records: tag.recordCount }).toEqual({
      snapshotId: state.latestSnapshotId,
      schemaId: state.schemaId,
      records: state.totalRecordCount,
    });
    // Without newerThan nothing is counted; with the latest id, nothing is newer.
    expect((await run(paimon.tableState, { table })).snapshotsNewer).toBe(0);
    expect((await run(paimon.tableState, { table, newerThan: state.latestSnapshotId! })).snapshotsNewer).toBe(0);
  });

  it('tableState: a table never written has no snapshot', async () => {
    await expect(run(paimon.tableState, { table: `${DB}.empty`, newerThan: 0 })).resolves.toEqual({
      table: `${DB}.empty`,
      latestSnapshotId: null,
      schemaId: null,
      totalRecordCount: null,
      snapshotsNewer: 0,
    });
  });

  it('tableState and the tag activities fail with TableNotFound on an unknown table or database', async () => {
    const unknownTable = await expectFatal(run(paimon.tableState, { table: `${DB}.nope` }), 'TableNotFound');
    expect(unknownTable.message).toContain(`tableState of ${DB}.nope: table ${DB}.nope not found in Paimon catalog 'paimon'`);
    expect(unknownTable.message).toContain(`database '${DB}' has no table 'nope'`);
    const unknownDb = await expectFatal(run(paimon.tableState, { table: 'paimontest_no_such_db.t' }), 'TableNotFound');
    expect(unknownDb.message).toContain("database 'paimontest_no_such_db' does not exist");

    gateway.reset();
    const table = `${DB}.nope`;
    await expectFatal(run(paimon.listTags, { table }), 'TableNotFound');
    await expectFatal(run(paimon.createTag, { table, tag: 't1' }), 'TableNotFound');
    await expectFatal(run(paimon.deleteTag, { table, tag: 't1' }), 'TableNotFound');
    await expectFatal(run(paimon.rollbackToTag, { table, tag: 't1' }), 'TableNotFound');
    const waited = await expectFatal(run(paimon.awaitTag, { tables: [`${DB}.tagged`, table], tag: 't1', timeoutMs: 60_000 }), 'TableNotFound');
    expect(waited.message).toContain(`table ${table} not found`);
    const listed = await expectFatal(run(paimon.listTagsOfTables, { tables: [`${DB}.tagged`, table] }), 'TableNotFound');
    expect(listed.message).toContain(`listTagsOfTables ${DB}.tagged, ${table}: table ${table} not found`);
    // Found out by SHOW DATABASES / SHOW TABLES before anything changes: no procedure was called.
    expect(gateway.statements.filter((s) => /CALL/.test(s))).toEqual([]);
    // The rollback (which runs while the job is down) and the reads of several tables read first
    // and look the tables up only when the read fails.
    expect(gateway.statements.filter((s) => /SELECT/.test(s))).toEqual([
      expect.stringContaining('`nope$tags`'),
      expect.stringContaining('`nope$tags`'),
      expect.stringContaining('`nope$tags`'),
    ]);
  });

  it('an unreachable SQL gateway is a retryable failure of every activity', async () => {
    const away = paimonActivities(new CountingGateway('http://127.0.0.1:1'));
    const table = `${DB}.tagged`;
    const calls: (() => Promise<unknown>)[] = [
      () => run(away.describeSinkTables, { tables: [table] }),
      () => run(away.listTags, { table }),
      () => run(away.awaitTag, { tables: [table], tag: 't1', timeoutMs: 1_000 }),
      () => run(away.createTag, { table, tag: 't1' }),
      () => run(away.deleteTag, { table, tag: 't1' }),
      () => run(away.rollbackToTag, { table, tag: 't1' }),
      () => run(away.tableState, { table }),
    ];
    for (const call of calls) {
      const err = await expectRetryable(call());
      expect(err.message).toMatch(/did not answer POST \/v1\/sessions: .*ECONNREFUSED/);
      expect(err.message).toContain('bash scripts/stack.sh up');
    }
  });
});
