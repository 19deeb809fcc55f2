import { z } from 'zod';
import { BaseConfig } from '../lib/config.ts';
import { DEFAULT_RETRY_SCHEDULE, parseSchedule } from './backoff.ts';

const positive = (def: number) => z.coerce.number().int().min(1).default(def);

/** Shared with the gateway, which checks URLs at registration with the same allow-list. */
export const WebhookTargetConfig = z.object({
  /**
   * Host names exempt from the public-address check, comma separated (e.g. `127.0.0.1,localhost` in
   * development and tests). Empty in production.
   */
  WEBHOOK_ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((h) =>
          h
            .trim()
            .toLowerCase()
            .replace(/^\[|\]$/g, ''),
        )
        .filter(Boolean),
    ),
  /**
   * Resolvers (ip[:port], comma separated) for webhook hosts, asked for A and AAAA records; empty: the
   * system's resolution (getaddrinfo). The gateway's check at registration and the dispatcher's before
   * every attempt use the same ones.
   */
  WEBHOOK_DNS_SERVERS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    ),
});

export type WebhookTargetConfig = z.infer<typeof WebhookTargetConfig>;

export const WebhooksConfig = BaseConfig.extend({
  ...WebhookTargetConfig.shape,
  /** Delays between attempts (see backoff.ts); its length + 1 = attempts per event and endpoint. */
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .default(DEFAULT_RETRY_SCHEDULE)
    .transform((s, ctx) => {
      try {
        return parseSchedule(s);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** One attempt: connect, send, response. */
  WEBHOOK_TIMEOUT_MS: positive(10_000),
  /** How often due jobs are looked for. */
  WEBHOOK_POLL_MS: positive(500),
  /** A claimed job is due again after this (its dispatcher died): longer than an attempt can take. */
  WEBHOOK_LEASE_MS: positive(60_000),
  /** Attempts in flight at once per dispatcher instance. */
  WEBHOOK_CONCURRENCY: positive(16),
  WEBHOOK_LOG_FLUSH_MS: positive(1_000),
  /** Consumer group session: how long a dead instance holds its outbox partitions. */
  WEBHOOK_SESSION_TIMEOUT_MS: positive(30_000),
});
export type WebhooksConfig = z.infer<typeof WebhooksConfig>;
