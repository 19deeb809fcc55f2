import { Resolver } from 'node:dns/promises';
import type { Redis } from 'ioredis';
import type { LeadMeta } from '../../schemas/generated.ts';
import { keyspace } from '../lib/redis.ts';
import { AnswerCache } from './answer-cache.ts';
import type { VerifyConfig } from './config.ts';
import { type DnsClient, MailRouteResolver } from './mail-route.ts';
import { PhoneLookupClient } from './phone-lookup.ts';
import type { ProbeOptions } from './smtp-probe.ts';

/** Everything verifyLead needs besides the lead: built once per process, shared by every lead. */
export type VerifyContext = {
  cache: AnswerCache;
  routes: MailRouteResolver;
  probe: ProbeOptions;
  /** The per-account (or per-lead) switch for the SMTP probe. */
  probeFor: (meta: LeadMeta) => boolean;
  phoneLookup: PhoneLookupClient | null;
};

export type VerifySettings = Omit<VerifyConfig, 'KAFKA_BROKERS' | 'SCHEMA_REGISTRY_URL' | 'CLICKHOUSE_URL'>;

/** A margin over the resolver's own timeout × tries, for the hard per-query bound. */
const DNS_DEADLINE_MARGIN_MS = 100;

export function createVerifyContext(
  settings: VerifySettings,
  /** null: no shared answer cache (embedded mode), DNS answers are cached in-process only. */
  redis: Redis | null,
  /** dns: another client than the configured resolvers (embedded mode, when DNS is unreachable). */
  options: { keyPrefix?: string; dns?: DnsClient } = {},
): VerifyContext {
  const cache = new AnswerCache(redis, {
    keyPrefix: options.keyPrefix ?? `${keyspace(settings.LEEDRUSH_PREFIX)('verify', 'dns')}:`,
    microTtlS: settings.DNS_MICRO_CACHE_TTL_S,
    microSize: settings.DNS_MICRO_CACHE_SIZE,
  });
  const routes = new MailRouteResolver(
    options.dns ?? dnsResolver(settings),
    cache,
    {
      minS: settings.DNS_MIN_TTL_S,
      maxS: settings.DNS_MAX_TTL_S,
      mxS: settings.DNS_MX_TTL_S,
      negativeS: settings.DNS_NEGATIVE_TTL_S,
    },
    settings.DNS_TIMEOUT_MS * settings.DNS_TRIES + DNS_DEADLINE_MARGIN_MS,
  );
  const probeAccounts = new Set(settings.SMTP_PROBE_ACCOUNTS);
  const { PHONE_LOOKUP_URL: baseUrl, PHONE_LOOKUP_SID: sid, PHONE_LOOKUP_TOKEN: token } = settings;
  return {
    cache,
    routes,
    probe: {
      port: settings.SMTP_PORT,
      heloName: settings.SMTP_HELO_NAME,
      mailFrom: settings.SMTP_MAIL_FROM,
      stepTimeoutMs: settings.SMTP_TIMEOUT_MS,
      totalTimeoutMs: settings.SMTP_TOTAL_TIMEOUT_MS,
    },
    probeFor: (meta) => settings.SMTP_PROBE_ENABLED || probeAccounts.has(meta.account_id),
    phoneLookup:
      baseUrl && sid && token
        ? new PhoneLookupClient({ baseUrl, sid, token, timeoutMs: settings.PHONE_LOOKUP_TIMEOUT_MS })
        : null,
  };
}

function dnsResolver(settings: VerifySettings): Resolver {
  const resolver = new Resolver({ timeout: settings.DNS_TIMEOUT_MS, tries: settings.DNS_TRIES });
  if (settings.DNS_SERVERS.length > 0) resolver.setServers(settings.DNS_SERVERS);
  return resolver;
}
