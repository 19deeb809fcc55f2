import type { Redis } from 'ioredis';

/**
 * Token bucket kept in one Redis hash per provider, so every enrich instance draws from the same
 * allowance. The script runs atomically and reads the clock from Redis itself (TIME), so instances with
 * skewed clocks still agree. It returns 0 when a token was taken, else the milliseconds until one will
 * be available (nothing is taken then).
 */
const TAKE_TOKEN = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
`;

export interface RateLimit {
  /** Calls per second allowed across all instances. */
  perSecond: number;
  /** Calls that may go out at once after an idle period. */
  burst: number;
}

export type Acquired = { ok: true; waitedMs: number } | { ok: false; waitMs: number };

/** One token bucket per provider: tryTake takes a token (0) or says how many ms until one is free. */
export interface TokenBuckets {
  tryTake(bucket: string, limit: RateLimit): Promise<number>;
}

type WithTakeToken = { leedrushTakeToken(key: string, rate: string, burst: string): Promise<number> };

/** The services' buckets: in Redis, so every instance draws from the same allowance. */
export class RedisTokenBuckets implements TokenBuckets {
  readonly #redis: WithTakeToken;

  constructor(
    redis: Redis,
    private readonly key: (...parts: string[]) => string,
  ) {
    // defineCommand sends the script once and then calls it by its SHA.
    redis.defineCommand('leedrushTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN });
    this.#redis = redis as unknown as WithTakeToken;
  }

  async tryTake(bucket: string, limit: RateLimit): Promise<number> {
    const wait = await this.#redis.leedrushTakeToken(
      this.key('enrich', 'ratelimit', bucket),
      String(limit.perSecond),
      String(Math.max(1, limit.burst)),
    );
    return Number(wait);
  }
}

/** Embedded mode's buckets: the same rule as TAKE_TOKEN, for the one process that calls. */
export class MemoryTokenBuckets implements TokenBuckets {
  readonly #state = new Map<string, { tokens: number; ts: number }>();

  async tryTake(bucket: string, limit: RateLimit): Promise<number> {
    const burst = Math.max(1, limit.burst);
    const now = Date.now();
    const state = this.#state.get(bucket) ?? { tokens: burst, ts: now };
    state.tokens = Math.min(burst, state.tokens + ((now - state.ts) * limit.perSecond) / 1000);
    state.ts = now;
    this.#state.set(bucket, state);
    if (state.tokens >= 1) {
      state.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - state.tokens) * 1000) / limit.perSecond);
  }
}

/** Per-provider rate limit over shared buckets (Redis) or this process's (`redis` null: embedded mode). */
export class RateLimiter {
  readonly #buckets: TokenBuckets;

  constructor(redis: Redis | null, key: (...parts: string[]) => string) {
    this.#buckets = redis ? new RedisTokenBuckets(redis, key) : new MemoryTokenBuckets();
  }

  /**
   * Waits for a token for at most `maxWaitMs`. Gives up early (without sleeping) when the bucket says
   * the wait would exceed the budget, so a caller never sleeps for a token it cannot use.
   */
  async take(bucket: string, limit: RateLimit, maxWaitMs: number, signal?: AbortSignal): Promise<Acquired> {
    let waited = 0;
    for (;;) {
      const wait = await this.#buckets.tryTake(bucket, limit);
      if (wait === 0) return { ok: true, waitedMs: waited };
      if (waited + wait > maxWaitMs || signal?.aborted) return { ok: false, waitMs: wait };
      await sleep(wait);
      waited += wait;
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
