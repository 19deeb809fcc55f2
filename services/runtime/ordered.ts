export const isThenable = <T>(v: T | Promise<T>): v is Promise<T> =>
  typeof (v as { then?: unknown } | null)?.then === 'function';

/**
 * Maps `items` with at most `limit` asynchronous calls in flight and returns the results in input
 * order, so per-partition output order survives concurrency. Synchronous results cost no promise: the
 * result is a plain array unless some call returned a promise.
 */
export function mapOrdered<I, R>(
  items: readonly I[],
  limit: number,
  fn: (item: I, index: number) => R | Promise<R>,
): R[] | Promise<R[]> {
  const results = new Array<R>(items.length);
  for (let i = 0; i < items.length; i++) {
    const r = fn(items[i] as I, i);
    if (isThenable(r)) return continueAsync(items, limit, fn, results, i, r);
    results[i] = r;
  }
  return results;
}

async function continueAsync<I, R>(
  items: readonly I[],
  limit: number,
  fn: (item: I, index: number) => R | Promise<R>,
  results: R[],
  start: number,
  first: Promise<R>,
): Promise<R[]> {
  const inFlight = new Set<Promise<void>>();
  const track = (i: number, p: Promise<R>) => {
    const done: Promise<void> = p.then((v) => {
      results[i] = v;
      inFlight.delete(done);
    });
    inFlight.add(done);
  };
  track(start, first);
  for (let i = start + 1; i < items.length; i++) {
    if (inFlight.size >= Math.max(1, limit)) await Promise.race(inFlight);
    const r = fn(items[i] as I, i);
    if (isThenable(r)) track(i, r);
    else results[i] = r;
  }
  await Promise.all(inFlight);
  return results;
}
