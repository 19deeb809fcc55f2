import pino from 'pino';
import { createRedis, keyspace } from '../services/lib/redis.ts';
import { AccountStore } from './auth/accounts.ts';
import { TokenService } from './auth/tokens.ts';
import type { GatewayConfig } from './config.ts';
import type { GatewayDeps } from './env.ts';
import { RateLimiter } from './middleware/rate-limit.ts';

export function createDeps(config: GatewayConfig): GatewayDeps {
  const redis = createRedis(config.REDIS_URL, 'gateway');
  const key = keyspace(config.LEEDRUSH_PREFIX);
  return {
    config,
    redis,
    key,
    accounts: new AccountStore(redis, key),
    tokens: new TokenService(config.JWT_SECRET, config.JWT_TTL_SECONDS),
    limiter: new RateLimiter(redis),
    log: pino({ name: 'gateway', level: config.LOG_LEVEL }),
  };
}
