import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AccountStore, User } from './auth/accounts.ts';
import type { TokenService } from './auth/tokens.ts';
import type { GatewayConfig } from './config.ts';
import type { RateLimiter } from './middleware/rate-limit.ts';

/** What every route can reach: built once at start-up and shared. */
export interface GatewayDeps {
  config: GatewayConfig;
  redis: Redis;
  key: (...parts: string[]) => string;
  accounts: AccountStore;
  tokens: TokenService;
  limiter: RateLimiter;
  log: Logger;
}

export interface GatewayEnv {
  Variables: {
    requestId: string;
    deps: GatewayDeps;
    /** Set by the auth middleware on every authenticated route. */
    user: User;
  };
}
