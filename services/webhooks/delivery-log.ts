/**
 * Every attempt as a row of ClickHouse `webhook_deliveries`, written in batches (an insert per attempt
 * would be one ClickHouse part per attempt). Every column is sent: 18.16 ignores DEFAULTs. A failed
 * insert keeps its rows for the next flush; past `maxBuffered` rows the oldest are dropped with an error
 * log, so an unreachable ClickHouse cannot exhaust memory.
 */
import { randomUUID } from 'node:crypto';
import { type ClickHouseClient, formatDateTime } from '../lib/clickhouse.ts';
import type { Logger } from '../runtime/index.ts';

export interface DeliveryRow {
  ts: string;
  delivery_id: string;
  endpoint_id: string;
  account_id: string;
  event_id: string;
  event: string;
  attempt: number;
  status_code: number;
  success: number;
  error: string;
  latency_ms: number;
}

export interface AttemptRecord {
  at: Date;
  endpointId: string;
  accountId: string;
  eventId: string;
  event: string;
  attempt: number;
  status: number;
  error: string;
  latencyMs: number;
}

export function deliveryRow(a: AttemptRecord): DeliveryRow {
  return {
    ts: formatDateTime(a.at),
    delivery_id: randomUUID(),
    endpoint_id: a.endpointId,
    account_id: a.accountId,
    event_id: a.eventId,
    event: a.event,
    attempt: a.attempt,
    status_code: a.status,
    success: a.status >= 200 && a.status < 300 ? 1 : 0,
    error: a.error.slice(0, 1_000),
    latency_ms: Math.max(0, a.latencyMs),
  };
}

export class DeliveryLog {
  private rows: DeliveryRow[] = [];
  private timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly ch: ClickHouseClient,
    private readonly log: Logger,
    private readonly opts: { flushMs: number; maxBuffered: number },
  ) {
    this.timer = setInterval(() => void this.flush(), opts.flushMs);
  }

  record(a: AttemptRecord): void {
    this.rows.push(deliveryRow(a));
    const excess = this.rows.length - this.opts.maxBuffered;
    if (excess > 0) {
      this.rows.splice(0, excess);
      this.log.error({ dropped: excess }, 'webhook delivery log buffer full: oldest attempts dropped');
    }
  }

  /** Writes what is buffered; flushes run one at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (!this.rows.length) return;
      const batch = this.rows;
      this.rows = [];
      try {
        await this.ch.insert({ table: 'webhook_deliveries', values: batch, format: 'JSONEachRow' });
      } catch (err) {
        this.rows = batch.concat(this.rows);
        this.log.warn(
          { err: (err as Error).message, rows: batch.length },
          'webhook delivery log insert failed',
        );
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
