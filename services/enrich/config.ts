import { z } from 'zod';
import { BaseConfig } from '../lib/config.ts';
import type { ProviderPolicy } from './http.ts';
import { FIELDS, PROVIDERS, type ProviderName } from './types.ts';

const int = (def: number) => z.coerce.number().int().nonnegative().default(def);
const num = (def: number) => z.coerce.number().nonnegative().default(def);
const url = (def: string) => z.url().default(def);
/** A comma-separated list, trimmed, empty items dropped. */
const list = (def: string) =>
  z
    .string()
    .default(def)
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    );
const providerList = (def: string) => list(def).pipe(z.array(z.enum(PROVIDERS)));
const fieldList = (def: string) => list(def).pipe(z.array(z.enum(FIELDS)));

/**
 * Enrichment settings. Base URLs default to the real providers; the local stack and tests point them at
 * the sandbox server. Costs are USD per billed call; rates are calls per second shared by all instances.
 */
export const EnrichConfig = BaseConfig.extend({
  APOLLO_BASE_URL: url('https://api.apollo.io'),
  APOLLO_API_KEY: z.string().default(''),
  CLEARBIT_PERSON_URL: url('https://person-stream.clearbit.com'),
  CLEARBIT_COMPANY_URL: url('https://company.clearbit.com'),
  CLEARBIT_API_KEY: z.string().default(''),
  HUNTER_BASE_URL: url('https://api.hunter.io'),
  HUNTER_API_KEY: z.string().default(''),
  SNOV_BASE_URL: url('https://api.snov.io'),
  SNOV_CLIENT_ID: z.string().default(''),
  SNOV_CLIENT_SECRET: z.string().default(''),
  /**
   * Opt-in for the sandbox providers (services/enrich/sandbox): invented, deterministic answers for tests
   * and benchmarks. Off by default: without real keys nothing is asked, and no invented value reaches a
   * lead (provider-mode.ts). Every value the sandbox supplies is labelled `sandbox:<provider>`.
   */
  ENRICH_SANDBOX: z.stringbool().default(false),
  /** Where the sandbox answers when ENRICH_SANDBOX is on (the local stack's `sandbox` component). */
  ENRICH_SANDBOX_URL: url('http://127.0.0.1:12080'),

  ENRICH_TIMEOUT_MS: int(5_000),
  ENRICH_MAX_RETRIES: int(3),
  ENRICH_RETRY_BASE_MS: int(200),
  ENRICH_RETRY_MAX_MS: int(10_000),
  ENRICH_MAX_QUEUE_MS: int(30_000),
  ENRICH_BREAKER_FAILURES: z.coerce.number().int().min(1).default(5),
  ENRICH_BREAKER_COOLDOWN_MS: int(30_000),
  ENRICH_RATE_APOLLO: num(10),
  ENRICH_RATE_CLEARBIT: num(10),
  ENRICH_RATE_HUNTER: num(10),
  ENRICH_RATE_SNOV: num(1),
  ENRICH_BURST: z.coerce.number().int().min(1).default(20),
  ENRICH_COST_APOLLO: num(0.03),
  ENRICH_COST_CLEARBIT: num(0.1),
  ENRICH_COST_HUNTER: num(0.01),
  ENRICH_COST_SNOV: num(0.005),
  /** Reliability weight of each provider in consensus, apollo,clearbit,hunter,snov. */
  ENRICH_RELIABILITY: z
    .string()
    .default('0.9,0.95,0.9,0.8')
    .transform((s) => s.split(',').map(Number))
    .pipe(z.array(z.number().min(0).max(1)).length(4)),
  ENRICH_PERSON_ORDER: providerList('apollo,clearbit,snov'),
  ENRICH_COMPANY_ORDER: providerList('clearbit,apollo,hunter'),
  ENRICH_EMAIL_ORDER: providerList('hunter,snov'),
  /** The fields whose absence makes the waterfall ask the next provider of the group. */
  ENRICH_PERSON_TARGETS: fieldList('name,title,linkedin'),
  ENRICH_COMPANY_TARGETS: fieldList('company,industry,employee_count,country'),
  /** A field is filled once a source with at least this confidence supplied it. */
  ENRICH_MIN_CONFIDENCE: num(0.5),
  /** Confidence given to values the lead carried itself and to DNS findings. */
  ENRICH_INPUT_RELIABILITY: z.coerce.number().min(0).max(1).default(0.7),
  ENRICH_DNS_RELIABILITY: z.coerce.number().min(0).max(1).default(0.9),

  ENRICH_L1_MAX: z.coerce.number().int().min(1).default(100_000),
  /** L1's bound in MiB of the records' JSON (their heap size is a few times that). */
  ENRICH_L1_MAX_MB: z.coerce.number().int().min(1).default(32),
  ENRICH_L1_TTL_MS: int(15 * 60_000),
  ENRICH_L2_TTL_S: z.coerce
    .number()
    .int()
    .min(1)
    .default(7 * 24 * 3600),
  ENRICH_SIMILARITY_THRESHOLD: z.coerce.number().min(0).max(1).default(0.85),

  /** host or host:port, comma-separated; empty = the system's resolvers. */
  DNS_SERVERS: list(''),
  DNS_TIMEOUT_MS: int(2_000),
});
export type EnrichSettings = z.infer<typeof EnrichConfig>;
/** What enrichment itself reads: embedded mode has no Kafka, registry or ClickHouse to name. */
export type EnrichCoreSettings = Omit<
  EnrichSettings,
  'KAFKA_BROKERS' | 'SCHEMA_REGISTRY_URL' | 'CLICKHOUSE_URL'
>;

const RATE_KEY = {
  apollo: 'ENRICH_RATE_APOLLO',
  clearbit: 'ENRICH_RATE_CLEARBIT',
  hunter: 'ENRICH_RATE_HUNTER',
  snov: 'ENRICH_RATE_SNOV',
} as const;
const COST_KEY = {
  apollo: 'ENRICH_COST_APOLLO',
  clearbit: 'ENRICH_COST_CLEARBIT',
  hunter: 'ENRICH_COST_HUNTER',
  snov: 'ENRICH_COST_SNOV',
} as const;

/** The call policy of one provider, from the settings. */
export function providerPolicy(cfg: EnrichCoreSettings, provider: ProviderName): ProviderPolicy {
  return {
    timeoutMs: cfg.ENRICH_TIMEOUT_MS,
    maxRetries: cfg.ENRICH_MAX_RETRIES,
    retryBaseMs: cfg.ENRICH_RETRY_BASE_MS,
    retryMaxMs: cfg.ENRICH_RETRY_MAX_MS,
    maxQueueMs: cfg.ENRICH_MAX_QUEUE_MS,
    rateLimit: { perSecond: cfg[RATE_KEY[provider]], burst: cfg.ENRICH_BURST },
    // Token requests and the Snov "add to verification" step are free; the rest bill the provider's price.
    cost: { default: cfg[COST_KEY[provider]], token: 0, add_verification: 0 },
    breaker: { failureThreshold: cfg.ENRICH_BREAKER_FAILURES, cooldownMs: cfg.ENRICH_BREAKER_COOLDOWN_MS },
  };
}

export function reliabilities(cfg: EnrichCoreSettings): Record<ProviderName, number> {
  const [apollo = 0.9, clearbit = 0.95, hunter = 0.9, snov = 0.8] = cfg.ENRICH_RELIABILITY;
  return { apollo, clearbit, hunter, snov };
}
