import { Counter, type Registry } from 'prom-client';
import type { Enrichment } from '../../schemas/generated.ts';
import type { CallLogWriter } from './call-log-writer.ts';

/** The cache_level values of an Enrichment (schemas/types), in lookup order. */
const CACHE_LEVELS = ['l1', 'l2', 'similarity', 'predictive', 'provider', 'none'] as const;

/** Leads by where their enrichment came from, and the enrichment_calls writer's tallies, for /metrics. */
export class EnrichMetrics {
  private readonly leads: Counter<'cache_level'>;

  constructor(registry: Registry, writer: CallLogWriter) {
    const registers = [registry];
    this.leads = new Counter({
      name: 'leedrush_enrich_leads_total',
      help: 'Enriched leads by cache_level (l1, l2, similarity, predictive, provider, none)',
      labelNames: ['cache_level'],
      registers,
    });
    // Every level at 0 from the start: the cache hit rate has a denominator before the first lead.
    for (const cache_level of CACHE_LEVELS) this.leads.inc({ cache_level }, 0);
    // Read from the writer's own tallies at scrape time: nothing extra on the per-call path.
    const reported = { written: 0, dropped: 0 };
    new Counter({
      name: 'leedrush_enrich_provider_calls_total',
      help: 'Provider calls by what became of their enrichment_calls row: written, or dropped (buffer full)',
      labelNames: ['row'],
      registers,
      collect() {
        for (const row of ['written', 'dropped'] as const) {
          this.inc({ row }, writer[row] - reported[row]);
          reported[row] = writer[row];
        }
      },
    });
  }

  record(enrichment: Enrichment): void {
    this.leads.inc({ cache_level: enrichment.cache_level });
  }
}
