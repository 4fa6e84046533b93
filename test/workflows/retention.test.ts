// retentionWorkflow against a fake catalog: what it deletes, in which order, and what it leaves
// alone (dry run, pinned, newest restorable), on a real dev server.
import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import type { TableRef } from '../../src/domain/model';
import type { RetentionInput, RetentionResult } from '../../src/domain/retention-input';
import { DAY, fakeCatalog, point, type CatalogFake } from '../support/restore-point-fakes';
import { unique, useWorkflowTestEnv } from '../support/temporal-env';

const TABLES: TableRef[] = ['demo.seq_a', 'demo.seq_b'];

/** The exact calls that delete one point, in the order that keeps the catalog honest. */
const deletion = (id: number, dispose = true) => [
  `mark ${id}`,
  `deleteTag demo.seq_a savepoint-${id}`,
  `deleteTag demo.seq_b savepoint-${id}`,
  ...(dispose ? [`dispose ${id}`] : []),
  `deleteDir ${id}`,
  `deleteRecord ${id}`,
];

describe('retentionWorkflow', () => {
  const temporal = useWorkflowTestEnv();

  async function run(activities: CatalogFake, input: RetentionInput): Promise<RetentionResult> {
    const taskQueue = unique('retention');
    const worker = await Worker.create({ connection: temporal.env.nativeConnection, taskQueue, workflowBundle: temporal.bundle, activities });
    return worker.runUntil(
      temporal.env.client.workflow.execute('retentionWorkflow', { taskQueue, workflowId: unique('retention'), args: [input] }),
    );
  }

  it('dry run: reports every decision and changes nothing', async () => {
    const fake = fakeCatalog([point(1, 3 * DAY), point(2, 2 * DAY), point(3, DAY)]);
    const result = await run(fake.activities, { jobName: 'job', policy: { keepLast: 1 }, dryRun: true });
    expect(result).toEqual({
      jobName: 'job',
      dryRun: true,
      decisions: [
        { savepointId: 3, action: 'keep', reason: 'newest-restorable' },
        { savepointId: 2, action: 'delete', reason: 'expired' },
        { savepointId: 1, action: 'delete', reason: 'expired' },
      ],
      deleted: [],
      failed: [],
      inUse: [],
    });
    expect(fake.calls).toEqual(['list job', 'inUse job']);
  });

  it('keeps the newest point when none is restorable', async () => {
    const broken = { restorable: false, tables: { 'demo.seq_a': 'present', 'demo.seq_b': 'missing' } } as const;
    const fake = fakeCatalog([point(1, 3 * DAY, broken), point(2, 2 * DAY, broken), point(3, DAY, broken)]);
    const result = await run(fake.activities, { jobName: 'job', tables: TABLES, policy: { keepLast: 1, pendingGrace: 0 } });
    expect(result.decisions).toEqual([
      { savepointId: 3, action: 'keep', reason: 'none-restorable' },
      { savepointId: 2, action: 'delete', reason: 'not-restorable' },
      { savepointId: 1, action: 'delete', reason: 'not-restorable' },
    ]);
    expect(result.deleted).toEqual([1, 2]);
  });

  it('leaves lost points (older timelines) alone, also one that shares its savepoint id with a point it deletes', async () => {
    const lost = (id: number, ageMs: number, jobId: string) =>
      point(id, ageMs, {
        path: `file:/sp/savepoint-${jobId}-${id}`,
        jobId: jobId.padEnd(32, '0'),
        restorable: false,
        tables: { 'demo.seq_a': 'missing', 'demo.seq_b': 'missing' },
        lost: { since: new Date().toISOString(), reason: 'tag deleted by rollback_to savepoint-1' },
      });
    const fake = fakeCatalog([point(5, 60_000), point(2, 2 * DAY), lost(2, 3 * DAY, '0ld0ld'), lost(3, 4 * DAY, '0ld0ld')]);
    const marked: unknown[] = [];
    const mark = fake.activities.markRestorePointExpiring;
    fake.activities.markRestorePointExpiring = (input) => (marked.push(input), mark(input));
    const result = await run(fake.activities, { jobName: 'job', policy: { keepLast: 1, pendingGrace: 0 } });
    expect(result.decisions).toEqual([
      { savepointId: 5, action: 'keep', reason: 'newest-restorable' },
      { savepointId: 2, action: 'delete', reason: 'expired' },
      { savepointId: 2, action: 'keep', reason: 'lost' },
      { savepointId: 3, action: 'keep', reason: 'lost' },
    ]);
    expect(result.deleted).toEqual([2]);
    expect(fake.calls).toEqual(['list job', 'inUse job', ...deletion(2)]);
    // The mark names the listed savepoint, so a record replaced since (ids repeat) is refused.
    expect(marked).toEqual([expect.objectContaining({ savepointId: 2, path: 'file:/sp/savepoint-abcdef-2' })]);
  });

  it('deletes expired points oldest first: record marked, tag on every table, savepoint, record deleted', async () => {
    const fake = fakeCatalog([point(1, 3 * DAY), point(2, 2 * DAY), point(3, DAY)]);
    const result = await run(fake.activities, { jobName: 'job', policy: { keepLast: 1 } });
    expect(result.deleted).toEqual([1, 2]);
    expect(result.failed).toEqual([]);
    expect(fake.calls).toEqual(['list job', 'inUse job', ...deletion(1), ...deletion(2)]);
  });

  it('keeps pinned points, and the newest restorable one even when every rule would drop it', async () => {
    const fake = fakeCatalog([
      point(1, 90 * DAY, { pinned: true }),
      point(2, 60 * DAY),
      point(3, 40 * DAY),
      point(4, 30 * DAY, { restorable: false, tables: { 'demo.seq_a': 'present', 'demo.seq_b': 'missing' } }),
    ]);
    const result = await run(fake.activities, { jobName: 'job', policy: { maxAge: '7d' } });
    expect(result.decisions).toEqual([
      { savepointId: 4, action: 'delete', reason: 'not-restorable' },
      { savepointId: 3, action: 'keep', reason: 'newest-restorable' },
      { savepointId: 2, action: 'delete', reason: 'expired' },
      { savepointId: 1, action: 'keep', reason: 'pinned' },
    ]);
    expect(result.deleted).toEqual([2, 4]);
    // The not-restorable point's tag is deleted on every table, also where the listing missed it:
    // a late checkpoint could still create it.
    expect(fake.calls).toEqual(['list job', 'inUse job', ...deletion(2), ...deletion(4)]);
  });

  it('a point pinned after the listing is not touched; the others still go', async () => {
    const fake = fakeCatalog([point(1, 3 * DAY), point(2, 2 * DAY), point(3, DAY)], { pinnedMeanwhile: [1] });
    const result = await run(fake.activities, { jobName: 'job', policy: { keepLast: 1 } });
    expect(result.deleted).toEqual([2]);
    expect(result.failed).toEqual([{ savepointId: 1, error: 'restore point 1 is pinned' }]);
    expect(fake.calls).toEqual(['list job', 'inUse job', 'mark-refused 1', ...deletion(2)]);
  });

  it('when Flink cannot dispose the savepoint, deletes its directory; a tag already gone is fine', async () => {
    const fake = fakeCatalog([point(1, 2 * DAY), point(2, DAY)], {
      disposeFails: [1],
      tagAlreadyGone: [{ table: 'demo.seq_b', savepointId: 1 }],
    });
    const result = await run(fake.activities, { jobName: 'job', policy: { keepLast: 1 } });
    expect(result.deleted).toEqual([1]);
    expect(fake.calls).toEqual(['list job', 'inUse job', ...deletion(1)]);
  });

  it('does not ask Flink to dispose a savepoint whose files are gone; finishes a deletion an earlier run began', async () => {
    const fake = fakeCatalog([
      point(1, 3 * DAY, { savepointPresent: false, restorable: false }),
      point(2, 2 * DAY, { expiring: true, restorable: false }),
      point(3, DAY),
    ]);
    const result = await run(fake.activities, { jobName: 'job', policy: { keepLast: 5, maxAge: '30d' } });
    expect(result.decisions.filter((d) => d.action === 'delete')).toEqual([
      { savepointId: 2, action: 'delete', reason: 'expiring' },
      { savepointId: 1, action: 'delete', reason: 'not-restorable' },
    ]);
    expect(fake.calls).toEqual(['list job', 'inUse job', ...deletion(1, false), ...deletion(2)]);
  });

  it("deletes an upgrade's point once its pin let go, keeps the ones it holds and the points an operation in flight uses", async () => {
    const upgrade = (id: number, ageMs: number, outcome: 'succeeded' | 'failed' | 'in-flight') =>
      point(id, ageMs, { pinned: true, pinnedBy: 'upgrade', upgrade: { fromVersion: 'v1', toVersion: 'v2', outcome } });
    const inUse = [{ savepointId: 2, path: 'file:/sp/savepoint-abcdef-2', by: 'restoreWorkflow flink-job/job' }];
    const fake = fakeCatalog(
      [upgrade(1, 90 * DAY, 'failed'), point(2, 80 * DAY), upgrade(3, 60 * DAY, 'succeeded'), upgrade(4, 50 * DAY, 'in-flight'), point(5, 40 * DAY, { pinned: true }), point(6, DAY)],
      { inUse },
    );
    const result = await run(fake.activities, { jobName: 'job', policy: { keepLast: 1, upgradePins: { keepAfter: 1, minAge: '30d' } } });
    expect(result.decisions).toEqual([
      { savepointId: 6, action: 'keep', reason: 'newest-restorable' },
      { savepointId: 5, action: 'keep', reason: 'pinned' },
      { savepointId: 4, action: 'keep', reason: 'upgrade-in-flight' },
      { savepointId: 3, action: 'keep', reason: 'upgrade-pin', detail: '0 later successful upgrade(s) of 1 needed, 60d old of 30d' },
      { savepointId: 2, action: 'keep', reason: 'in-use', detail: 'restoreWorkflow flink-job/job' },
      { savepointId: 1, action: 'delete', reason: 'upgrade-pin-expired', detail: '1 later successful upgrade(s) of 1 needed, 90d old of 30d' },
    ]);
    expect(result.inUse).toEqual(inUse);
    expect(result.deleted).toEqual([1]);
    expect(fake.calls).toEqual(['list job', 'inUse job', 'mark 1 (upgrade pin released)', ...deletion(1).slice(1)]);
  });

  it('passes the tables through to the listing and refuses a policy without a rule', async () => {
    const fake = fakeCatalog([]);
    let seen: unknown;
    const activities = {
      ...fake.activities,
      listRestorePoints: async (input: { jobName: string; tables?: TableRef[] }) => ((seen = input), []),
    };
    await run(activities, { jobName: 'job', tables: TABLES, policy: { keepLast: 2 } });
    // Each recorded point is judged by its record's tables (the catalog's asRecorded).
    expect(seen).toEqual({ jobName: 'job', tables: TABLES, asRecorded: true });
    const err = await run(fake.activities, { jobName: 'job', policy: {} as never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toMatchObject({ type: 'InvalidInput' });
    expect((err as WorkflowFailedError).cause?.message).toMatch(/needs keepLast, maxAge or both/);
  });
});
