/**
 * Lets the reader look at the start of a stream (to sniff encoding, format and delimiter) and then read
 * the stream from its first item, pulling from the source only on demand.
 */
export class Peekable<T> implements AsyncIterable<T> {
  private readonly head: T[] = [];
  private done = false;

  constructor(private readonly source: AsyncIterator<T>) {}

  /** Pulls items until `enough(items)` or the end; returns the items and whether the end was reached. */
  async peek(enough: (items: readonly T[]) => boolean): Promise<{ items: readonly T[]; complete: boolean }> {
    while (!this.done && !enough(this.head)) {
      const next = await this.source.next();
      if (next.done) this.done = true;
      else this.head.push(next.value);
    }
    return { items: this.head, complete: this.done };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    try {
      while (this.head.length > 0) yield this.head.shift() as T;
      while (!this.done) {
        const next = await this.source.next();
        if (next.done) this.done = true;
        else yield next.value;
      }
    } finally {
      await this.close();
    }
  }

  /** Releases the source (destroys a Readable) when reading stops early. */
  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.source.return?.();
  }
}
