// Tags against the real stack: $tags as Paimon 1.3 has it, create/delete (idempotent, conflicts),
// rollbackToTag refusing a missing tag, and awaitTag on the savepoint-<id> tag that a real
// stop-with-savepoint makes on two auto-tag tables at once (and timing out on one that never comes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPaimonBranchActivities } from '../../../activities/paimon/branches';
import { tagFor } from '../../../src/domain/model';
import { requireStack } from '../../support/stack';
import {
  CountingGateway,
  activityEnv,
  cancelOurJobs,
  config,
  createTable,
  expectFatal,
  freshDatabase,
  insertRows,
  paimonActivities,
  paimonQuery,
  run,
  snapshotIds,
  startWriter,
  stopWithSavepoint,
  tagNames,
} from '../../support/paimon-fixtures';

const DB = 'paimontest_tags';
const JOB_PREFIX = 'paimontest-tags';
const A = `${DB}.seq_a`;
const B = `${DB}.seq_b`;

describe('tag activities', () => {
  const gateway = new CountingGateway();
  const paimon = paimonActivities(gateway);

  beforeAll(async () => {
    await requireStack();
    await cancelOurJobs(JOB_PREFIX);
    await freshDatabase(DB);
    await createTable(DB, 'seq_a', true);
    await createTable(DB, 'seq_b', true);
    await createTable(DB, 'plain', false);
    await insertRows(DB, 'plain', [1, 2]);
    await insertRows(DB, 'plain', [3]);
    await insertRows(DB, 'plain', [4, 5, 6]);
  });

  afterAll(async () => {
    await cancelOurJobs(JOB_PREFIX);
  });

  it("createTag on the latest snapshot and on a given one; listTags reads Paimon 1.3's $tags", async () => {
    const table = `${DB}.plain`;
    const [first, , latest] = await snapshotIds(DB, 'plain');
    await run(paimon.createTag, { table, tag: 'at-latest' });
    await run(paimon.createTag, { table, tag: 'at-first', snapshotId: first! });
    const tags = await run(paimon.listTags, { table });
    expect(tags).toEqual([
      // No time_retained on the table or the call: Paimon keeps them (expiresAt null).
      { tagName: 'at-first', snapshotId: first, schemaId: 0, commitTime: expect.any(String), recordCount: 2, expiresAt: null },
      { tagName: 'at-latest', snapshotId: latest, schemaId: 0, commitTime: expect.any(String), recordCount: 6, expiresAt: null },
    ]);
    // a local date-time, as Paimon gives it
    expect(tags[0]!.commitTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$/);
    // the columns we read are the ones Paimon 1.3 has, plus two we leave alone
    const [row] = await paimonQuery(`SELECT * FROM \`${DB}\`.\`plain$tags\``);
    expect(Object.keys(row!)).toEqual([
      'tag_name',
      'snapshot_id',
      'schema_id',
      'commit_time',
      'record_count',
      'create_time',
      'time_retained',
    ]);
  });

  it('createTag is idempotent, and refuses a tag name taken by another snapshot', async () => {
    const table = `${DB}.plain`;
    const [first, second] = await snapshotIds(DB, 'plain');
    gateway.reset();
    await run(paimon.createTag, { table, tag: 'at-latest' }); // a retry of the call above
    await run(paimon.createTag, { table, tag: 'at-first', snapshotId: first! });
    expect(gateway.statements.filter((s) => s.startsWith('CALL'))).toEqual([]);
    const conflict = await expectFatal(run(paimon.createTag, { table, tag: 'at-first', snapshotId: second! }), 'TagConflict');
    expect(conflict.message).toContain(`already has tag 'at-first' on snapshot ${first}, not ${second}`);
    expect((await run(paimon.listTags, { table })).find((t) => t.tagName === 'at-first')?.snapshotId).toBe(first);
  });

  it('createTag on a snapshot that does not exist fails with Paimon saying so', async () => {
    const failure = await expectFatal(run(paimon.createTag, { table: `${DB}.plain`, tag: 'nowhere', snapshotId: 999 }), 'SqlFailed');
    expect(failure.message).toMatch(/^createTag 'nowhere' on paimontest_tags\.plain: the SQL gateway rejected CALL sys\.create_tag/);
    expect(failure.message).toMatch(/999/);
  });

  it('deleteTag removes a tag, and a second delete of it succeeds (Paimon ignores a missing tag)', async () => {
    const table = `${DB}.plain`;
    await run(paimon.createTag, { table, tag: 'short-lived' });
    await run(paimon.deleteTag, { table, tag: 'short-lived' });
    expect(await tagNames(DB, 'plain')).not.toContain('short-lived');
    await run(paimon.deleteTag, { table, tag: 'short-lived' });
  });

  it('rollbackToTag refuses a missing tag and leaves the table as it was', async () => {
    const table = `${DB}.plain`;
    const before = await run(paimon.tableState, { table });
    gateway.reset();
    const failure = await expectFatal(run(paimon.rollbackToTag, { table, tag: 'savepoint-424242' }), 'TagMissing');
    expect(failure.message).toContain(`rollbackToTag ${table} to tag 'savepoint-424242': table ${table} has no tag 'savepoint-424242'`);
    expect(failure.message).toContain('its tags: at-first, at-latest');
    expect(failure.message).toContain('Nothing was rolled back.');
    expect(gateway.statements.filter((s) => s.includes('rollback_to'))).toEqual([]);
    // Counting what it would delete (the restore's call): the tags and the count in one read, the same refusal.
    const counted = await expectFatal(run(paimon.rollbackToTag, { table, tag: 'savepoint-424242', count: true }), 'TagMissing');
    expect(counted.message).toContain('its tags: at-first, at-latest');
    expect(gateway.statements.filter((s) => s.includes('rollback_to'))).toEqual([]);
    expect(gateway.statements.filter((s) => /^SELECT/.test(s))).toHaveLength(2);
    await expect(run(paimon.tableState, { table })).resolves.toEqual(before);
  });

  it('createBranch makes the branch from the tag; again is a no-op; a missing tag is named', async () => {
    const table = `${DB}.plain`;
    const branches = createPaimonBranchActivities(config);
    await run(paimon.createTag, { table, tag: 'branch-base' });
    const base = (await run(paimon.listTags, { table })).find((t) => t.tagName === 'branch-base')!;
    await run(branches.createBranch, { table, branch: 'undo_here', tag: 'branch-base' });
    await run(branches.createBranch, { table, branch: 'undo_here', tag: 'branch-base' });
    const made = await paimonQuery(`SELECT branch_name FROM \`${DB}\`.\`plain$branches\``);
    expect(made.map((r) => r.branch_name)).toEqual(['undo_here']);
    const rows = await paimonQuery(`SELECT COUNT(*) AS n FROM \`${DB}\`.\`plain$branch_undo_here\``);
    expect(Number(rows[0]!.n)).toBe(base.recordCount);
    const failure = await expectFatal(run(branches.createBranch, { table, branch: 'undo_other', tag: 'savepoint-424242' }), 'TagMissing');
    expect(failure.message).toContain(`table ${table} has no tag 'savepoint-424242'`);
    expect(failure.message).toContain('No branch was made.');
    // The table is looked up only after the procedure refused: a missing one is still named.
    const missing = await expectFatal(run(branches.createBranch, { table: `${DB}.nope`, branch: 'undo_here', tag: 'branch-base' }), 'TableNotFound');
    expect(missing.message).toContain(`database '${DB}' has no table 'nope'`);
  });

  it('awaitTag: stop-with-savepoint tags savepoint-<id> on both tables, and awaitTag sees it', async () => {
    const jobId = await startWriter(DB, ['seq_a', 'seq_b'], `${JOB_PREFIX}-${Date.now()}`, 1);
    const { savepointId } = await stopWithSavepoint(jobId);
    const tag = tagFor(savepointId);
    const heartbeats: { missing: string[] }[] = [];
    const env = activityEnv();
    env.on('heartbeat', (d: unknown) => heartbeats.push(d as { missing: string[] }));
    await expect(run(paimon.awaitTag, { tables: [A, B], tag, timeoutMs: 30_000 }, env)).resolves.toEqual({ missing: [] });
    // A heartbeat only before a wait, naming the tables still waited for; none once all are tagged.
    for (const beat of heartbeats) expect(beat.missing.length).toBeGreaterThan(0);
    for (const table of [A, B]) {
      const tags = await run(paimon.listTags, { table });
      const tagged = tags.find((t) => t.tagName === tag);
      expect(tagged, `${table} has ${tag}`).toBeDefined();
      // the tag is the table's last snapshot: the job's final commit at the savepoint
      const latest = (await run(paimon.tableState, { table })).latestSnapshotId;
      expect(tagged!.snapshotId).toBe(latest);
    }

    // Every table's tags in one read, as listTags gives them one table at a time.
    const plain = `${DB}.plain`;
    const all = await run(paimon.listTagsOfTables, { tables: [A, B, plain] });
    expect(Object.keys(all)).toEqual([A, B, plain]);
    for (const table of [A, B, plain]) expect(all[table]).toEqual(await run(paimon.listTags, { table }));
    expect(all[A]!.map((t) => t.tagName)).toContain(tag);
    // awaitTag withTags answers with the same tags (a restore checks them after its stop).
    expect(await run(paimon.awaitTag, { tables: [A, B], tag, timeoutMs: 30_000, withTags: true })).toEqual({ missing: [], tags: { [A]: all[A], [B]: all[B] } });
    const notYet = await run(paimon.awaitTag, { tables: [A, plain], tag, timeoutMs: 0, withTags: true });
    expect(notYet).toEqual({ missing: [plain], tags: { [A]: all[A], [plain]: all[plain] } });
    // The savepoint workflow's check reads the savepoint-* names with the tables' description.
    const described = await run(paimon.describeSinkTables, { tables: [A, plain], withSavepointTags: true });
    expect(described).toEqual([
      { table: A, exists: true, autoTagOnSavepoint: true, savepointTags: all[A]!.map((t) => t.tagName).filter((n) => n.startsWith('savepoint-')) },
      { table: plain, exists: true, autoTagOnSavepoint: false, savepointTags: [] },
    ]);
    expect(described[0]!.savepointTags).toContain(tag);
  });

  it('awaitTag times out with the tables still missing the tag, heartbeating them', async () => {
    const heartbeats: { missing: string[]; deadline: number }[] = [];
    const env = activityEnv();
    env.on('heartbeat', (d: unknown) => heartbeats.push(d as { missing: string[]; deadline: number }));
    const started = Date.now();
    const result = await run(paimon.awaitTag, { tables: [A, B, `${DB}.plain`], tag: 'at-first', timeoutMs: 3_000 }, env);
    expect(result).toEqual({ missing: [A, B] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
    expect(heartbeats.length).toBeGreaterThanOrEqual(2);
    for (const beat of heartbeats) expect(beat.missing).toEqual([A, B]);
  });

  it('awaitTag resumed by a retry keeps the first attempt’s deadline: one check, no new wait', async () => {
    const env = activityEnv({ heartbeatDetails: { missing: [A], deadline: Date.now() - 1 } });
    const started = Date.now();
    await expect(run(paimon.awaitTag, { tables: [A], tag: 'never', timeoutMs: 600_000 }, env)).resolves.toEqual({
      missing: [A],
    });
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
