import { randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import type { Redis } from 'ioredis';
import type { EnrichedLead } from '../../schemas/generated.ts';
import { loadSchema } from '../../schemas/index.ts';

/** A finished batch's marker outlives any redelivery of its leads (a rebalance, a restarted instance). */
const DONE_TTL_S = 7 * 86_400;
/** Leads per HSET / HSCAN / HMGET page: bounds each Redis command well under its timeout. */
export const PAGE = 1_000;

// Compare-and-delete / compare-and-extend: only the holder's token may release or renew a lock.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
// KEYS: leads hash, open index. ARGV: batch id, then lead ids. Removes a resolved window's leads; the
// batch leaves the index only if nothing arrived meanwhile (else the sweep would never see that lead).
const REMOVE_WINDOW = `
for i = 2, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[1]) end
return redis.call('HLEN', KEYS[1])
`;

const leadType = loadSchema('EnrichedLead').type;

/**
 * A stored lead is its EnrichedLead Avro. Values an older instance wrote (during a rolling deploy) are
 * the byte 0x01 then that Avro deflated; they stay readable, and bare Avro can never start with 0x01:
 * it starts with lead_id's length, a zigzag varint, and 0x01 would be a negative length. Deflate halved
 * the open batch in Redis but was 13.6 of dedupe's 78.5 CPU-s in a profiled 100,000-lead run (deflate
 * on store, inflate on emit); Redis holds the bare batch (about 1 KB a lead) well within its memory.
 */
const DEFLATED = 1;

export function encodeStoredLead(lead: EnrichedLead): Buffer {
  return leadType.toBuffer(lead);
}

export function decodeStoredLead(value: Buffer): EnrichedLead {
  const avro = value[0] === DEFLATED ? inflateRawSync(value.subarray(1)) : value;
  return leadType.fromBuffer(avro) as EnrichedLead;
}

/**
 * The open batches of the dedupe phase, in Redis, so any instance (or a restarted one) can finish a
 * batch whose leads another consumed:
 *
 *   <ns>:dedupe-open:<batch>     hash  lead_id -> EnrichedLead (encodeStoredLead): the batch's set of leads
 *   <ns>:dedupe-open-index       zset  batch id -> time its last lead was stored (ms): what the sweep walks
 *   <ns>:dedupe-done:<batch>     flag  the batch was finalized (7 days): late redeliveries are dropped
 *   <ns>:dedupe-lock:<batch>     lock  (SET NX PX, token) one finalizer per batch across instances
 *
 * Storing is idempotent (a redelivered lead overwrites itself), so the count of stored leads is the
 * number of distinct leads that arrived. Every key expires: the lead hash and the index `keyTtlMs`
 * after their last write, so a batch nobody finishes or expires leaves nothing behind for ever.
 */
export class OpenBatches {
  constructor(
    private readonly redis: Redis,
    private readonly ns: (...parts: string[]) => string,
    private readonly keyTtlMs: number,
  ) {}

  private leadsKey = (batchId: string) => this.ns('dedupe-open', batchId);
  private doneKey = (batchId: string) => this.ns('dedupe-done', batchId);
  private lockKey = (batchId: string) => this.ns('dedupe-lock', batchId);
  private get indexKey() {
    return this.ns('dedupe-open-index');
  }

  /** Of these batches, the ones already finalized: their leads are redeliveries of leads they included. */
  async done(batchIds: string[]): Promise<Set<string>> {
    if (batchIds.length === 0) return new Set();
    const flags = await this.redis.mget(...batchIds.map(this.doneKey));
    return new Set(batchIds.filter((_, i) => flags[i] !== null));
  }

  /** Stores leads of one batch; returns the number of distinct leads the batch holds now. */
  async store(batchId: string, leads: EnrichedLead[], now = Date.now()): Promise<number> {
    const key = this.leadsKey(batchId);
    const pipe = this.redis.pipeline();
    for (let start = 0; start < leads.length; start += PAGE) {
      const fields: Array<string | Buffer> = [];
      for (const lead of leads.slice(start, start + PAGE))
        fields.push(lead.meta.lead_id, encodeStoredLead(lead));
      pipe.hset(key, ...fields);
    }
    pipe
      .pexpire(key, this.keyTtlMs)
      .zadd(this.indexKey, String(now), batchId)
      .pexpire(this.indexKey, this.keyTtlMs)
      .hlen(key);
    const replies = (await pipe.exec()) ?? [];
    for (const [err] of replies) if (err) throw err;
    return replies[replies.length - 1]?.[1] as number;
  }

  /** Distinct leads stored for the batch. */
  count(batchId: string): Promise<number> {
    return this.redis.hlen(this.leadsKey(batchId));
  }

  /** Lead ids stored for the batch (for small batches: stream windows). */
  ids(batchId: string): Promise<string[]> {
    return this.redis.hkeys(this.leadsKey(batchId));
  }

  /** Every stored lead of the batch, one page at a time: never the whole batch in memory. */
  async scan(batchId: string, onPage: (leads: EnrichedLead[]) => void): Promise<void> {
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscanBuffer(this.leadsKey(batchId), cursor, 'COUNT', PAGE);
      const leads: EnrichedLead[] = [];
      for (let i = 1; i < flat.length; i += 2) leads.push(decodeStoredLead(flat[i] as Buffer));
      onPage(leads);
      cursor = next.toString();
    } while (cursor !== '0');
  }

  /** The stored leads with these ids (at most a page or two: what one emitted page needs). */
  async get(batchId: string, leadIds: string[]): Promise<Map<string, EnrichedLead>> {
    const out = new Map<string, EnrichedLead>();
    for (let start = 0; start < leadIds.length; start += PAGE) {
      const ids = leadIds.slice(start, start + PAGE);
      const values = await this.redis.hmgetBuffer(this.leadsKey(batchId), ...ids);
      values.forEach((v, i) => {
        if (v) out.set(ids[i] as string, decodeStoredLead(v));
      });
    }
    return out;
  }

  /** Every open batch with the time its last lead was stored (ms), least recently fed first. */
  async openBatches(): Promise<Array<{ batchId: string; lastStoredAt: number }>> {
    const flat = await this.redis.zrange(this.indexKey, '0', '-1', 'WITHSCORES');
    const out: Array<{ batchId: string; lastStoredAt: number }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2)
      out.push({ batchId: flat[i] as string, lastStoredAt: Number(flat[i + 1]) });
    return out;
  }

  /** When the batch's last lead was stored (ms); null when it is not open. */
  async lastStoredAt(batchId: string): Promise<number | null> {
    const score = await this.redis.zscore(this.indexKey, batchId);
    return score === null ? null : Number(score);
  }

  async isDone(batchId: string): Promise<boolean> {
    return (await this.redis.exists(this.doneKey(batchId))) === 1;
  }

  /** Marks the batch finalized first, then drops its leads: a crash between the two leaves only garbage. */
  async close(batchId: string): Promise<void> {
    await this.redis.set(this.doneKey(batchId), '1', 'EX', DONE_TTL_S);
    await this.drop(batchId);
  }

  /**
   * Forgets the batch's leads (finalized, or expired by policy). UNLINK: Redis frees a hash of a million
   * leads in a background thread instead of blocking every client while it does.
   */
  async drop(batchId: string): Promise<void> {
    await this.redis.multi().unlink(this.leadsKey(batchId)).zrem(this.indexKey, batchId).exec();
  }

  /** Removes a resolved stream window's leads; leads stored since stay for the next window. */
  async removeWindow(batchId: string, leadIds: string[]): Promise<void> {
    for (let start = 0; start < leadIds.length; start += PAGE) {
      await this.redis.eval(
        REMOVE_WINDOW,
        2,
        this.leadsKey(batchId),
        this.indexKey,
        batchId,
        ...leadIds.slice(start, start + PAGE),
      );
    }
  }

  /**
   * Runs `fn` holding the batch's lock, renewed while it runs (a killed holder's lock lapses after
   * `ttlMs`); returns undefined without running it when another instance holds the lock.
   */
  async withLock<T>(batchId: string, ttlMs: number, fn: () => Promise<T>): Promise<T | undefined> {
    const key = this.lockKey(batchId);
    const token = randomBytes(8).toString('hex');
    if ((await this.redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') return undefined;
    const renew = setInterval(
      () => void this.redis.eval(RENEW, 1, key, token, ttlMs).catch(() => {}),
      Math.max(1, Math.floor(ttlMs / 3)),
    );
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      await this.redis.eval(RELEASE, 1, key, token).catch(() => {});
    }
  }
}
