import { z } from 'zod';
import { EnrichConfig } from '../services/enrich/config.ts';
import { PROVIDERS } from '../services/enrich/types.ts';
import { BaseConfig } from '../services/lib/config.ts';
import { VerifyConfig } from '../services/verify/config.ts';
import { WebhookTargetConfig } from '../services/webhooks/config.ts';

export const GatewayConfig = BaseConfig.extend({
  ...WebhookTargetConfig.shape,
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
  LOGIN_FAILURE_WINDOW_S: z.coerce.number().int().min(1).default(900),
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
