import type { Redis } from 'ioredis';
import { isHistoryOf } from './batch-index.ts';
import { blockingKeys } from './blocking.ts';
import { prepare } from './compare.ts';
import type { MatchRecord } from './match-record.ts';

export interface HistoryIndexOptions {
  /** Entries older than this are ignored at lookup and deleted on the next write. */
  ttlMs: number;
  /** Most recent lead ids kept per blocking key: a key shared by thousands of leads stops growing. */
  keyCap: number;
  /** Most recent leads kept per account; the oldest are evicted first. */
  accountCap: number;
  /** Every Redis round trip gives up after this long. */
  timeoutMs: number;
  /** Fields per HMGET and entries per add script, so a 100,000-lead batch never builds one giant request. */
  chunk: number;
  /** Distinct blocking keys looked up per page, each page a pipeline of `chunk`-field HMGETs. */
  keyPage: number;
  /** Most entries one eviction call removes (bounds the script's run time; the next write continues). */
  evictLimit: number;
}

export const DEFAULT_HISTORY_OPTIONS: HistoryIndexOptions = {
  ttlMs: 90 * 86_400_000,
  keyCap: 32,
  accountCap: 200_000,
  timeoutMs: 5_000,
  chunk: 500,
  keyPage: 50_000,
  evictLimit: 10_000,
};

/** A record to index; its blocking keys when the caller has them already (else computed). */
export interface HistoryEntry extends MatchRecord {
  keys?: string[];
}

/** A MatchRecord as stored: plus when it was indexed and its blocking keys (for eviction). */
interface Stored extends MatchRecord {
  at: number;
  keys: string[];
}

// KEYS: blocks hash, records hash, ids zset. ARGV: now, ttl ms, key cap, n entries, then n (id, JSON)
// pairs, then (blocking key, the chunk's ids under it, newest first, at most cap) pairs. Each key's value is its lead
// ids, newest first, space-separated, at most `cap`. One script per chunk: thousands of entries cost
// one round trip, and no reader sees half an entry. Multi-field HSET/ZADD/HMGET in slices of STEP
// pairs (Lua's unpack limit) rather than a call per entry and key: the calls were the cost.
const ADD = `
local STEP = 2000
local now, cap, n = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4])
local last = 4 + 2 * n
for i = 5, last, 2 * STEP do
  local stop = math.min(i + 2 * STEP - 1, last)
  redis.call('HSET', KEYS[2], unpack(ARGV, i, stop))
  local z = {}
  for j = i, stop, 2 do z[#z + 1] = now; z[#z + 1] = ARGV[j] end
  redis.call('ZADD', KEYS[3], unpack(z))
end
for k = last + 1, #ARGV, 2 * STEP do
  local stop = math.min(k + 2 * STEP - 1, #ARGV)
  local names = {}
  for j = k, stop, 2 do names[#names + 1] = ARGV[j] end
  local current = redis.call('HMGET', KEYS[1], unpack(names))
  local out = {}
  for idx, name in ipairs(names) do
    local fresh = ARGV[k + 2 * idx - 1]
    out[#out + 1] = name
    if not current[idx] then
      -- A new key (most are): the chunk's ids, capped by the caller, are the whole list.
      out[#out + 1] = fresh
    else
      local list, seen = {}, {}
      for id in string.gmatch(fresh, '%S+') do list[#list + 1] = id; seen[id] = true end
      for other in string.gmatch(current[idx], '%S+') do
        if #list >= cap then break end
        if not seen[other] then list[#list + 1] = other; seen[other] = true end
      end
      out[#out + 1] = table.concat(list, ' ')
    end
  end
  redis.call('HSET', KEYS[1], unpack(out))
end
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[2]) end
return 1
`;

// KEYS: blocks, records, ids. ARGV: expiry cutoff (ms), account cap, most entries to remove per call.
// Removes expired entries, then the oldest beyond the cap, each from its blocking keys too; returns how
// many went. The per-call limit bounds the script's run time; the next write continues.
const EVICT = `
local limit = tonumber(ARGV[3])
local function forget(ids)
  for _, id in ipairs(ids) do
    local json = redis.call('HGET', KEYS[2], id)
    if json then
      local ok, stored = pcall(cjson.decode, json)
      if ok and type(stored.keys) == 'table' then
        for _, k in ipairs(stored.keys) do
          local current = redis.call('HGET', KEYS[1], k)
          if current then
            local keep = {}
            for other in string.gmatch(current, '%S+') do
              if other ~= id then keep[#keep + 1] = other end
            end
            if #keep == 0 then redis.call('HDEL', KEYS[1], k) else redis.call('HSET', KEYS[1], k, table.concat(keep, ' ')) end
          end
        end
      end
      redis.call('HDEL', KEYS[2], id)
    end
    redis.call('ZREM', KEYS[3], id)
  end
  return #ids
end
local gone = forget(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[1], 'LIMIT', 0, limit))
local over = math.min(redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[2]), limit - gone)
if over > 0 then gone = gone + forget(redis.call('ZRANGE', KEYS[3], 0, over - 1)) end
return gone
`;

/**
 * The account's dedup history in Redis. Every key of an account shares one hash tag, so the index also
 * works on Redis Cluster and one script may touch all of them:
 *
 *   <ns>:dedup:{<account>}:blocks   hash  blocking key -> lead ids, newest first, at most keyCap
 *   <ns>:dedup:{<account>}:rec      hash  lead_id -> JSON MatchRecord + indexed-at + its blocking keys
 *   <ns>:dedup:{<account>}:ids      zset  lead_id -> indexed at (ms): the eviction order
 *
 * Hashes, not a key per blocking key: a lookup for a 100,000-lead batch is a few hundred HMGETs rather
 * than a million commands. Blocking keys are stored as they are: they hold nothing the records do not
 * (emails, phones, name codes), and hashing them cost more CPU than the whole lookup. Lead ids never
 * contain whitespace (they are generated), which the lists rely on.
 * The three keys expire ttlMs after the account's last write, so an idle account leaves nothing behind.
 */
export class HistoryIndex {
  constructor(
    private readonly redis: Redis,
    private readonly ns: (...parts: string[]) => string,
    private readonly options: HistoryIndexOptions = DEFAULT_HISTORY_OPTIONS,
  ) {}

  private key(accountId: string, part: 'blocks' | 'rec' | 'ids'): string {
    return this.ns('dedup', `{${accountId}}`, part);
  }

  /**
   * The historical records that share a blocking key with a batch (a BatchIndex: its keys and lead ids),
   * not the batch's own leads.
   */
  async candidatesFor(
    accountId: string,
    batch: { keys(): Iterable<string>; has(leadId: string): boolean },
    now = Date.now(),
  ): Promise<MatchRecord[]> {
    // An account's first batch has no history: skip sending every blocking key.
    if ((await this.size(accountId)) === 0) return [];
    const found = await this.lookup(accountId, batch.keys(), now);
    return found.filter(isHistoryOf(batch));
  }

  /**
   * Records indexed under any of the blocking keys and not yet expired. The keys are read a page at a
   * time: a batch of a million leads has millions of them, and never all at once in memory.
   */
  async lookup(accountId: string, blocking: Iterable<string>, now = Date.now()): Promise<MatchRecord[]> {
    const cutoff = now - this.options.ttlMs;
    const ids = new Set<string>();
    const page = new Set<string>();
    const readPage = async () => {
      for (const lists of await this.hmgetAll(this.key(accountId, 'blocks'), [...page])) {
        if (lists) for (const id of lists.split(' ')) ids.add(id);
      }
      page.clear();
    };
    for (const key of blocking) {
      page.add(key);
      if (page.size >= this.options.keyPage) await readPage();
    }
    await readPage();
    const out: MatchRecord[] = [];
    for (const json of await this.hmgetAll(this.key(accountId, 'rec'), [...ids])) {
      if (!json) continue; // evicted since the key listed it
      const { at, keys: _keys, ...record } = JSON.parse(json) as Stored;
      if (at >= cutoff) out.push(record);
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * Indexes a resolved batch's leads (each pointing at its survivor), then evicts what expired or
   * overflows. Idempotent: re-adding an entry overwrites it, so a batch finalized twice after a crash
   * leaves the same index.
   */
  async add(accountId: string, entries: Iterable<HistoryEntry>, now = Date.now()): Promise<void> {
    const { ttlMs, keyCap, accountCap, chunk } = this.options;
    const keys = [this.key(accountId, 'blocks'), this.key(accountId, 'rec'), this.key(accountId, 'ids')];
    for (const part of chunks(entries, chunk)) {
      const args: Array<string | number> = [now, ttlMs, keyCap, part.length];
      const idsUnder = new Map<string, string[]>();
      for (const entry of part) {
        const blocking = entry.keys ?? blockingKeys(prepare(entry));
        const stored: Stored = { ...entry, at: now, keys: blocking };
        args.push(entry.id, JSON.stringify(stored));
        for (const k of blocking) {
          const ids = idsUnder.get(k);
          if (ids) ids.push(entry.id);
          else idsUnder.set(k, [entry.id]);
        }
      }
      // Later entries are newer: they go first, as if added one by one; never more than the cap.
      for (const [k, ids] of idsUnder) args.push(k, ids.reverse().slice(0, keyCap).join(' '));
      await this.timed(this.redis.eval(ADD, keys.length, ...keys, ...args));
    }
    await this.timed(
      this.redis.eval(EVICT, keys.length, ...keys, now - ttlMs, accountCap, this.options.evictLimit),
    );
  }

  /** Number of leads the account's index holds. */
  async size(accountId: string): Promise<number> {
    return this.timed(this.redis.zcard(this.key(accountId, 'ids')));
  }

  /** HMGET in chunks, pipelined: one round trip per `chunk` fields, answers in field order. */
  private async hmgetAll(key: string, fields: string[]): Promise<Array<string | null>> {
    const out: Array<string | null> = [];
    const pipe = this.redis.pipeline();
    for (let i = 0; i < fields.length; i += this.options.chunk)
      pipe.hmget(key, ...fields.slice(i, i + this.options.chunk));
    if (fields.length === 0) return out;
    for (const [err, values] of await this.timed(pipe.exec())) {
      if (err) throw err;
      out.push(...(values as Array<string | null>));
    }
    return out;
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

/** The entries in arrays of `size`, taken from the iterable one array at a time. */
function* chunks<T>(items: Iterable<T>, size: number): IterableIterator<T[]> {
  let part: T[] = [];
  for (const item of items) {
    part.push(item);
    if (part.length === size) {
      yield part;
      part = [];
    }
  }
  if (part.length > 0) yield part;
}
