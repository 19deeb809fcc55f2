/**
 * What the gateway's advanced endpoints run in-process: an enrich context (adapters, the two-level
 * cache sharing the pipeline's Redis counters) and a verify context, so one email can be verified and
 * enriched by every provider synchronously. The figures it reports are the cluster-wide counters.
 */
import type { Redis } from 'ioredis';
import type { CacheStats } from '../../services/enrich/cache.ts';
import { createEnrichContext } from '../../services/enrich/context.ts';
import type { MultiSourceResult } from '../../services/enrich/enricher.ts';
import { PredictiveCounters, type PredictiveStats } from '../../services/enrich/predictive/counters.ts';
import { keyspace } from '../../services/lib/redis.ts';
import { createVerifyContext } from '../../services/verify/context.ts';
import { type EmailStatus, verifyEmail } from '../../services/verify/email.ts';
import type { GatewayConfig } from '../config.ts';

export type MultiSourceOutcome =
  | { kind: 'ok'; result: MultiSourceResult }
  | { kind: 'invalid'; reason: string }
  | { kind: 'timeout' };

/** Verdicts that mean the caller did not give an address at all. */
const NOT_AN_ADDRESS: ReadonlySet<EmailStatus> = new Set<EmailStatus>(['invalid_syntax', 'missing']);

export interface AdvancedFeatures {
  cacheStats(): Promise<Omit<CacheStats, 'l2_errors'>>;
  predictiveStats(): Promise<PredictiveStats>;
  multiSource(email: string): Promise<MultiSourceOutcome>;
  close(): Promise<void>;
}

export function createAdvancedFeatures(config: GatewayConfig, redis: Redis): AdvancedFeatures {
  // DNS technographics are not part of the multi-source answer: no resolver for them here.
  const enrich = createEnrichContext(config, redis, { dns: null });
  // This enricher serves only multi-source validation: the providers not configured for it are taken
  // out of the map it asks (the context hands out the enricher's own map).
  const asked = new Set<string>(config.MULTI_SOURCE_PROVIDERS);
  for (const name of [...enrich.adapters.keys()]) if (!asked.has(name)) enrich.adapters.delete(name);
  const verify = createVerifyContext(config, redis);
  const predictive = new PredictiveCounters(redis, keyspace(config.LEEDRUSH_PREFIX));

  async function run(email: string): Promise<MultiSourceOutcome> {
    const verdict = await verifyEmail(
      email,
      {
        route: (d) => verify.routes.route(d),
        resolveHost: (h) => verify.routes.addresses(h),
        probe: verify.probe,
      },
      config.SMTP_PROBE_ENABLED,
    );
    if (NOT_AN_ADDRESS.has(verdict.status)) return { kind: 'invalid', reason: verdict.reason };
    return { kind: 'ok', result: await enrich.enricher.multiSource(email, verdict.status) };
  }

  return {
    async cacheStats() {
      const { l2_errors: _internal, ...stats } = await enrich.cache.stats();
      return stats;
    },
    predictiveStats: () => predictive.stats(),
    async multiSource(email) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<MultiSourceOutcome>((resolve) => {
        timer = setTimeout(() => resolve({ kind: 'timeout' }), config.MULTI_SOURCE_TIMEOUT_MS);
      });
      try {
        return await Promise.race([run(email), deadline]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => enrich.close(),
  };
}
