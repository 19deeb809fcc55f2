/**
 * Group commit: callers (one per consumed Kafka batch, several partitions at once) add their items and
 * wait; the items of every caller waiting at that moment are written by one flush, and each caller is
 * answered when the flush that holds its items has finished. So a large insert serves many small
 * batches, and no caller returns (and commits its offsets) before its items are written.
 *
 * A flush starts when `maxRows` items wait, when the oldest waited `maxWaitMs`, or when nothing was
 * added for `lingerMs`. The linger matters because the Kafka client fetches the next round only once
 * every batch of the current one has returned: when a round brings fewer than `maxRows` items, waiting
 * for more would only stall. Flushes run one at a time, in order; items added meanwhile form the next.
 */
export interface GroupCommitOptions {
  maxRows: number;
  maxWaitMs: number;
  lingerMs: number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class GroupCommit<T> {
  private items: T[] = [];
  private waiters: Waiter[] = [];
  private oldestAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;

  constructor(
    private readonly flush: (items: T[]) => Promise<void>,
    private readonly options: GroupCommitOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves once a flush holding `items` succeeded; rejects with that flush's error. */
  add(items: readonly T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    if (this.items.length === 0) this.oldestAt = this.now();
    for (const item of items) this.items.push(item);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.schedule();
    return done;
  }

  /** Items waiting for a flush. */
  get pending(): number {
    return this.items.length;
  }

  private schedule(): void {
    if (this.flushing) return; // the running flush looks again when it ends
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.items.length === 0) return;
    const { maxRows, maxWaitMs, lingerMs } = this.options;
    const untilMaxWait = this.oldestAt + maxWaitMs - this.now();
    if (this.items.length >= maxRows || untilMaxWait <= 0) {
      void this.run();
      return;
    }
    this.timer = setTimeout(() => void this.run(), Math.min(lingerMs, untilMaxWait));
  }

  private async run(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const items = this.items;
    const waiters = this.waiters;
    this.items = [];
    this.waiters = [];
    this.flushing = true;
    try {
      await this.flush(items);
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err);
    } finally {
      this.flushing = false;
      // What arrived during the flush waited long enough: it goes now if it is due, else on a timer.
      this.schedule();
    }
  }
}
