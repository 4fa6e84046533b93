// A command that waits says what for at once, and then how long it has waited and what the
// workflow does, so a wait of half a minute never looks like a hang.
import { describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitingFor } from '../../src/cli/waiting';

describe('waitingFor', () => {
  it('prints what it waits for before the first tick, then progress lines until the work ends', async () => {
    const lines: { at: number; line: string }[] = [];
    const start = Date.now();
    const ctx = { json: false, out: (line = '') => lines.push({ at: Date.now() - start, line }) };
    let step = 're-planning';
    const work = sleep(450).then(() => 'proceeding');
    setTimeout(() => (step = 'stopping-writer'), 220);
    const result = await waitingFor(ctx, 'approving flink-job/x as alice: the restore checks its plan again', work, {
      everyMs: 100,
      progress: async () => `the restore is ${step}`,
    });
    expect(result).toBe('proceeding');
    expect(lines[0]).toEqual({ at: expect.any(Number), line: 'approving flink-job/x as alice: the restore checks its plan again' });
    expect(lines[0]!.at).toBeLessThan(50);
    const progress = lines.slice(1).map((l) => l.line);
    expect(progress[0]).toMatch(/^ {2}the restore is re-planning \(0 s\)$/);
    expect(progress).toContainEqual(expect.stringMatching(/^ {2}the restore is stopping-writer \(0 s\)$/));
    expect(progress).toContainEqual(expect.stringMatching(/^ {2}still waiting \(0 s\)$/));
  });

  it('prints nothing with --json and passes a failure on', async () => {
    const lines: string[] = [];
    const failing = waitingFor({ json: true, out: (l = '') => lines.push(l) }, 'waiting', Promise.reject(new Error('refused')), { everyMs: 10 });
    await expect(failing).rejects.toThrow('refused');
    expect(lines).toEqual([]);
  });
});
