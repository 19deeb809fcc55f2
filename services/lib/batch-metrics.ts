import type { Redis } from 'ioredis';

/**
 * Per-batch enrichment figures (`phase3_metrics` of the batch object). The enrich phase adds one
 * observation per lead it enriches; the gateway derives rates from the sums, so every figure is
 * computed from what actually happened to that batch's leads.
 */
export interface EnrichObservation {
  cacheHit: boolean;
  predictiveMatch: boolean;
  multiSourceValidated: boolean;
  confidence: number;
}

export interface Phase3Metrics {
  cache_hit_rate: number;
  predictive_matches: number;
  multi_source_validated: number;
  avg_confidence: number;
}

// The seen-set and the sums change together or not at all.
const OBSERVE = `
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[2], 'leads', 1)
redis.call('HINCRBY', KEYS[2], 'cache_hits', ARGV[2])
redis.call('HINCRBY', KEYS[2], 'predictive_matches', ARGV[3])
redis.call('HINCRBY', KEYS[2], 'multi_source_validated', ARGV[4])
redis.call('HINCRBYFLOAT', KEYS[2], 'confidence_sum', ARGV[5])
return 1
`;

export class BatchMetrics {
  constructor(
    private readonly redis: Redis,
    private readonly key: (...parts: string[]) => string,
  ) {}

  /** `leadId` makes the observation idempotent: a redelivered lead is not counted twice. */
  async observe(batchId: string, leadId: string, o: EnrichObservation): Promise<void> {
    await this.redis.eval(
      OBSERVE,
      2,
      this.key('batch', batchId, 'phase3-seen'),
      this.key('batch', batchId, 'phase3'),
      leadId,
      o.cacheHit ? 1 : 0,
      o.predictiveMatch ? 1 : 0,
      o.multiSourceValidated ? 1 : 0,
      o.confidence,
    );
  }

  async read(batchId: string): Promise<Phase3Metrics> {
    const h = await this.redis.hgetall(this.key('batch', batchId, 'phase3'));
    const leads = Number(h.leads ?? 0);
    const ratio = (n: number) => (leads > 0 ? Math.round((n / leads) * 1000) / 1000 : 0);
    return {
      cache_hit_rate: ratio(Number(h.cache_hits ?? 0)),
      predictive_matches: Number(h.predictive_matches ?? 0),
      multi_source_validated: Number(h.multi_source_validated ?? 0),
      avg_confidence: ratio(Number(h.confidence_sum ?? 0)),
    };
  }
}
