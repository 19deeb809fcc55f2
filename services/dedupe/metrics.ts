import { Counter, Histogram, type Registry } from 'prom-client';

/** What the dedupe service decided and dropped, for /metrics. */
export class DedupeMetrics {
  /** Open batches by how they ended: finalized (complete), window (a stream window resolved), expired. */
  readonly closed: Counter<'outcome'>;
  /** Leads of open batches dropped by the expiry policy. */
  readonly expiredLeads: Counter;
  readonly resolveSeconds: Histogram<'kind'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.closed = new Counter({
      name: 'leedrush_dedupe_open_batches_closed_total',
      help: 'Open batches closed: finalized (complete file/API batch), window (stream window resolved), expired (idle past DEDUP_OPEN_TTL_MS, state dropped)',
      labelNames: ['outcome'],
      registers,
    });
    this.expiredLeads = new Counter({
      name: 'leedrush_dedupe_expired_leads_total',
      help: 'Leads held by open batches that the expiry policy dropped',
      registers,
    });
    this.resolveSeconds = new Histogram({
      name: 'leedrush_dedupe_resolve_seconds',
      help: 'From taking the lock to the last DedupedLead acknowledged and the history updated, by kind (batch | window)',
      labelNames: ['kind'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
  }
}
