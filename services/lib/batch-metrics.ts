import type { Redis } from 'ioredis';
import { coalescing } from './coalesce.ts';

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

// The seen-set and the sums change together or not at all. ARGV holds five values per lead: its id and
// its four figures; a lead already in the seen-set adds nothing.
const OBSERVE = `
local leads, hits, predictive, multi, confidence = 0, 0, 0, 0, 0
for i = 1, #ARGV, 5 do
  if redis.call('SADD', KEYS[1], ARGV[i]) == 1 then
    leads = leads + 1
    hits = hits + tonumber(ARGV[i + 1])
    predictive = predictive + tonumber(ARGV[i + 2])
    multi = multi + tonumber(ARGV[i + 3])
    confidence = confidence + tonumber(ARGV[i + 4])
  end
end
if leads == 0 then return 0 end
redis.call('HINCRBY', KEYS[2], 'leads', leads)
redis.call('HINCRBY', KEYS[2], 'cache_hits', hits)
redis.call('HINCRBY', KEYS[2], 'predictive_matches', predictive)
redis.call('HINCRBY', KEYS[2], 'multi_source_validated', multi)
redis.call('HINCRBYFLOAT', KEYS[2], 'confidence_sum', confidence)
return leads
`;

interface Observed {
  batchId: string;
  leadId: string;
  o: EnrichObservation;
}

type WithObserve = {
  leedrushObserveEnrich(seen: string, sums: string, ...args: (string | number)[]): Promise<number>;
};

export class BatchMetrics {
  readonly #redis: WithObserve;
  /**
   * The observations made while a call is in flight go together in the next one, one script call per
   * batch: every lead enriched sends one, and one Redis call each was a large share of enrich's work.
   */
  readonly #observe: (item: Observed) => Promise<void>;

  constructor(
    private readonly redis: Redis,
    private readonly key: (...parts: string[]) => string,
  ) {
    // defineCommand sends the script once and then calls it by its SHA.
    redis.defineCommand('leedrushObserveEnrich', { numberOfKeys: 2, lua: OBSERVE });
    this.#redis = redis as unknown as WithObserve;
    this.#observe = coalescing((items: Observed[]) => this.#write(items));
  }

  /** `leadId` makes the observation idempotent: a redelivered lead is not counted twice. */
  observe(batchId: string, leadId: string, o: EnrichObservation): Promise<void> {
    return this.#observe({ batchId, leadId, o });
  }

  async #write(items: Observed[]): Promise<void> {
    const byBatch = new Map<string, Observed[]>();
    for (const item of items) {
      const same = byBatch.get(item.batchId);
      if (same) same.push(item);
      else byBatch.set(item.batchId, [item]);
    }
    await Promise.all(
      [...byBatch].map(([batchId, observed]) =>
        this.#redis.leedrushObserveEnrich(
          this.key('batch', batchId, 'phase3-seen'),
          this.key('batch', batchId, 'phase3'),
          ...observed.flatMap(({ leadId, o }) => [
            leadId,
            o.cacheHit ? 1 : 0,
            o.predictiveMatch ? 1 : 0,
            o.multiSourceValidated ? 1 : 0,
            o.confidence,
          ]),
        ),
      ),
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
