import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { EnrichedLead } from '../../schemas/generated.ts';
import { blockingKeys } from './blocking.ts';
import { prepare } from './compare.ts';
import { type MatchRecord, toMatchRecord } from './match-record.ts';
import { isHistoryOf } from './resolve.ts';

export interface HistoryIndexOptions {
  /** Entries older than this are ignored at lookup and deleted on the next write. */
  ttlMs: number;
  /** Most recent lead ids kept per blocking key: a key shared by thousands of leads stops growing. */
  keyCap: number;
  /** Most recent leads kept per account; the oldest are evicted first. */
  accountCap: number;
  /** Every Redis round trip gives up after this long. */
  timeoutMs: number;
  /** Commands sent per pipeline, so a 100,000-lead batch never builds one giant request. */
  chunk: number;
}

export const DEFAULT_HISTORY_OPTIONS: HistoryIndexOptions = {
  ttlMs: 90 * 86_400_000,
  keyCap: 32,
  accountCap: 500_000,
  timeoutMs: 5_000,
  chunk: 2_000,
};

/** A MatchRecord as stored: plus when it was indexed, so expiry is exact even between cleanups. */
interface Stored extends MatchRecord {
  at: number;
}

// KEYS: ids zset, records hash. ARGV: expiry cutoff (ms), account cap. Removes expired entries, then the
// oldest beyond the cap; returns how many went. One script, so a concurrent lookup never sees an id
// whose record is half deleted.
const EVICT = `
local gone = 0
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
for i = 1, #expired, 500 do
  local part = {unpack(expired, i, math.min(i + 499, #expired))}
  redis.call('HDEL', KEYS[2], unpack(part))
  redis.call('ZREM', KEYS[1], unpack(part))
end
gone = gone + #expired
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[2])
if over > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[1], over)
  for i = 1, #popped, 2 do redis.call('HDEL', KEYS[2], popped[i]) end
  gone = gone + over
end
return gone
`;

/**
 * The account's dedup history in Redis: blocking key -> recent lead ids, lead id -> compact comparison
 * fields. Every key of an account shares one hash tag, so the index also works on Redis Cluster and
 * the eviction script may touch all of them. Blocking keys are hashed: they hold emails and names, and
 * hashing bounds the key length.
 *
 *   <ns>:dedup:{<account>}:ids        zset  lead_id -> indexed at (ms)
 *   <ns>:dedup:{<account>}:rec        hash  lead_id -> JSON MatchRecord + at
 *   <ns>:dedup:{<account>}:k:<hash>   zset  lead_id -> indexed at (ms), newest keyCap kept
 *
 * All of them expire ttlMs after the account's last write, so an idle account leaves nothing behind.
 */
export class HistoryIndex {
  constructor(
    private readonly redis: Redis,
    private readonly ns: (...parts: string[]) => string,
    private readonly options: HistoryIndexOptions = DEFAULT_HISTORY_OPTIONS,
  ) {}

  private key(accountId: string, ...parts: string[]): string {
    return this.ns('dedup', `{${accountId}}`, ...parts);
  }

  private blockKey(accountId: string, blocking: string): string {
    return this.key(accountId, 'k', createHash('sha1').update(blocking).digest('base64url').slice(0, 16));
  }

  /** The historical records that share a blocking key with any of these leads (not the leads themselves). */
  async candidatesFor(accountId: string, leads: EnrichedLead[], now = Date.now()): Promise<MatchRecord[]> {
    const keys = new Set<string>();
    for (const lead of leads) for (const k of blockingKeys(prepare(toMatchRecord(lead)))) keys.add(k);
    const found = await this.lookup(accountId, [...keys], now);
    return found.filter(isHistoryOf(leads));
  }

  /** Records indexed under any of the blocking keys and not yet expired. */
  async lookup(accountId: string, blocking: string[], now = Date.now()): Promise<MatchRecord[]> {
    const cutoff = now - this.options.ttlMs;
    const ids = new Set<string>();
    for (let i = 0; i < blocking.length; i += this.options.chunk) {
      const pipe = this.redis.pipeline();
      for (const b of blocking.slice(i, i + this.options.chunk)) {
        pipe.zrevrangebyscore(this.blockKey(accountId, b), '+inf', cutoff, 'LIMIT', 0, this.options.keyCap);
      }
      for (const [err, members] of await this.timed(pipe.exec())) {
        if (err) throw err;
        for (const id of members as string[]) ids.add(id);
      }
    }
    const list = [...ids];
    const out: MatchRecord[] = [];
    for (let i = 0; i < list.length; i += this.options.chunk) {
      const values = await this.timed(
        this.redis.hmget(this.key(accountId, 'rec'), ...list.slice(i, i + this.options.chunk)),
      );
      for (const json of values) {
        if (!json) continue; // evicted since the key listed it
        const { at, ...record } = JSON.parse(json) as Stored;
        if (at >= cutoff) out.push(record);
      }
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * Indexes a resolved batch's leads (each pointing at its survivor). Idempotent: re-adding an entry
   * overwrites it, so a batch finalized twice after a crash leaves the same index.
   */
  async add(accountId: string, entries: MatchRecord[], now = Date.now()): Promise<void> {
    const { ttlMs, keyCap, accountCap, chunk } = this.options;
    const ids = this.key(accountId, 'ids');
    const rec = this.key(accountId, 'rec');
    for (let i = 0; i < entries.length; i += chunk) {
      const pipe = this.redis.pipeline();
      for (const entry of entries.slice(i, i + chunk)) {
        const stored: Stored = { ...entry, at: now };
        pipe.zadd(ids, now, entry.id);
        pipe.hset(rec, entry.id, JSON.stringify(stored));
        for (const b of blockingKeys(prepare(entry))) {
          const k = this.blockKey(accountId, b);
          pipe.zadd(k, now, entry.id);
          pipe.zremrangebyrank(k, 0, -(keyCap + 1));
          pipe.zremrangebyscore(k, '-inf', `(${now - ttlMs}`);
          pipe.pexpire(k, ttlMs);
        }
      }
      pipe.pexpire(ids, ttlMs);
      pipe.pexpire(rec, ttlMs);
      for (const [err] of await this.timed(pipe.exec())) if (err) throw err;
    }
    await this.timed(this.redis.eval(EVICT, 2, ids, rec, now - ttlMs, accountCap));
  }

  /** Number of leads the account's index holds. */
  async size(accountId: string): Promise<number> {
    return this.timed(this.redis.zcard(this.key(accountId, 'ids')));
  }

  private async timed<T>(promise: Promise<T | null>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`dedup history: Redis did not answer in ${this.options.timeoutMs} ms`)),
        this.options.timeoutMs,
      );
    });
    try {
      const value = await Promise.race([promise, timeout]);
      if (value === null) throw new Error('dedup history: Redis pipeline was discarded');
      return value;
    } finally {
      clearTimeout(timer);
    }
  }
}
