import { z } from 'zod';
import { EnrichConfig } from '../enrich/config.ts';
import { VerifyConfig } from '../verify/config.ts';

/**
 * Settings of embedded mode, from the environment only (no .stack/env: nothing of the stack is used).
 * Verify's and enrich's own settings without the servers they would talk to, with a shorter DNS
 * timeout and a single try, so a file whose domains cannot be resolved still finishes in seconds.
 */
export const EmbeddedSettings = z
  .object({ ...EnrichConfig.shape, ...VerifyConfig.shape })
  .omit({ KAFKA_BROKERS: true, SCHEMA_REGISTRY_URL: true, CLICKHOUSE_URL: true })
  .extend({
    /** Not used: embedded mode keeps DNS answers and enrichment caches in-process. */
    REDIS_URL: z.string().default(''),
    DNS_TIMEOUT_MS: z.coerce.number().int().positive().default(1_500),
    DNS_TRIES: z.coerce.number().int().min(1).max(5).default(1),
    /** A name the resolvers must answer for their verdicts to be trusted (a private zone's own name). */
    DNS_CANARY: z.string().min(1).default('com'),
    /** Leads in flight at once: bounds open DNS queries and provider calls. */
    EMBEDDED_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
  });
export type EmbeddedSettings = z.infer<typeof EmbeddedSettings>;

export function embeddedSettings(env: Record<string, string | undefined> = process.env): EmbeddedSettings {
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  return EmbeddedSettings.parse(set);
}
