/**
 * The predictive pre-enrichment counters, shared by every instance through one Redis hash
 * (`<ns>:enrich:predictive:stats`): the watcher and the background queue write them, the gateway's
 * GET /api/v1/enrichment/predictive reads them.
 *
 * Derived figures (all 0 until their denominator is non-zero):
 * - success_rate = pre_enriched / total_generated (predictions the queue turned into a cached company);
 * - avg_prediction_accuracy = leads served by a pre-enriched company / pre_enriched (how many of the
 *   companies we paid for in advance were actually asked for; above 1 when several leads used one);
 * - zero_latency_requests = leads whose company came from a pre-enriched entry (no provider wait);
 * - throughput_increase = t_without / t_with − 1, where t_with is the summed enrich time of all leads
 *   and t_without adds, for each zero-latency lead, the mean time of a lead that did call a provider.
 * Queue depth: `pending` and `processing` are gauges moved by enqueue → start → finish.
 */
import type { Redis } from 'ioredis';
import { coalescing } from '../../lib/coalesce.ts';
import type { PatternKind } from './patterns.ts';

const FIELDS = [
  'company_batch',
  'sequential',
  'domain_pattern',
  'predictions',
  'pre_enriched',
  'used',
  'leads',
  'lead_latency_us',
  'provider_leads',
  'provider_latency_us',
  'queue_pending',
  'queue_processing',
  'queue_completed',
] as const;
type Counter = (typeof FIELDS)[number];

/** The body of GET /api/v1/enrichment/predictive. */
export interface PredictiveStats {
  patterns_detected: { company_batches: number; sequential_patterns: number; domain_patterns: number };
  predictions: { total_generated: number; pre_enriched: number; success_rate: number };
  performance: {
    avg_prediction_accuracy: number;
    zero_latency_requests: number;
    throughput_increase: number;
  };
  background_queue: { pending: number; processing: number; completed: number };
}

type Changes = Partial<Record<Counter, number>>;

export class PredictiveCounters {
  readonly #hash: string;
  /**
   * Every lead moves these counters: the changes made while a write is in flight are summed into the
   * next one (one HINCRBY per counter for all of them), and each caller still waits for its own.
   */
  readonly #add: (changes: Changes) => Promise<void>;

  constructor(
    private readonly redis: Redis,
    key: (...parts: string[]) => string,
  ) {
    this.#hash = key('enrich', 'predictive', 'stats');
    this.#add = coalescing((all: Changes[]) => this.#write(all));
  }

  async #write(all: Changes[]): Promise<void> {
    const sums = new Map<string, number>();
    for (const changes of all) {
      for (const [field, by] of Object.entries(changes)) if (by) sums.set(field, (sums.get(field) ?? 0) + by);
    }
    const tx = this.redis.pipeline();
    for (const [field, by] of sums) if (by) tx.hincrby(this.#hash, field, by);
    await tx.exec();
  }

  /** A pattern fired and its company was queued for pre-enrichment. */
  predicted(pattern: PatternKind): Promise<void> {
    return this.#add({ [pattern]: 1, predictions: 1, queue_pending: 1 });
  }

  /** The queue took a prediction up. */
  started(): Promise<void> {
    return this.#add({ queue_pending: -1, queue_processing: 1 });
  }

  /** The queue finished a prediction; `enriched` when the company is now cached. */
  finished(enriched: boolean): Promise<void> {
    return this.#add({ queue_processing: -1, queue_completed: 1, pre_enriched: enriched ? 1 : 0 });
  }

  /** One lead went through enrichment; `preEnriched` when a pre-enriched company served it. */
  lead(latencyMs: number, how: { preEnriched: boolean; calledProvider: boolean }): Promise<void> {
    const us = Math.round(latencyMs * 1000);
    return this.#add({
      leads: 1,
      lead_latency_us: us,
      used: how.preEnriched ? 1 : 0,
      provider_leads: how.calledProvider ? 1 : 0,
      provider_latency_us: how.calledProvider ? us : 0,
    });
  }

  async stats(): Promise<PredictiveStats> {
    const raw = await this.redis.hgetall(this.#hash);
    const n = (c: Counter) => Number(raw[c] ?? 0);
    const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
    const providerMeanUs = ratio(n('provider_latency_us'), n('provider_leads'));
    const withUs = n('lead_latency_us');
    const withoutUs = withUs + n('used') * providerMeanUs;
    return {
      patterns_detected: {
        company_batches: n('company_batch'),
        sequential_patterns: n('sequential'),
        domain_patterns: n('domain_pattern'),
      },
      predictions: {
        total_generated: n('predictions'),
        pre_enriched: n('pre_enriched'),
        success_rate: ratio(n('pre_enriched'), n('predictions')),
      },
      performance: {
        avg_prediction_accuracy: ratio(n('used'), n('pre_enriched')),
        zero_latency_requests: n('used'),
        throughput_increase: withUs > 0 ? withoutUs / withUs - 1 : 0,
      },
      background_queue: {
        pending: Math.max(0, n('queue_pending')),
        processing: Math.max(0, n('queue_processing')),
        completed: n('queue_completed'),
      },
    };
  }
}
