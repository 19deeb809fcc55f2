import { z } from 'zod';
import { VerifyConfig } from '../verify/config.ts';

/**
 * Settings of embedded mode, from the environment only (no .stack/env: nothing of the stack is used).
 * Verify's own settings without the servers it would talk to, with a shorter DNS timeout and a single
 * try, so a file whose domains cannot be resolved still finishes in seconds.
 */
export const EmbeddedSettings = z
  .object(VerifyConfig.shape)
  .omit({ KAFKA_BROKERS: true, SCHEMA_REGISTRY_URL: true, CLICKHOUSE_URL: true })
  .extend({
    /** Not used: embedded mode caches DNS answers in-process. */
    REDIS_URL: z.string().default(''),
    DNS_TIMEOUT_MS: z.coerce.number().int().positive().default(1_500),
    DNS_TRIES: z.coerce.number().int().min(1).max(5).default(1),
    /** A name the resolvers must answer for their verdicts to be trusted (a private zone's own name). */
    DNS_CANARY: z.string().min(1).default('com'),
    /** Leads in flight at once: bounds open DNS queries when domains resolve slowly. */
    EMBEDDED_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
    APOLLO_API_KEY: z.string().default(''),
    CLEARBIT_API_KEY: z.string().default(''),
    HUNTER_API_KEY: z.string().default(''),
    SNOV_CLIENT_ID: z.string().default(''),
  });
export type EmbeddedSettings = z.infer<typeof EmbeddedSettings>;

export function embeddedSettings(env: Record<string, string | undefined> = process.env): EmbeddedSettings {
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  return EmbeddedSettings.parse(set);
}

/** Providers with credentials in the environment. */
export function configuredProviders(s: EmbeddedSettings): string[] {
  const keys: Array<[string, string]> = [
    ['apollo', s.APOLLO_API_KEY],
    ['clearbit', s.CLEARBIT_API_KEY],
    ['hunter', s.HUNTER_API_KEY],
    ['snov', s.SNOV_CLIENT_ID],
  ];
  return keys.filter(([, key]) => key !== '').map(([name]) => name);
}
