import { AsyncLocalStorage } from 'node:async_hooks';
import type { ClickHouseClient } from '@clickhouse/client';
import { formatDateTime } from '../lib/clickhouse.ts';
import type { Logger } from '../runtime/logger.ts';
import { BufferedCallLog, type ProviderCall } from './call-log.ts';

/** The lead a provider call was made for. */
export interface CallOwner {
  account_id: string;
  batch_id: string;
  lead_id: string;
}

export type OwnedCall = ProviderCall & CallOwner;

/** Calls made outside any lead (the predictive queue pre-warming a company). */
const NO_OWNER: CallOwner = { account_id: '', batch_id: '', lead_id: '' };

/**
 * The call buffer of the Kafka service: a call is attributed to the lead whose enrichment made it, through
 * async context, since the HTTP layer that records calls knows nothing of leads.
 */
export class AttributedCallLog extends BufferedCallLog {
  readonly #owner = new AsyncLocalStorage<CallOwner>();

  /** Runs `fn`; every call recorded while it (and what it awaits) runs belongs to `owner`. */
  within<T>(owner: CallOwner, fn: () => T): T {
    return this.#owner.run(owner, fn);
  }

  override record(call: ProviderCall): void {
    const owner = this.#owner.getStore() ?? NO_OWNER;
    super.record({
      ...call,
      account_id: owner.account_id,
      batch_id: owner.batch_id,
      lead_id: owner.lead_id,
    } as OwnedCall);
  }

  // record() stores only OwnedCalls, so that is what comes back out.
  override drain(): OwnedCall[] {
    return super.drain() as OwnedCall[];
  }
}

/** One `enrichment_calls` row. Every column is sent: ClickHouse 18.16 ignores column DEFAULTs on insert. */
export interface CallRow {
  ts: string;
  provider: string;
  endpoint: string;
  account_id: string;
  batch_id: string;
  lead_id: string;
  status: string;
  http_status: number;
  latency_ms: number;
  cost: number;
  cache_level: string;
}

/** The table's status vocabulary: ok | not_found | error | timeout | rate_limited. */
export function callStatus(call: Pick<ProviderCall, 'status' | 'error'>): string {
  if (call.error === 'timeout') return 'timeout';
  if (call.error === 'throttled' || call.status === 429) return 'rate_limited';
  if (call.error) return 'error';
  return call.status === 404 ? 'not_found' : 'ok';
}

export function toCallRow(call: OwnedCall): CallRow {
  return {
    ts: formatDateTime(new Date(call.started_at)),
    provider: call.provider,
    endpoint: call.endpoint,
    account_id: call.account_id,
    batch_id: call.batch_id,
    lead_id: call.lead_id,
    status: callStatus(call),
    http_status: call.status,
    latency_ms: Math.max(0, Math.round(call.latency_ms)),
    cost: call.cost_usd,
    cache_level: call.cache_level,
  };
}

export interface CallLogWriterOptions {
  /** Longest a recorded call waits before it is written. */
  intervalMs: number;
  /** A buffer this full is written at once, without waiting for the interval. */
  maxRows: number;
  /** Rows kept for retry while ClickHouse is unreachable; the oldest beyond it are dropped and counted. */
  maxPending: number;
}

const TICK_MS = 100;

/**
 * Moves the call buffer into ClickHouse `enrichment_calls` every `intervalMs` or `maxRows` calls. A failed
 * insert keeps its rows for the next tick, so a ClickHouse restart loses nothing within `maxPending`.
 */
export class CallLogWriter {
  #pending: CallRow[] = [];
  #lastFlush = Date.now();
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> | null = null;
  #written = 0;
  #dropped = 0;

  constructor(
    private readonly log: AttributedCallLog,
    private readonly ch: ClickHouseClient,
    private readonly opts: CallLogWriterOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.#timer ??= setInterval(() => void this.#tick(), TICK_MS);
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#flushing;
    await this.flush();
  }

  get written(): number {
    return this.#written;
  }

  /** Rows lost: the buffer overflowed, or ClickHouse stayed unreachable past `maxPending`. */
  get dropped(): number {
    return this.#dropped + this.log.dropped;
  }

  async #tick(): Promise<void> {
    if (this.#flushing) return;
    const due = Date.now() - this.#lastFlush >= this.opts.intervalMs;
    if (!due && this.log.size + this.#pending.length < this.opts.maxRows) return;
    await this.flush();
  }

  flush(): Promise<void> {
    this.#flushing ??= this.#write().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  async #write(): Promise<void> {
    this.#lastFlush = Date.now();
    const rows = [...this.#pending, ...this.log.drain().map(toCallRow)];
    this.#pending = [];
    if (rows.length === 0) return;
    try {
      await this.ch.insert({ table: 'enrichment_calls', values: rows, format: 'JSONEachRow' });
      this.#written += rows.length;
    } catch (err) {
      const keep = rows.slice(-this.opts.maxPending);
      this.#dropped += rows.length - keep.length;
      this.#pending = keep;
      this.logger.warn({ err: String(err), rows: keep.length }, 'enrichment_calls insert failed; will retry');
    }
  }
}
