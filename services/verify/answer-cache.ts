import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

type Entry = { v: unknown; exp: number };

export type AnswerCacheOptions = {
  /** Prepended to every Redis key (`ld:verify:dns:` in production, see context.ts). */
  keyPrefix: string;
  microTtlS: number;
  microSize: number;
  now?: () => number;
};

/**
 * DNS answers in two levels: an in-process LRU in front of Redis, so a warm phase instance answers
 * most leads without a network round trip, while every instance shares what any of them resolved.
 * An entry never outlives the TTL it was stored with, in either level. Redis errors propagate: the
 * phase throws and the runtime retries the lead. Without Redis (embedded mode, one process) only the
 * in-process level is kept.
 */
export class AnswerCache {
  readonly stats = { microHits: 0, redisHits: 0, misses: 0 };
  private readonly micro: LRUCache<string, Entry>;
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis | null,
    private readonly options: AnswerCacheOptions,
  ) {
    this.micro = new LRUCache({ max: options.microSize });
    this.now = options.now ?? Date.now;
  }

  /** The in-process level alone: no I/O, so a warm lead costs no promise round trip. */
  getLocal<T>(key: string): T | undefined {
    const local = this.micro.get(key);
    if (!local || local.exp <= this.now()) return undefined;
    this.stats.microHits++;
    return local.v as T;
  }

  /** The shared level (Redis); a hit also warms the in-process level. */
  async getShared<T>(key: string): Promise<T | undefined> {
    const raw = this.redis ? await this.redis.get(this.redisKey(key)) : null;
    const now = this.now();
    const entry = raw === null ? undefined : parseEntry(raw);
    if (!entry || entry.exp <= now) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.redisHits++;
    this.remember(key, entry, now);
    return entry.v as T;
  }

  async set(key: string, value: unknown, ttlS: number): Promise<void> {
    if (ttlS <= 0) return;
    const now = this.now();
    const entry: Entry = { v: value, exp: now + ttlS * 1000 };
    await this.redis?.set(this.redisKey(key), JSON.stringify(entry), 'EX', ttlS);
    this.remember(key, entry, now);
  }

  /** Drops the in-process level only (a restarted instance, or a benchmark of the Redis level). */
  clearLocal(): void {
    this.micro.clear();
  }

  redisKey(key: string): string {
    return `${this.options.keyPrefix}${key}`;
  }

  private remember(key: string, entry: Entry, now: number): void {
    const ttlMs = Math.min(entry.exp - now, this.options.microTtlS * 1000);
    if (ttlMs > 0) this.micro.set(key, { v: entry.v, exp: now + ttlMs });
  }
}

/** A value someone else wrote under our key, or a half-written one, is a miss rather than a crash. */
function parseEntry(raw: string): Entry | undefined {
  try {
    const e = JSON.parse(raw) as Partial<Entry>;
    return typeof e.exp === 'number' && 'v' in e ? (e as Entry) : undefined;
  } catch {
    return undefined;
  }
}
