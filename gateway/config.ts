import { z } from 'zod';
import { EnrichConfig } from '../services/enrich/config.ts';
import { PROVIDERS } from '../services/enrich/types.ts';
import { BaseConfig } from '../services/lib/config.ts';
import { parsePlanCredits } from '../services/lib/plan-credits.ts';
import { VerifyConfig } from '../services/verify/config.ts';
import { WebhookTargetConfig } from '../services/webhooks/config.ts';
import { DEFAULT_PLAN_PRICES, isPlanId } from './plans.ts';

/**
 * `starter=9900,...`: net cents per cycle over the defaults, in BILLING_PLAN_CREDITS' syntax (the same
 * parser); every name must be a plan.
 */
const PlanPrices = z
  .string()
  .default('')
  .transform((text, ctx) => {
    try {
      const given = parsePlanCredits(text);
      const unknown = Object.keys(given).filter((id) => !isPlanId(id));
      if (unknown.length) throw new Error(`unknown plan ${unknown.join(', ')}`);
      return { ...DEFAULT_PLAN_PRICES, ...given };
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message.replace('BILLING_PLAN_CREDITS: ', '') });
      return z.NEVER;
    }
  });

/**
 * Billing through Stripe. The defaults fit the local stack's stripe-mock (STRIPE_API_BASE in .stack/env,
 * which accepts any key of the sk_test_ shape); for a real Stripe test account set STRIPE_SECRET_KEY and
 * STRIPE_WEBHOOK_SECRET, and STRIPE_API_BASE=https://api.stripe.com (or leave it unset outside the stack).
 */
export const BillingConfig = z.object({
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_\S+$/, 'must be a Stripe secret key (sk_test_..., sk_live_... or rk_...)')
    .default('sk_test_123'),
  /** The endpoint's signing secret (`stripe listen` prints one); the local default is for stripe-mock use. */
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_\S+$/, 'must start with whsec_')
    .default('whsec_leedrush_local'),
  /** Oldest Stripe-Signature timestamp accepted, in seconds (Stripe's own default: 300). */
  STRIPE_WEBHOOK_TOLERANCE_S: z.coerce.number().int().min(1).max(86_400).default(300),
  BILLING_CURRENCY: z
    .string()
    .regex(/^[a-z]{3}$/, 'a lower-case ISO 4217 code')
    .default('usd'),
  BILLING_PLAN_PRICES: PlanPrices,
  /** Price of one top-up credit in cents (net). */
  BILLING_TOPUP_CENTS_PER_CREDIT: z.coerce.number().int().min(1).default(10),
  BILLING_TOPUP_MIN_CREDITS: z.coerce.number().int().min(1).default(100),
  BILLING_TOPUP_MAX_CREDITS: z.coerce.number().int().min(1).default(1_000_000),
  /** VAT added to every net price, in percent (0 = none); shown on invoices. */
  BILLING_VAT_PERCENT: z.coerce.number().min(0).max(100).default(0),
  /** The seller printed on invoices: name, then address lines separated by `|`. */
  BILLING_SELLER: z
    .string()
    .min(1)
    .default('Leedrush Inc.|548 Market St|San Francisco, CA 94104|United States'),
  /** Where Stripe Checkout sends the customer back ({CHECKOUT_SESSION_ID} is filled in by Stripe). */
  BILLING_SUCCESS_URL: z
    .url()
    .default('http://127.0.0.1:8080/billing/success?session_id={CHECKOUT_SESSION_ID}'),
  BILLING_CANCEL_URL: z.url().default('http://127.0.0.1:8080/billing/cancel'),
  /** How often the gateway rolls the billing cycles that ended (reads roll them lazily as well). */
  BILLING_CYCLE_JOB_MS: z.coerce.number().int().min(1_000).default(60_000),
});

export const GatewayConfig = BaseConfig.extend({
  ...WebhookTargetConfig.shape,
  ...BillingConfig.shape,
  // The multi-source endpoint verifies and enriches in-process with the pipeline's settings.
  ...VerifyConfig.shape,
  ...EnrichConfig.shape,
  /** The providers asked by GET /v1/validation/multi-source: API.md names Hunter, Clearbit and Snov. */
  MULTI_SOURCE_PROVIDERS: z
    .string()
    .default('hunter,clearbit,snov')
    .transform((s) => s.split(',').map((p) => p.trim()))
    .pipe(z.array(z.enum(PROVIDERS)).min(1)),
  /** Bound on one GET /v1/validation/multi-source (verify + every provider); 504 beyond it. */
  MULTI_SOURCE_TIMEOUT_MS: z.coerce.number().int().min(1).default(15_000),
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  GATEWAY_HOST: z.string().default('127.0.0.1'),
  /** HS256 key: at least 32 bytes, as RFC 7518 §3.2 requires for HMAC-SHA256. */
  JWT_SECRET: z.string().refine((s) => Buffer.byteLength(s) >= 32, 'must be at least 32 bytes'),
  JWT_TTL_SECONDS: z.coerce.number().int().min(60).default(3600),
  /**
   * How long an authenticated request may rely on a user record read by an earlier one: a user deleted
   * (or re-planned) through another gateway instance still passes for at most this long. 0 = no cache.
   */
  AUTH_USER_CACHE_MS: z.coerce.number().int().min(0).max(10_000).default(1000),
  /** Failed logins per email before 429, and the window they are counted in. */
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
  /** Failed logins from one client address (whatever the emails) before 429, in the same window. */
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(50),
  LOGIN_FAILURE_WINDOW_S: z.coerce.number().int().min(1).default(900),
  /**
   * The gateway runs behind one reverse proxy that terminates TLS: its X-Forwarded-For (last entry) is
   * the client address and its X-Forwarded-Proto says whether the client used https (HSTS is sent then).
   * Off by default, because a client could otherwise choose its own address.
   */
  GATEWAY_TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  /** A client must send its whole request head within this (slow-loris); 408 and closed otherwise. */
  GATEWAY_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /**
   * A client must send its whole request, body included, within this: long enough for the largest
   * upload on a slow link, short enough that a body dripped a byte at a time does not hold a socket.
   */
  GATEWAY_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(600_000),
  /** A connection with no bytes either way for this long is closed (a body that stalls). */
  GATEWAY_IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
  UPLOAD_DIR: z.string().default('.stack/uploads'),
  UPLOAD_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(1024 * 1024 * 1024),
  JSON_BODY_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(20 * 1024 * 1024),
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;
