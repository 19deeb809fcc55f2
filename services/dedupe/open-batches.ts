import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { EnrichedLead } from '../../schemas/generated.ts';
import { loadSchema } from '../../schemas/index.ts';

/** A finished batch's marker outlives any redelivery of its leads (a rebalance, a restarted instance). */
const DONE_TTL_S = 7 * 86_400;
/** Leads per HSET / HSCAN page: bounds each Redis command well under its timeout. */
const PAGE = 1_000;

// Compare-and-delete / compare-and-extend: only the holder's token may release or renew a lock.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

const leadType = loadSchema('EnrichedLead').type;

/**
 * The open file/API batches of the dedupe phase, in Redis, so any instance (or a restarted one) can
 * finish a batch whose leads another consumed:
 *
 *   <ns>:dedupe-open:<batch>     hash  lead_id -> EnrichedLead (Avro binary): the set batch-state.ts keeps
 *   <ns>:dedupe-open-batches     set   batch ids with an open hash: what the periodic check walks
 *   <ns>:dedupe-done:<batch>     flag  the batch was finalized (7 days): late redeliveries are dropped
 *   <ns>:dedupe-lock:<batch>     lock  (SET NX PX, token) one finalizer per batch across instances
 *
 * Storing is idempotent (a redelivered lead overwrites itself), so the count of stored leads is the
 * number of distinct leads that arrived.
 */
export class OpenBatches {
  constructor(
    private readonly redis: Redis,
    private readonly ns: (...parts: string[]) => string,
  ) {}

  private leadsKey = (batchId: string) => this.ns('dedupe-open', batchId);
  private doneKey = (batchId: string) => this.ns('dedupe-done', batchId);
  private lockKey = (batchId: string) => this.ns('dedupe-lock', batchId);
  private get indexKey() {
    return this.ns('dedupe-open-batches');
  }

  /**
   * Stores leads (any batches); returns the ids of the batches they went to. Leads of an already
   * finalized batch are redeliveries of leads it included: they are skipped and their batch not returned.
   */
  async store(leads: EnrichedLead[]): Promise<{ stored: Set<string>; late: number }> {
    const byBatch = new Map<string, EnrichedLead[]>();
    for (const lead of leads) {
      const list = byBatch.get(lead.meta.batch_id);
      if (list) list.push(lead);
      else byBatch.set(lead.meta.batch_id, [lead]);
    }
    const ids = [...byBatch.keys()];
    const done = ids.length ? await this.redis.mget(...ids.map(this.doneKey)) : [];
    const stored = new Set<string>();
    let late = 0;
    const pipe = this.redis.pipeline();
    ids.forEach((batchId, i) => {
      const batchLeads = byBatch.get(batchId) as EnrichedLead[];
      if (done[i] !== null) {
        late += batchLeads.length;
        return;
      }
      for (let start = 0; start < batchLeads.length; start += PAGE) {
        const fields: Array<string | Buffer> = [];
        for (const lead of batchLeads.slice(start, start + PAGE))
          fields.push(lead.meta.lead_id, leadType.toBuffer(lead));
        pipe.hset(this.leadsKey(batchId), ...fields);
      }
      pipe.sadd(this.indexKey, batchId);
      stored.add(batchId);
    });
    if (stored.size) for (const [err] of (await pipe.exec()) ?? []) if (err) throw err;
    return { stored, late };
  }

  /** Distinct leads stored for the batch. */
  count(batchId: string): Promise<number> {
    return this.redis.hlen(this.leadsKey(batchId));
  }

  /** Every stored lead of the batch, page by page. */
  async load(batchId: string): Promise<EnrichedLead[]> {
    const leads = new Map<string, EnrichedLead>();
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscanBuffer(this.leadsKey(batchId), cursor, 'COUNT', PAGE);
      for (let i = 0; i + 1 < flat.length; i += 2)
        leads.set((flat[i] as Buffer).toString(), leadType.fromBuffer(flat[i + 1] as Buffer) as EnrichedLead);
      cursor = next.toString();
    } while (cursor !== '0');
    return [...leads.values()];
  }

  openBatchIds(): Promise<string[]> {
    return this.redis.smembers(this.indexKey);
  }

  async isDone(batchId: string): Promise<boolean> {
    return (await this.redis.exists(this.doneKey(batchId))) === 1;
  }

  /** Marks the batch finalized first, then drops its leads: a crash between the two leaves only garbage. */
  async close(batchId: string): Promise<void> {
    await this.redis.set(this.doneKey(batchId), '1', 'EX', DONE_TTL_S);
    await this.redis.multi().del(this.leadsKey(batchId)).srem(this.indexKey, batchId).exec();
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
