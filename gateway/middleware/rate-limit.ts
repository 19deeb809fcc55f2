import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

/**
 * Sliding-window counter shared by every gateway instance: the previous fixed window's count is
 * weighted by how much of it still overlaps the sliding window, so a client cannot burst twice the
 * limit across a window boundary. One Lua call: atomic and one round trip.
 */
const SCRIPT = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local current_start = now - (now % window)
local elapsed = now - current_start
local cur = tonumber(redis.call('GET', KEYS[1] .. ':' .. current_start) or '0')
local prev = tonumber(redis.call('GET', KEYS[1] .. ':' .. (current_start - window)) or '0')
local weighted = prev * (window - elapsed) / window + cur
if weighted + 1 > limit then
  -- When does the weighted count next leave room for one request?
  local wait
  if cur + 1 > limit then
    wait = (window - elapsed) + math.ceil(window * math.max(0, 1 - (limit - 1) / cur))
  else
    wait = math.ceil(window * (1 - (limit - 1 - cur) / prev)) - elapsed
  end
  return {0, math.floor(weighted), math.max(wait, 1)}
end
local k = KEYS[1] .. ':' .. current_start
redis.call('INCR', k)
redis.call('PEXPIRE', k, window * 2)
return {1, math.floor(weighted + 1), 0}
`;

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until a denied request may be retried (0 when allowed). */
  retryAfterSeconds: number;
  /** Seconds until the current window ends. */
  resetSeconds: number;
}

type WithSlidingWindow = {
  leedrushSlidingWindow(key: string, limit: number, windowMs: number, nowMs: number): Promise<number[]>;
};

export class RateLimiter {
  readonly #redis: WithSlidingWindow;
  /**
   * Until when a key stays denied, by key and limit. A denial's wait is a lower bound for every
   * instance: requests elsewhere only add to the window, denied ones add nothing, so a request before
   * then would be denied by Redis too. A client hammering past its limit is answered from here; a
   * different limit (a plan change) asks Redis again.
   */
  readonly #deniedUntil = new LRUCache<string, number>({ max: 10_000 });

  constructor(
    redis: Redis,
    private readonly windowMs = 60_000,
  ) {
    // defineCommand sends the script once and then calls it by its SHA.
    redis.defineCommand('leedrushSlidingWindow', { numberOfKeys: 1, lua: SCRIPT });
    this.#redis = redis as unknown as WithSlidingWindow;
  }

  async take(key: string, limit: number, nowMs = Date.now()): Promise<RateDecision> {
    const held = `${limit}|${key}`;
    const until = this.#deniedUntil.get(held);
    if (until !== undefined && nowMs < until) return this.#decision(false, limit, 0, until - nowMs, nowMs);
    const [allowed, used, waitMs] = (await this.#redis.leedrushSlidingWindow(
      key,
      limit,
      this.windowMs,
      nowMs,
    )) as [number, number, number];
    if (allowed !== 1) this.#deniedUntil.set(held, nowMs + waitMs);
    return this.#decision(allowed === 1, limit, allowed === 1 ? Math.max(0, limit - used) : 0, waitMs, nowMs);
  }

  #decision(allowed: boolean, limit: number, remaining: number, waitMs: number, nowMs: number): RateDecision {
    return {
      allowed,
      limit,
      remaining,
      retryAfterSeconds: allowed ? 0 : Math.ceil(waitMs / 1000),
      resetSeconds: Math.ceil((this.windowMs - (nowMs % this.windowMs)) / 1000),
    };
  }
}
