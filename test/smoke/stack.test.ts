// Smoke test of the real stack started by scripts/stack.sh: the demo pipeline runs, checkpoints,
// writes both Paimon tables, and stop-with-savepoint makes Paimon tag both tables.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelAndWait } from '../support/demo-pipeline';
import { flinkGet, flinkPost, idRange, liveJobNamed, paimonQuery, requireStack, stackScript, until } from '../support/stack';

const TABLES = ['demo.seq_a', 'demo.seq_b'];

async function completedCheckpoints(jobId: string): Promise<number> {
  const stats = await flinkGet<{ counts: { completed: number } }>(`/jobs/${jobId}/checkpoints`);
  return stats.counts.completed;
}

/**
 * The newest commit to a table: its snapshot id and how many records it wrote. A demo started
 * afresh on tables that already hold its ids rewrites them (primary key), so the largest id need
 * not grow; new snapshots with records show the job writing all the same.
 */
async function latestCommit(table: string): Promise<{ snapshotId: number; records: number; committedBy: string }> {
  const [db, name] = table.split('.');
  // The job's own writes are APPEND commits; Paimon's compactions in between write no new records.
  const [row] = await paimonQuery(
    `SELECT snapshot_id, delta_record_count, commit_user FROM \`${db}\`.\`${name}$snapshots\` ` +
      `WHERE commit_kind = 'APPEND' ORDER BY snapshot_id DESC LIMIT 1`,
  );
  return { snapshotId: Number(row!.snapshot_id), records: Number(row!.delta_record_count), committedBy: String(row!.commit_user) };
}

async function writesArrive(table: string, timeoutMs: number) {
  const before = await latestCommit(table);
  return until(`new commits with records in ${table}`, timeoutMs, async () => {
    const now = await latestCommit(table);
    return now.snapshotId > before.snapshotId && now.records > 0 ? now : undefined;
  });
}

async function tagNames(table: string): Promise<string[]> {
  const [db, name] = table.split('.');
  const rows = await paimonQuery(`SELECT tag_name FROM \`${db}\`.\`${name}$tags\``);
  return rows.map((r) => String(r.tag_name));
}

describe('the local stack', () => {
  let jobId: string;
  /** A demo someone runs (npm start, stack.sh demo) stays; one this test started goes with it. */
  let demoWasRunning = false;

  beforeAll(async () => {
    await requireStack();
    demoWasRunning = (await liveJobNamed('paimon-demo')) !== undefined;
    stackScript('demo');
    jobId = (await until('the demo job to run', 60_000, async () => {
      const job = await liveJobNamed('paimon-demo');
      return job?.state === 'RUNNING' ? job : undefined;
    })).jid;
  });

  // Left running, the demo job writes tables named seq_a and seq_b, and upgrades and restores of
  // other tests' tables of those names would be refused (another job writes a table of the name).
  afterAll(async () => {
    const demo = demoWasRunning ? undefined : await liveJobNamed('paimon-demo');
    if (demo) await cancelAndWait(demo.jid);
  });

  it('runs the demo job, completes checkpoints and writes ids into both Paimon tables', async () => {
    const before = await completedCheckpoints(jobId);
    await until('a new completed checkpoint', 30_000, async () =>
      (await completedCheckpoints(jobId)) > before ? true : undefined,
    );
    expect((await flinkGet(`/jobs/${jobId}`)).state).toBe('RUNNING');

    for (const table of TABLES) {
      const first = await idRange(table);
      expect(first.rows).toBeGreaterThan(0);
      // Contiguous ids from 1: the deterministic sequence the exactly-once checks rely on.
      expect(first).toEqual({ rows: first.max, min: 1, max: first.max });
      await writesArrive(table, 30_000);
      const later = await idRange(table);
      expect(later).toEqual({ rows: later.max, min: 1, max: later.max });
      // $tags is readable (the demo may or may not have tags yet).
      expect(Array.isArray(await tagNames(table))).toBe(true);
    }
  });

  it('stop-with-savepoint makes Paimon create savepoint-<checkpoint id> on both tables, and the demo restarts from it', async () => {
    const beforeStop = new Map<string, Awaited<ReturnType<typeof latestCommit>>>();
    for (const table of TABLES) beforeStop.set(table, await latestCommit(table));
    const triggerId = Buffer.from(`smoke-${Date.now()}`).toString('hex').padEnd(32, '0').slice(0, 32);
    await flinkPost(`/jobs/${jobId}/stop`, { drain: false, formatType: 'CANONICAL', triggerId });
    const location = await until('the savepoint to complete', 60_000, async () => {
      const s = await flinkGet(`/jobs/${jobId}/savepoints/${triggerId}`);
      if (s.status.id !== 'COMPLETED') return undefined;
      if (s.operation['failure-cause']) throw new Error(`savepoint failed: ${JSON.stringify(s.operation)}`);
      return String(s.operation.location);
    });
    const stats = await flinkGet(`/jobs/${jobId}/checkpoints`);
    const savepoint = stats.latest.savepoint;
    expect(savepoint.external_path).toBe(location);
    expect(savepoint.checkpoint_type).toBe('SYNC_SAVEPOINT');
    const tag = `savepoint-${savepoint.id}`;

    for (const table of TABLES) {
      await until(`${tag} on ${table}`, 30_000, async () => ((await tagNames(table)).includes(tag) ? true : undefined));
      // The tag is this savepoint's only if it sits on the stop's final commit: an old tag of the
      // same name (a fresh job counts checkpoint ids from 1 again) would sit on an older snapshot.
      const [db, name] = table.split('.');
      const [tagged] = await paimonQuery(`SELECT snapshot_id FROM \`${db}\`.\`${name}$tags\` WHERE tag_name = '${tag}'`);
      expect(Number(tagged!.snapshot_id), `${tag} on ${table} is an older tag of the same name`).toBeGreaterThanOrEqual(
        beforeStop.get(table)!.snapshotId,
      );
    }

    // Restart from the savepoint: the sequence continues where the savepoint left it.
    stackScript('demo', '--from-savepoint', location);
    const restarted = await until('the restarted demo job', 60_000, async () => {
      const job = await liveJobNamed('paimon-demo');
      return job?.state === 'RUNNING' && job.jid !== jobId ? job : undefined;
    });
    const restored = await flinkGet(`/jobs/${restarted.jid}/checkpoints`);
    expect(restored.latest.restored?.external_path).toBe(location);
    for (const table of TABLES) {
      // Paimon's commit user is kept in the savepoint's state: the restored job commits as the
      // stopped one did, which a job started afresh would not.
      const commit = await writesArrive(table, 60_000);
      expect(commit.committedBy).toBe(beforeStop.get(table)!.committedBy);
      const after = await idRange(table);
      expect(after).toEqual({ rows: after.max, min: 1, max: after.max });
    }
  });
});
