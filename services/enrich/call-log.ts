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
 * the oldest calls are dropped and counted rather than growing memory without limit.
 */
export class BufferedCallLog implements CallLog {
  #calls: ProviderCall[] = [];
  #dropped = 0;

  constructor(private readonly capacity = 100_000) {}

  record(call: ProviderCall): void {
    if (this.#calls.length >= this.capacity) {
      this.#calls.shift();
      this.#dropped++;
    }
    this.#calls.push(call);
  }

  /** Hands over everything buffered so far and empties the buffer. */
  drain(): ProviderCall[] {
    const out = this.#calls;
    this.#calls = [];
    return out;
  }

  get size(): number {
    return this.#calls.length;
  }

  /** Calls lost because the buffer was full. */
  get dropped(): number {
    return this.#dropped;
  }
}
