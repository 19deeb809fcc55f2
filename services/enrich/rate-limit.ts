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

type WithTakeToken = { leedrushTakeToken(key: string, rate: string, burst: string): Promise<number> };

/** Shared per-provider rate limit. */
export class RedisRateLimiter {
  readonly #redis: WithTakeToken;

  constructor(
    redis: Redis,
    private readonly key: (...parts: string[]) => string,
  ) {
    // defineCommand sends the script once and then calls it by its SHA.
    redis.defineCommand('leedrushTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN });
    this.#redis = redis as unknown as WithTakeToken;
  }

  /** Takes one token, or tells how long until one is free. */
  async tryTake(bucket: string, limit: RateLimit): Promise<number> {
    const wait = await this.#redis.leedrushTakeToken(
      this.key('enrich', 'ratelimit', bucket),
      String(limit.perSecond),
      String(Math.max(1, limit.burst)),
    );
    return Number(wait);
  }

  /**
   * Waits for a token for at most `maxWaitMs`. Gives up early (without sleeping) when the bucket says
   * the wait would exceed the budget, so a caller never sleeps for a token it cannot use.
   */
  async take(bucket: string, limit: RateLimit, maxWaitMs: number, signal?: AbortSignal): Promise<Acquired> {
    let waited = 0;
    for (;;) {
      const wait = await this.tryTake(bucket, limit);
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
