import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Batch lifecycle and progress in Redis, shared by the gateway (creates, reads) and the sink (counts).
 *
 * Invariant: each row of a batch is counted once, whatever the redeliveries. A row that reaches a
 * terminal state sets its bit (file batches: row_index) or joins a set (stream batches: lead_id); only the
 * first arrival increments the counters, atomically in one Lua call with the completion check.
 */
export type BatchStatus = 'queued' | 'processing' | 'paused' | 'completed' | 'failed' | 'streaming';
export type TerminalOutcome = 'qualified' | 'rejected' | 'invalid' | 'duplicate' | 'failed';

export interface BatchRecord {
  batch_id: string;
  account_id: string;
  status: BatchStatus;
  filename: string;
  file_path: string;
  source: string;
  rows_total: number;
  rows_done: number;
  rows_qualified: number;
  rows_rejected: number;
  rows_invalid: number;
  rows_duplicate: number;
  /** Rows rejected in some phase (unreadable, missing data ...), as opposed to scored INVALID. */
  rows_errored: number;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  error_reason: string | null;
}

// KEYS: batch hash, done bitmap/set, active set of the account. ARGV: row key, kind (bit|set), outcome field, now iso.
const RECORD_TERMINAL = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {-1, 0, 0} end
local fresh
if ARGV[2] == 'bit' then
  fresh = redis.call('SETBIT', KEYS[2], tonumber(ARGV[1]), 1) == 0
else
  fresh = redis.call('SADD', KEYS[2], ARGV[1]) == 1
end
if not fresh then return {0, tonumber(redis.call('HGET', KEYS[1], 'rows_done')), 0} end
redis.call('HINCRBY', KEYS[1], ARGV[3], 1)
local done = redis.call('HINCRBY', KEYS[1], 'rows_done', 1)
if status == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'processing', 'started_at', ARGV[4])
  status = 'processing'
end
local total = tonumber(redis.call('HGET', KEYS[1], 'rows_total'))
if status ~= 'streaming' and status ~= 'completed' and status ~= 'failed' and done >= total then
  redis.call('HSET', KEYS[1], 'status', 'completed', 'completed_at', ARGV[4])
  redis.call('SREM', KEYS[3], redis.call('HGET', KEYS[1], 'batch_id'))
  return {1, done, 1}
end
return {1, done, 0}
`;

// KEYS: active set, batch hash, account index. ARGV: limit (-1 = none), batch id, score, then field/value pairs.
const CREATE_IF_ROOM = `
local limit = tonumber(ARGV[1])
if limit >= 0 then
  if redis.call('SCARD', KEYS[1]) >= limit then return 0 end
end
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
redis.call('ZADD', KEYS[3], tonumber(ARGV[3]), ARGV[2])
redis.call('SADD', KEYS[1], ARGV[2])
return 1
`;

export interface NewBatch {
  account_id: string;
  filename: string;
  file_path: string;
  source: string;
  rows_total: number;
}

export interface RecordResult {
  /** False when this row had already been counted (a redelivery). */
  fresh: boolean;
  rowsDone: number;
  /** True exactly once: for the row that completed the batch. */
  completedNow: boolean;
}

export function newBatchId(): string {
  return `batch_${randomBytes(6).toString('hex')}`;
}

export class BatchTracker {
  constructor(
    private readonly redis: Redis,
    private readonly key: (...parts: string[]) => string,
  ) {}

  /**
   * Creates a queued batch unless the account already runs `concurrentLimit` batches (null = no
   * limit); returns null then. Check and insert are one atomic step, so parallel requests cannot
   * both slip under the limit.
   */
  async create(
    input: NewBatch,
    concurrentLimit: number | null,
    now = new Date(),
  ): Promise<BatchRecord | null> {
    const batch: BatchRecord = {
      ...input,
      batch_id: newBatchId(),
      status: 'queued',
      rows_done: 0,
      rows_qualified: 0,
      rows_rejected: 0,
      rows_invalid: 0,
      rows_duplicate: 0,
      rows_errored: 0,
      created_at: now.toISOString(),
      started_at: null,
      completed_at: null,
      error_reason: null,
    };
    const fields = Object.entries(batch).flatMap(([k, v]) => (v === null ? [] : [k, String(v)]));
    const created = await this.redis.eval(
      CREATE_IF_ROOM,
      3,
      this.key('active', input.account_id),
      this.key('batch', batch.batch_id),
      this.key('batches', input.account_id),
      concurrentLimit ?? -1,
      batch.batch_id,
      now.getTime(),
      ...fields,
    );
    return created === 1 ? batch : null;
  }

  /** The batch, only if it belongs to the account: another tenant's id reads as absent. */
  async get(accountId: string, batchId: string): Promise<BatchRecord | null> {
    const batch = await this.getAny(batchId);
    return batch && batch.account_id === accountId ? batch : null;
  }

  async getAny(batchId: string): Promise<BatchRecord | null> {
    const h = await this.redis.hgetall(this.key('batch', batchId));
    return h.batch_id ? parseBatch(h) : null;
  }

  /** Every batch of the account, newest first. */
  async list(accountId: string): Promise<BatchRecord[]> {
    const ids = await this.redis.zrevrange(this.key('batches', accountId), 0, -1);
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.key('batch', id));
    const rows = (await pipeline.exec()) ?? [];
    return rows.flatMap(([, h]) =>
      h && (h as Record<string, string>).batch_id ? [parseBatch(h as Record<string, string>)] : [],
    );
  }

  async activeCount(accountId: string): Promise<number> {
    return this.redis.scard(this.key('active', accountId));
  }

  /** Counts one terminal row; `row` is the row index (file batches) or the lead id (stream batches). */
  async recordTerminal(
    batchId: string,
    accountId: string,
    row: number | string,
    outcome: TerminalOutcome,
    now = new Date(),
  ): Promise<RecordResult> {
    const bit = typeof row === 'number';
    const [state, done, completed] = (await this.redis.eval(
      RECORD_TERMINAL,
      3,
      this.key('batch', batchId),
      this.key('batch', batchId, 'done'),
      this.key('active', accountId),
      String(row),
      bit ? 'bit' : 'set',
      `rows_${outcome === 'failed' ? 'errored' : outcome}`,
      now.toISOString(),
    )) as [number, number, number];
    if (state === -1) throw new Error(`batch ${batchId} is unknown`);
    return { fresh: state === 1, rowsDone: done, completedNow: completed === 1 };
  }

  async fail(batchId: string, accountId: string, reason: string, now = new Date()): Promise<void> {
    await this.redis
      .multi()
      .hset(
        this.key('batch', batchId),
        'status',
        'failed',
        'error_reason',
        reason,
        'completed_at',
        now.toISOString(),
      )
      .srem(this.key('active', accountId), batchId)
      .exec();
  }
}

function parseBatch(h: Record<string, string>): BatchRecord {
  const n = (k: string) => Number(h[k] ?? 0);
  return {
    batch_id: h.batch_id ?? '',
    account_id: h.account_id ?? '',
    status: (h.status ?? 'queued') as BatchStatus,
    filename: h.filename ?? '',
    file_path: h.file_path ?? '',
    source: h.source ?? '',
    rows_total: n('rows_total'),
    rows_done: n('rows_done'),
    rows_qualified: n('rows_qualified'),
    rows_rejected: n('rows_rejected'),
    rows_invalid: n('rows_invalid'),
    rows_duplicate: n('rows_duplicate'),
    rows_errored: n('rows_errored'),
    created_at: h.created_at ?? '',
    started_at: h.started_at ?? null,
    completed_at: h.completed_at ?? null,
    error_reason: h.error_reason ?? null,
  };
}
