// The per-table fan-out of the restore: never more than the limit at once, outcomes in order.
import { describe, expect, it } from 'vitest';
import { allAtMost, settledAtMost } from '../../workflows/fan-out';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('settledAtMost', () => {
  it('runs at most `limit` at once, every item once, outcomes in the items order', async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const outcomes = await settledAtMost([5, 1, 4, 2, 3, 6, 7], 3, async (n, i) => {
      started.push(i);
      most = Math.max(most, ++running);
      for (let k = 0; k < n; k++) await tick();
      running--;
      if (n === 4) throw new Error('four');
      return n * 10;
    });
    expect(most).toBe(3);
    expect([...started].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual([50, 10, 'four', 20, 30, 60, 70]);
  });

  it('allAtMost throws the first failure in the items order, after every item ended', async () => {
    const ended: number[] = [];
    const all = allAtMost([1, 2, 3], 2, async (n) => {
      await tick();
      ended.push(n);
      if (n > 1) throw new Error(`failed ${n}`);
      return n;
    });
    await expect(all).rejects.toThrow('failed 2');
    expect(ended.sort()).toEqual([1, 2, 3]);
  });

  it('an empty list is no work', async () => {
    expect(await settledAtMost([], 4, async () => 1)).toEqual([]);
  });
});
