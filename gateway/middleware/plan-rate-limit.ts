import { createMiddleware } from 'hono/factory';
import type { GatewayEnv } from '../env.ts';
import { problem } from '../errors.ts';
import { PLANS } from '../plans.ts';

/** Requests per minute per account, by plan (API.md). Enterprise is unlimited and skips Redis. */
export const planRateLimit = createMiddleware<GatewayEnv>(async (c, next) => {
  const user = c.var.user;
  const limit = PLANS[user.plan_id].requestsPerMinute;
  if (limit === null) return next();
  const { limiter, key } = c.var.deps;
  const decision = await limiter.take(key('rate', user.account_id), limit);
  const headers = {
    'x-ratelimit-limit': String(decision.limit),
    'x-ratelimit-remaining': String(decision.remaining),
    'x-ratelimit-reset': String(decision.resetSeconds),
  };
  if (!decision.allowed) {
    throw problem(429, `rate limit of ${limit} requests per minute exceeded`, {
      ...headers,
      'retry-after': String(decision.retryAfterSeconds),
    });
  }
  await next();
  for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
});
