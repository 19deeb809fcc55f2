import type { ProviderName } from './types.ts';

/** Which layer answered the request that caused (or avoided) a provider call. */
export type CacheLevel = 'l1' | 'l2' | 'similarity' | 'predictive' | 'provider' | 'none';

/** One HTTP call to a provider, as recorded for cost analytics. */
export interface ProviderCall {
  provider: ProviderName;
  endpoint: string;
  /** Epoch milliseconds when the call started. */
  started_at: number;
  latency_ms: number;
  /** HTTP status, or 0 when no response arrived (timeout, connection refused). */
  status: number;
  /** USD charged for this call (0 for calls the provider does not bill). */
  cost_usd: number;
  cache_level: CacheLevel;
  /** Why the call failed, empty when it succeeded. */
  error: string;
}

/** Where provider calls are recorded. The Kafka service drains it into ClickHouse. */
export interface CallLog {
  record(call: ProviderCall): void;
}

/**
 * The in-process buffer the enrich service flushes to ClickHouse. Bounded: when the writer falls behind,
 * the oldest calls are overwritten and counted rather than growing memory without limit. A ring, so
 * recording stays O(1) when full.
 */
export class BufferedCallLog implements CallLog {
  #ring: Array<ProviderCall | undefined>;
  #head = 0;
  #size = 0;
  #dropped = 0;

  constructor(private readonly capacity = 100_000) {
    this.#ring = new Array(capacity);
  }

  record(call: ProviderCall): void {
    const tail = (this.#head + this.#size) % this.capacity;
    this.#ring[tail] = call;
    if (this.#size < this.capacity) {
      this.#size++;
    } else {
      this.#head = (this.#head + 1) % this.capacity;
      this.#dropped++;
    }
  }

  /** Hands over everything buffered so far, oldest first, and empties the buffer. */
  drain(): ProviderCall[] {
    const out: ProviderCall[] = [];
    for (let i = 0; i < this.#size; i++) {
      const call = this.#ring[(this.#head + i) % this.capacity];
      if (call) out.push(call);
    }
    this.#ring = new Array(this.capacity);
    this.#head = 0;
    this.#size = 0;
    return out;
  }

  get size(): number {
    return this.#size;
  }

  /** Calls lost because the buffer was full. */
  get dropped(): number {
    return this.#dropped;
  }
}
