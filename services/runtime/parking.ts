import type { Redis } from 'ioredis';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

/**
 * Where the meter parks the leads it could not charge (balance 0), per account, in Redis (AOF on): the
 * original message (key, value bytes, headers) and its position, so re-admission sends exactly what was
 * consumed and the lead keeps its identity. Why Redis and not a Kafka topic: re-admission is per account
 * and must take the oldest first; a topic shared by every account could not be read per account, and a
 * topic per account would not scale with tenants. The parked set is bounded by the account's open
 * batches (concurrent batches × max rows of its plan); stream batches (direct producers) are not.
 *
 * Keys: parked:<acc> (list of lead ids, oldest first), parked:<acc>:msg (hash lead id → message),
 * parked:<acc>:claimed (hash: messages taken for re-admission, not yet confirmed sent), parked:<acc>:batches
 * (hash batch id → leads still parked), parked-accounts (set: accounts with anything parked or claimed).
 *
 * Every step is idempotent: a lead parked twice (a redelivered chunk) is stored once; a claim whose
 * sender died is sent again by the next lease holder (a duplicate on the topic, charged once by the
 * ledger's lead id, counted once by the tracker).
 */

/** A parked message as stored. */
export interface ParkedMessage {
  leadId: string;
  batchId: string;
  message: Message;
}

/** Header naming where a re-admitted message was first consumed (`<partition>:<offset>`). */
export const ORIGIN_HEADER = 'leedrush-origin';
/** Header on a re-admitted message: charge it even while the account still has leads parked. */
export const READMIT_HEADER = 'leedrush-readmit';

// KEYS: list, msg hash, batches hash, accounts set. ARGV: account, front ('1': head of the list, for
// re-admitted leads parked again), then (lead, batch, serialized) triples. Returns leads newly parked.
const PARK = `
local n = 0
for i = 3, #ARGV, 3 do
  if redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 2]) == 1 then
    if ARGV[2] == '1' then redis.call('LPUSH', KEYS[1], ARGV[i]) else redis.call('RPUSH', KEYS[1], ARGV[i]) end
    redis.call('HINCRBY', KEYS[3], ARGV[i + 1], 1)
    n = n + 1
  end
end
redis.call('SADD', KEYS[4], ARGV[1])
return n
`;

// KEYS: list, msg hash, claimed hash, batches hash. ARGV: how many. Moves the oldest parked messages to
// claimed; returns lead/serialized pairs.
const CLAIM = `
local ids = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #ids == 0 then return {} end
redis.call('LTRIM', KEYS[1], #ids, -1)
local out = {}
for _, id in ipairs(ids) do
  local v = redis.call('HGET', KEYS[2], id)
  if v then
    redis.call('HSET', KEYS[3], id, v)
    redis.call('HDEL', KEYS[2], id)
    local batch = cjson.decode(v).b
    if redis.call('HINCRBY', KEYS[4], batch, -1) <= 0 then redis.call('HDEL', KEYS[4], batch) end
    out[#out + 1] = id
    out[#out + 1] = v
  end
end
return out
`;

// KEYS: claimed hash, list, accounts set. ARGV: account, lead ids sent. Forgets them; an account with
// nothing parked or claimed leaves the set.
const CONFIRM = `
for i = 2, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
if redis.call('HLEN', KEYS[1]) == 0 and redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[1])
end
return 1
`;

interface Stored {
  b: string;
  k: string | null;
  v: string | null;
  h: Record<string, string[]>;
}

export class ParkingLot {
  constructor(
    private readonly redis: Redis,
    private readonly key: (...parts: string[]) => string,
  ) {}

  /** Which of these accounts have leads parked or being re-admitted (new leads must queue behind them). */
  async queued(accountIds: readonly string[]): Promise<Set<string>> {
    if (accountIds.length === 0) return new Set();
    const member = await this.redis.smismember(this.accountsKey(), ...accountIds);
    return new Set(accountIds.filter((_, i) => member[i] === 1));
  }

  /** Accounts with anything parked or claimed. */
  async accounts(): Promise<string[]> {
    return this.redis.smembers(this.accountsKey());
  }

  /**
   * Parks messages of one account, durably once this resolves (Redis AOF). `front`: ahead of what is
   * parked already (re-admitted leads that found the balance at 0 again keep their place).
   */
  async park(accountId: string, items: readonly ParkedMessage[], front = false): Promise<number> {
    if (items.length === 0) return 0;
    const ordered = front ? [...items].reverse() : items;
    const args = ordered.flatMap(({ leadId, batchId, message }) => [
      leadId,
      batchId,
      serialize(batchId, message),
    ]);
    return (await this.redis.eval(
      PARK,
      4,
      this.key('parked', accountId),
      this.key('parked', accountId, 'msg'),
      this.key('parked', accountId, 'batches'),
      this.accountsKey(),
      accountId,
      front ? '1' : '0',
      ...args,
    )) as number;
  }

  /** Takes up to `n` of the oldest parked messages for re-admission (confirm them once sent). */
  async claim(accountId: string, n: number): Promise<ParkedMessage[]> {
    const reply = (await this.redis.eval(
      CLAIM,
      4,
      this.key('parked', accountId),
      this.key('parked', accountId, 'msg'),
      this.key('parked', accountId, 'claimed'),
      this.key('parked', accountId, 'batches'),
      n,
    )) as string[];
    const messages: ParkedMessage[] = [];
    for (let i = 0; i < reply.length; i += 2)
      messages.push(deserialize(reply[i] as string, reply[i + 1] as string));
    return messages;
  }

  /** Which of these batches of the account still have leads parked (not yet claimed for re-admission). */
  async stillParked(accountId: string, batchIds: readonly string[]): Promise<Set<string>> {
    if (batchIds.length === 0) return new Set();
    const counts = await this.redis.hmget(this.key('parked', accountId, 'batches'), ...batchIds);
    return new Set(batchIds.filter((_, i) => Number(counts[i] ?? 0) > 0));
  }

  /** Messages claimed but never confirmed (their sender stopped): to send again. */
  async unconfirmed(accountId: string): Promise<ParkedMessage[]> {
    const claimed = await this.redis.hgetall(this.key('parked', accountId, 'claimed'));
    return Object.entries(claimed).map(([leadId, v]) => deserialize(leadId, v));
  }

  /** The claimed messages were sent (acknowledged by the broker): forget them. */
  async confirm(accountId: string, leadIds: readonly string[]): Promise<void> {
    await this.redis.eval(
      CONFIRM,
      3,
      this.key('parked', accountId, 'claimed'),
      this.key('parked', accountId),
      this.accountsKey(),
      accountId,
      ...leadIds,
    );
  }

  /** Leads parked now for the account (not counting those being re-admitted). */
  async count(accountId: string): Promise<number> {
    return this.redis.llen(this.key('parked', accountId));
  }

  /**
   * One re-admitter per account at a time, for `ms`: true when this holder got (or still holds) it.
   */
  async lease(accountId: string, holder: string, ms: number): Promise<boolean> {
    const k = this.key('parked', accountId, 'lease');
    if ((await this.redis.set(k, holder, 'PX', ms, 'NX')) === 'OK') return true;
    if ((await this.redis.get(k)) !== holder) return false;
    await this.redis.pexpire(k, ms);
    return true;
  }

  async release(accountId: string, holder: string): Promise<void> {
    const k = this.key('parked', accountId, 'lease');
    if ((await this.redis.get(k)) === holder) await this.redis.del(k);
  }

  private accountsKey(): string {
    return this.key('parked-accounts');
  }
}

/** The message to send back to the input topic: as consumed, plus where it was first consumed. */
export function parkedMessage(
  msg: KafkaMessage,
  partition: number,
  leadId: string,
  batchId: string,
): ParkedMessage {
  const headers: IHeaders = { ...(msg.headers ?? {}) };
  headers[ORIGIN_HEADER] ??= `${partition}:${msg.offset}`;
  headers[READMIT_HEADER] = '1';
  return { leadId, batchId, message: { key: msg.key, value: msg.value, headers } };
}

function serialize(batchId: string, m: Message): string {
  const h: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    if (value === undefined) continue;
    h[name] = (Array.isArray(value) ? value : [value]).map((v) => Buffer.from(v).toString('base64'));
  }
  const b64 = (v: Buffer | string | null | undefined) =>
    v === null || v === undefined ? null : Buffer.from(v).toString('base64');
  const stored: Stored = { b: batchId, k: b64(m.key), v: b64(m.value), h };
  return JSON.stringify(stored);
}

function deserialize(leadId: string, text: string): ParkedMessage {
  const s = JSON.parse(text) as Stored;
  const headers: IHeaders = {};
  for (const [name, values] of Object.entries(s.h)) {
    const buffers = values.map((v) => Buffer.from(v, 'base64'));
    headers[name] = buffers.length === 1 ? buffers[0] : buffers;
  }
  const buf = (v: string | null) => (v === null ? null : Buffer.from(v, 'base64'));
  return { leadId, batchId: s.b, message: { key: buf(s.k), value: buf(s.v), headers } };
}
