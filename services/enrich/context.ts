import type { Redis } from 'ioredis';
import { keyspace } from '../lib/redis.ts';
import { EnrichmentCache } from './cache.ts';
import { BufferedCallLog } from './call-log.ts';
import { type EnrichCoreSettings, reliabilities } from './config.ts';
import { Enricher } from './enricher.ts';
import { askedProviders, type ProviderMode, providerMode, providerSettings } from './provider-mode.ts';
import type { ProviderAdapter } from './providers/adapter.ts';
import { createAdapters } from './providers/index.ts';
import { RateLimiter } from './rate-limit.ts';
import { DnsTechnographics } from './technographics.ts';
import type { ProviderName } from './types.ts';

/** Everything one enrich instance holds: adapters, caches, the call log buffer and the enricher. */
export interface EnrichContext {
  /** Sandbox, live (which providers) or none: what the adapters below talk to. */
  mode: ProviderMode;
  enricher: Enricher;
  cache: EnrichmentCache;
  adapters: Map<ProviderName, ProviderAdapter>;
  calls: BufferedCallLog;
  close(): Promise<void>;
}

export interface EnrichContextOptions {
  dns?: DnsTechnographics | null;
  calls?: BufferedCallLog;
}

/**
 * The enricher and what it stands on. With a Redis connection the L2 cache, similarity index, cache
 * counters and rate-limit buckets are shared by every instance; with `redis` null (embedded mode) they
 * live in this process, behind the same interfaces, so the enrichment logic is the same code.
 * The providers asked follow provider-mode.ts: the sandbox only when ENRICH_SANDBOX is on, else those
 * with real keys, else none. Sandbox answers are cached apart from real ones (cache origin `sandbox`),
 * so a cached invented value is never served to a lead enriched for real.
 */
export function createEnrichContext(
  cfg: EnrichCoreSettings,
  redis: Redis | null,
  opts: EnrichContextOptions = {},
): EnrichContext {
  const key = keyspace(cfg.LEEDRUSH_PREFIX);
  const calls = opts.calls ?? new BufferedCallLog();
  const mode = providerMode(cfg);
  const asked = askedProviders(mode);
  const all = createAdapters(providerSettings(cfg, mode), new RateLimiter(redis, key), calls);
  const adapters = new Map([...all].filter(([name]) => asked.includes(name)));
  const cache = new EnrichmentCache(redis, key, {
    origin: mode.kind === 'sandbox' ? 'sandbox' : 'live',
    l1Max: cfg.ENRICH_L1_MAX,
    l1MaxBytes: cfg.ENRICH_L1_MAX_MB * 1024 * 1024,
    l1TtlMs: cfg.ENRICH_L1_TTL_MS,
    l2TtlS: cfg.ENRICH_L2_TTL_S,
    similarityThreshold: cfg.ENRICH_SIMILARITY_THRESHOLD,
  });
  const dns =
    opts.dns === undefined
      ? new DnsTechnographics({ servers: cfg.DNS_SERVERS, timeoutMs: cfg.DNS_TIMEOUT_MS })
      : opts.dns;
  const enricher = new Enricher(adapters, cache, dns, {
    order: {
      person: cfg.ENRICH_PERSON_ORDER,
      company: cfg.ENRICH_COMPANY_ORDER,
      email: cfg.ENRICH_EMAIL_ORDER,
    },
    targets: { email: ['email'], person: cfg.ENRICH_PERSON_TARGETS, company: cfg.ENRICH_COMPANY_TARGETS },
    reliability: reliabilities(cfg),
    minConfidence: cfg.ENRICH_MIN_CONFIDENCE,
    inputReliability: cfg.ENRICH_INPUT_RELIABILITY,
    dnsReliability: cfg.ENRICH_DNS_RELIABILITY,
    sandbox: mode.kind === 'sandbox',
  });
  return { mode, enricher, cache, adapters, calls, close: () => cache.close() };
}
