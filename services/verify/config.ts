import { z } from 'zod';
import { BaseConfig } from '../lib/config.ts';

const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);
const ms = (def: number) => z.coerce.number().int().positive().default(def);
const seconds = (def: number) => z.coerce.number().int().nonnegative().default(def);

/** Settings of the verify phase (services/verify/README.md explains each verdict they affect). */
export const VerifyConfig = BaseConfig.extend({
  /** Resolvers as ip[:port] (e.g. 127.0.0.1:5353). Empty: the machine's resolvers (/etc/resolv.conf). */
  DNS_SERVERS: list.default([]),
  /** Per-try timeout of one DNS query. */
  DNS_TIMEOUT_MS: ms(2_000),
  DNS_TRIES: z.coerce.number().int().min(1).max(5).default(2),
  /** Cap on any cached DNS answer, whatever TTL the answer carries. */
  DNS_MAX_TTL_S: seconds(21_600),
  /** Floor so that zero-TTL answers do not turn every lead into a query. */
  DNS_MIN_TTL_S: seconds(30),
  /** node:dns returns no TTL for MX answers (only for A/AAAA), so MX answers live this long. */
  DNS_MX_TTL_S: seconds(3_600),
  /** NXDOMAIN and "no mail host" answers (RFC 2308 negative caching; the SOA minimum is not exposed). */
  DNS_NEGATIVE_TTL_S: seconds(900),
  /** In-process cache in front of Redis: entries live at most this long and never past their DNS TTL. */
  DNS_MICRO_CACHE_TTL_S: seconds(60),
  DNS_MICRO_CACHE_SIZE: z.coerce.number().int().min(1).default(100_000),

  /** SMTP mailbox probing is off by default: it is slow and some receivers penalise probing IPs. */
  SMTP_PROBE_ENABLED: z.stringbool().default(false),
  /** Accounts for which the probe runs even when SMTP_PROBE_ENABLED is false. */
  SMTP_PROBE_ACCOUNTS: list.default([]),
  SMTP_PORT: z.coerce.number().int().min(1).max(65_535).default(25),
  /** Bound on each step (connect, greeting, each command's reply). */
  SMTP_TIMEOUT_MS: ms(5_000),
  /** Bound on the whole conversation, across MX hosts. */
  SMTP_TOTAL_TIMEOUT_MS: ms(15_000),
  SMTP_HELO_NAME: z.string().min(1).default('localhost.localdomain'),
  /** Reverse path for MAIL FROM; empty means the null sender <> (RFC 5321 §4.5.5). */
  SMTP_MAIL_FROM: z.string().default(''),

  /** Twilio Lookup v2 compatible line-status provider; all three set, or none. */
  PHONE_LOOKUP_URL: z.url().optional(),
  PHONE_LOOKUP_SID: z.string().min(1).optional(),
  PHONE_LOOKUP_TOKEN: z.string().min(1).optional(),
  PHONE_LOOKUP_TIMEOUT_MS: ms(3_000),
}).refine(
  (c) =>
    (c.PHONE_LOOKUP_URL === undefined) === (c.PHONE_LOOKUP_SID === undefined) &&
    (c.PHONE_LOOKUP_SID === undefined) === (c.PHONE_LOOKUP_TOKEN === undefined),
  {
    message: 'PHONE_LOOKUP_URL, PHONE_LOOKUP_SID and PHONE_LOOKUP_TOKEN go together',
    path: ['PHONE_LOOKUP_URL'],
  },
);

export type VerifyConfig = z.infer<typeof VerifyConfig>;
