import type { Context } from 'hono';
import type { GatewayEnv } from './env.ts';

/**
 * What a request says about its client. Forwarded headers count only with GATEWAY_TRUST_PROXY (one
 * reverse proxy in front): the last X-Forwarded-For entry is the one that proxy appended, the entries
 * before it are whatever the client chose to send.
 */
const lastForwarded = (value: string | undefined) => value?.split(',').pop()?.trim() || undefined;

export function clientAddress(c: Context<GatewayEnv>): string {
  if (c.var.deps.config.GATEWAY_TRUST_PROXY) {
    const forwarded = lastForwarded(c.req.header('x-forwarded-for'));
    if (forwarded) return forwarded;
  }
  // The node adapter's bindings; app.request (tests) may pass the same shape, or none at all.
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

/** Whether the client reached us over TLS: directly (an https server) or through the trusted proxy. */
export function overTls(c: Context<GatewayEnv>): boolean {
  if (new URL(c.req.url).protocol === 'https:') return true;
  return (
    c.var.deps.config.GATEWAY_TRUST_PROXY && lastForwarded(c.req.header('x-forwarded-proto')) === 'https'
  );
}
