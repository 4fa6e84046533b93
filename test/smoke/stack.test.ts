// Smoke test of the real stack started by scripts/stack.sh: the demo pipeline runs, checkpoints,
// writes both Paimon tables, and stop-with-savepoint makes Paimon tag both tables.
import { beforeAll, describe, expect, it } from 'vitest';
import { flinkGet, flinkPost, idRange, liveJobNamed, paimonQuery, requireStack, stackScript, until } from '../support/stack';

const TABLES = ['demo.seq_a', 'demo.seq_b'];

async function completedCheckpoints(jobId: string): Promise<number> {
  const stats = await flinkGet<{ counts: { completed: number } }>(`/jobs/${jobId}/checkpoints`);
  return stats.counts.completed;
}

async function tagNames(table: string): Promise<string[]> {
  const [db, name] = table.split('.');
  const rows = await paimonQuery(`SELECT tag_name FROM \`${db}\`.\`${name}$tags\``);
  return rows.map((r) => String(r.tag_name));
}

describe('the local stack', () => {
  let jobId: string;

  beforeAll(async () => {
    await requireStack();
    stackScript('demo');
    jobId = (await until('the demo job to run', 60_000, async () => {
      const job = await liveJobNamed('paimon-demo');
      return job?.state === 'RUNNING' ? job : undefined;
    })).jid;
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
      const later = await until(`more rows in ${table}`, 30_000, async () => {
        const now = await idRange(table);
        return now.max > first.max ? now : undefined;
      });
      expect(later.rows).toBe(later.max);
      // $tags is readable (the demo may or may not have tags yet).
      expect(Array.isArray(await tagNames(table))).toBe(true);
    }
  });

  it('stop-with-savepoint makes Paimon create savepoint-<checkpoint id> on both tables, and the demo restarts from it', async () => {
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
    }

    // Restart from the savepoint: the sequence continues where the savepoint left it.
    const atTag = await idRange('demo.seq_a');
    stackScript('demo', '--from-savepoint', location);
    const restarted = await until('the restarted demo job', 60_000, async () => {
      const job = await liveJobNamed('paimon-demo');
      return job?.state === 'RUNNING' && job.jid !== jobId ? job : undefined;
    });
    const restored = await flinkGet(`/jobs/${restarted.jid}/checkpoints`);
    expect(restored.latest.restored?.external_path).toBe(location);
    for (const table of TABLES) {
      const after = await until(`new rows in ${table}`, 60_000, async () => {
        const now = await idRange(table);
        return now.max > atTag.max ? now : undefined;
      });
      expect(after).toEqual({ rows: after.max, min: 1, max: after.max });
    }
  });
});
