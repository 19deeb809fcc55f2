import { createMiddleware } from 'hono/factory';
import type { GatewayEnv } from '../env.ts';
import { problem } from '../errors.ts';

/**
 * Bearer JWT → the user. Tokens of deleted users fail too: the user is looked up on every request,
 * through a cache of AUTH_USER_CACHE_MS (a deletion through another instance is seen within it).
 */
export const requireUser = createMiddleware<GatewayEnv>(async (c, next) => {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) throw problem(401, 'missing Bearer token', { 'www-authenticate': 'Bearer' });
  const { tokens, accounts } = c.var.deps;
  const claims = await tokens.verify(match[1]);
  const user = claims && (await accounts.recentById(claims.userId));
  if (!claims || !user || user.account_id !== claims.accountId) {
    throw problem(401, 'invalid or expired token', { 'www-authenticate': 'Bearer error="invalid_token"' });
  }
  c.set('user', user);
  await next();
});
