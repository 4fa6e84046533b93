// Work per table, a few tables at a time: each Paimon read is a Flink batch job, and the cluster
// that runs them has few slots and network buffers (a read that cannot get them fails).

/** At most this many of one operation's per-table steps run at once. */
export const TABLES_AT_ONCE = 4;

/** `work` for every item, at most `limit` at once; every outcome, in the items' order. */
export async function settledAtMost<T, R>(items: readonly T[], limit: number, work: (item: T, i: number) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await work(items[i]!, i) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** The value of one outcome of settledAtMost, or its failure thrown. */
export function valueOf<R>(outcome: PromiseSettledResult<R>): R {
  if (outcome.status === 'rejected') throw outcome.reason;
  return outcome.value;
}

/** `work` for every item, at most `limit` at once; the first failure (in the items' order) once all ended. */
export async function allAtMost<T, R>(items: readonly T[], limit: number, work: (item: T, i: number) => Promise<R>): Promise<R[]> {
  return (await settledAtMost(items, limit, work)).map(valueOf);
}
