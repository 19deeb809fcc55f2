import type { CallLog } from '../call-log.ts';
import { type EnrichCoreSettings, providerPolicy } from '../config.ts';
import { ProviderHttp } from '../http.ts';
import type { RateLimiter } from '../rate-limit.ts';
import type { ProviderName } from '../types.ts';
import type { ProviderAdapter } from './adapter.ts';
import { ApolloAdapter } from './apollo.ts';
import { ClearbitAdapter } from './clearbit.ts';
import { HunterAdapter } from './hunter.ts';
import { SnovAdapter } from './snov.ts';

/** The four adapters, each with its own resilient HTTP layer over the one rate limiter. */
export function createAdapters(
  cfg: EnrichCoreSettings,
  limiter: RateLimiter,
  log: CallLog,
): Map<ProviderName, ProviderAdapter> {
  const http = (p: ProviderName) => new ProviderHttp(p, providerPolicy(cfg, p), limiter, log);
  const adapters: ProviderAdapter[] = [
    new ApolloAdapter(http('apollo'), cfg.APOLLO_BASE_URL, cfg.APOLLO_API_KEY),
    new ClearbitAdapter(
      http('clearbit'),
      cfg.CLEARBIT_PERSON_URL,
      cfg.CLEARBIT_COMPANY_URL,
      cfg.CLEARBIT_API_KEY,
    ),
    new HunterAdapter(http('hunter'), cfg.HUNTER_BASE_URL, cfg.HUNTER_API_KEY),
    new SnovAdapter(http('snov'), cfg.SNOV_BASE_URL, cfg.SNOV_CLIENT_ID, cfg.SNOV_CLIENT_SECRET),
  ];
  return new Map(adapters.map((a) => [a.name, a]));
}
