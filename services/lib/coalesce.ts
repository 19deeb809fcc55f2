interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Turns calls that would queue behind each other into one call: while `run` is busy, new items wait,
 * and the next `run` takes all of them at once. The partitions processed concurrently share one produce
 * request and one offset commit per round trip instead of one each (the idempotent producer allows a
 * single in-flight request per broker anyway); the leads enriched concurrently share one Redis write for
 * their counters. Items keep their call order; every caller learns the outcome of the call that carried
 * its item.
 */
export function coalescing<T>(run: (items: T[]) => Promise<void>): (item: T) => Promise<void> {
  let queue: Waiting<T>[] = [];
  let busy = false;
  const pump = async () => {
    busy = true;
    while (queue.length > 0) {
      const taken = queue;
      queue = [];
      try {
        await run(taken.map((w) => w.item));
        for (const w of taken) w.resolve();
      } catch (err) {
        for (const w of taken) w.reject(err);
      }
    }
    busy = false;
  };
  return (item) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!busy) void pump();
    });
}
