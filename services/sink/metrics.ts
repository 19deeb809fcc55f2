import { Counter, Histogram, type Registry } from 'prom-client';

/** The sink's own figures, next to the runtime's (consumed, lag, batch time) on the same /metrics. */
export class SinkMetrics {
  readonly rowsWritten: Counter<'table'>;
  readonly flushRows: Histogram;
  readonly flushSeconds: Histogram;
  readonly stepSeconds: Histogram<'step'>;
  readonly retries: Counter<'step'>;
  readonly events: Counter<'event'>;
  readonly untracked: Counter<'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.rowsWritten = new Counter({
      name: 'leedrush_sink_rows_written_total',
      help: 'Rows inserted into ClickHouse, by table (redeliveries included)',
      labelNames: ['table'],
      registers,
    });
    // At 0 from the start, so the first flush is a rise rate() and the dashboards see.
    for (const table of ['leads', 'rejections', 'batches']) this.rowsWritten.inc({ table }, 0);
    this.flushRows = new Histogram({
      name: 'leedrush_sink_flush_rows',
      help: 'Rows per flush (one insert per table)',
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000, 25000],
      registers,
    });
    this.flushSeconds = new Histogram({
      name: 'leedrush_sink_flush_seconds',
      help: 'Time of one flush: inserts, events, batch counting and batch rows',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.stepSeconds = new Histogram({
      name: 'leedrush_sink_step_seconds',
      help: 'Time of one step of a flush (retries included): where a flush spends its time',
      labelNames: ['step'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.retries = new Counter({
      name: 'leedrush_sink_retries_total',
      help: 'Retried flush steps after a failure of ClickHouse, Redis or Kafka',
      labelNames: ['step'],
      registers,
    });
    this.events = new Counter({
      name: 'leedrush_sink_events_published_total',
      help: 'Webhook events published to webhooks.outbox (republished ones included)',
      labelNames: ['event'],
      registers,
    });
    this.untracked = new Counter({
      name: 'leedrush_sink_untracked_rows_total',
      help: "Rows written but not counted in a batch: foreign (the batch is another account's), unknown",
      labelNames: ['reason'],
      registers,
    });
  }
}
