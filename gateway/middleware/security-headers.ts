import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { NONCE, secureHeaders } from 'hono/secure-headers';
import { overTls } from '../client.ts';
import type { GatewayEnv } from '../env.ts';

/**
 * The headers a browser-facing API sends, from Hono's secureHeaders: nosniff, no framing (X-Frame-Options
 * DENY and frame-ancestors 'none'), no referrer, same-origin resource and opener policies, no
 * X-Powered-By, and a Content-Security-Policy per kind of response:
 * - the dashboard (/app): its own scripts, styles and API only — it has no inline script, handler or
 *   style (gateway/web/router.ts), so nothing looser is needed;
 * - the docs page: no script at all, its one inline style by nonce;
 * - everything else (JSON, CSV, PDF): nothing may load or run — a response rendered as a page by
 *   mistake stays inert.
 * Strict-Transport-Security only when the client came over TLS (HSTS over plain HTTP is ignored by
 * browsers and would be wrong on a development server on http://127.0.0.1).
 */
type Options = NonNullable<Parameters<typeof secureHeaders>[0]>;

const common: Options = {
  xFrameOptions: 'DENY',
  referrerPolicy: 'no-referrer',
  permissionsPolicy: { camera: [], microphone: [], geolocation: [], payment: [], usb: [] },
};
const noFraming = { frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'self'"] };

const POLICIES = {
  dashboard: { defaultSrc: ["'self'"], objectSrc: ["'none'"], ...noFraming },
  docs: { defaultSrc: ["'none'"], styleSrc: [NONCE], ...noFraming },
  inert: { defaultSrc: ["'none'"], ...noFraming },
} satisfies Record<string, Options['contentSecurityPolicy']>;
type Kind = keyof typeof POLICIES;

const HSTS = 'max-age=31536000; includeSubDomains';
const handlers = Object.fromEntries(
  Object.entries(POLICIES).map(([kind, contentSecurityPolicy]) => [
    kind,
    {
      plain: secureHeaders({ ...common, contentSecurityPolicy, strictTransportSecurity: false }),
      tls: secureHeaders({ ...common, contentSecurityPolicy, strictTransportSecurity: HSTS }),
    },
  ]),
) as Record<Kind, { plain: MiddlewareHandler; tls: MiddlewareHandler }>;

const kindOf = (path: string): Kind =>
  path === '/' || path === '/app' || path.startsWith('/app/')
    ? 'dashboard'
    : path === '/api/docs'
      ? 'docs'
      : 'inert';

export const securityHeaders = createMiddleware<GatewayEnv>((c, next) => {
  const handler = handlers[kindOf(c.req.path)];
  return (overTls(c) ? handler.tls : handler.plain)(c, next);
});
