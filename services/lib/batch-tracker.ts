import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { LeadRejection } from '../../schemas/generated.ts';

/**
 * Batch lifecycle and progress in Redis, shared by the gateway (creates, reads) and the sink (counts).
 *
 * Invariant: each row of a batch is counted once, whatever the redeliveries. A row that reaches a
 * terminal state sets its bit (file rows: row_index) or joins a set (leads without a file row: lead_id);
 * only the first arrival increments the counters, atomically in one Lua call with the completion check.
 *
 * `revision` grows with every change of the record, so a copy written elsewhere (the ClickHouse
 * `batches` table, versioned by it) keeps the latest state whatever order concurrent writers finish in.
 * The account's `batches-rev` counter grows with every change of any of its batches' listed state
 * (create, start, rows counted, pause, resume, fail), so a reader can tell cheaply whether a list it
 * holds is current.
 *
 * `paused`: the credit meter parked some of the batch's leads (the account's balance is 0); rows keep
 * being counted while paused (leads admitted before the pause finish the pipeline), and the batch goes
 * back to the status it had (`paused_from`) when the meter re-admits its parked leads.
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
  revision: number;
  /** When the sink announced the final state (ClickHouse row, webhook event); null until then. */
  announced_at: string | null;
}

// KEYS: batch hash, done bitmap, done-id set, active set of the account, batch index of the account,
// batches revision of the account.
// ARGV: batch id, account id, now iso, now ms, open ('1': a missing batch opens as a stream batch),
// source, then one (kind, row, counter) triple per row: kind b = row index (bitmap), s = lead id (set).
// Returns {state, fresh rows, rows_done, completed now}; state -1 unknown batch, -2 another account's.
const RECORD_TERMINALS = `
local h = KEYS[1]
local status = redis.call('HGET', h, 'status')
if not status then
  if ARGV[5] ~= '1' then return {-1, 0, 0, 0} end
  redis.call('HSET', h, 'batch_id', ARGV[1], 'account_id', ARGV[2], 'status', 'streaming',
    'filename', '', 'file_path', '', 'source', ARGV[6], 'rows_total', 0, 'rows_done', 0,
    'rows_qualified', 0, 'rows_rejected', 0, 'rows_invalid', 0, 'rows_duplicate', 0, 'rows_errored', 0,
    'created_at', ARGV[3], 'started_at', ARGV[3], 'revision', 0)
  redis.call('ZADD', KEYS[5], tonumber(ARGV[4]), ARGV[1])
  redis.call('INCR', KEYS[6])
  status = 'streaming'
elseif redis.call('HGET', h, 'account_id') ~= ARGV[2] then
  return {-2, 0, 0, 0}
end
local counters = {}
local fresh = 0
for i = 7, #ARGV, 3 do
  local new
  if ARGV[i] == 'b' then
    new = redis.call('SETBIT', KEYS[2], tonumber(ARGV[i + 1]), 1) == 0
  else
    new = redis.call('SADD', KEYS[3], ARGV[i + 1]) == 1
  end
  if new then
    counters[ARGV[i + 2]] = (counters[ARGV[i + 2]] or 0) + 1
    fresh = fresh + 1
  end
end
if fresh == 0 then return {0, 0, tonumber(redis.call('HGET', h, 'rows_done')), 0} end
for field, n in pairs(counters) do redis.call('HINCRBY', h, field, n) end
local done = redis.call('HINCRBY', h, 'rows_done', fresh)
redis.call('HINCRBY', h, 'revision', 1)
redis.call('INCR', KEYS[6])
if status == 'streaming' or (status == 'paused' and redis.call('HGET', h, 'paused_from') == 'streaming') then
  -- An open-ended batch (also while paused): its total is what has arrived so far.
  redis.call('HINCRBY', h, 'rows_total', fresh)
  return {1, fresh, done, 0}
end
if status == 'queued' then
  redis.call('HSET', h, 'status', 'processing', 'started_at', ARGV[3])
  status = 'processing'
end
local total = tonumber(redis.call('HGET', h, 'rows_total'))
if status ~= 'completed' and status ~= 'failed' and done >= total then
  redis.call('HSET', h, 'status', 'completed', 'completed_at', ARGV[3])
  redis.call('SREM', KEYS[4], ARGV[1])
  return {1, fresh, done, 1}
end
return {1, fresh, done, 0}
`;

// KEYS: batch hash, batches revision of the account. ARGV: account id, now iso. Only a queued batch of
// that account starts.
const START = `
if redis.call('HGET', KEYS[1], 'account_id') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'processing', 'started_at', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'revision', 1)
redis.call('INCR', KEYS[2])
return 1
`;

// KEYS: batch hash, batches revision of the account. ARGV: account id. A batch still running (queued,
// processing, streaming) becomes paused, remembering the status it had. Returns 1 when it changed.
const PAUSE = `
if redis.call('HGET', KEYS[1], 'account_id') ~= ARGV[1] then return 0 end
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'processing' and status ~= 'streaming' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'paused', 'paused_from', status)
redis.call('HINCRBY', KEYS[1], 'revision', 1)
redis.call('INCR', KEYS[2])
return 1
`;

// KEYS: batch hash, active set, batches revision of the account. ARGV: account id, batch id, now iso.
// A paused batch goes back to the status it was paused from (a queued one to processing: its work has
// begun), or completes if every row was counted meanwhile. Returns 1 when it changed.
const RESUME = `
if redis.call('HGET', KEYS[1], 'account_id') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'status') ~= 'paused' then return 0 end
local back = redis.call('HGET', KEYS[1], 'paused_from') or 'processing'
if back == 'queued' then back = 'processing' end
local done = tonumber(redis.call('HGET', KEYS[1], 'rows_done') or '0')
local total = tonumber(redis.call('HGET', KEYS[1], 'rows_total') or '0')
if back == 'processing' and total > 0 and done >= total then
  redis.call('HSET', KEYS[1], 'status', 'completed', 'completed_at', ARGV[3])
  redis.call('SREM', KEYS[2], ARGV[2])
else
  redis.call('HSET', KEYS[1], 'status', back)
end
redis.call('HDEL', KEYS[1], 'paused_from')
redis.call('HINCRBY', KEYS[1], 'revision', 1)
redis.call('INCR', KEYS[3])
return 1
`;

// KEYS: batch hash, active set, batches revision of the account. ARGV: account id, batch id, reason, now iso.
const FAIL = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status or redis.call('HGET', KEYS[1], 'account_id') ~= ARGV[1] then return -1 end
if status == 'completed' or status == 'failed' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'failed', 'error_reason', ARGV[3], 'completed_at', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'revision', 1)
redis.call('SREM', KEYS[2], ARGV[2])
redis.call('INCR', KEYS[3])
return 1
`;

// KEYS: active set, batch hash, account index, batches revision of the account.
// ARGV: limit (-1 = none), batch id, score, then field/value pairs.
const CREATE_IF_ROOM = `
local limit = tonumber(ARGV[1])
if limit >= 0 then
  if redis.call('SCARD', KEYS[1]) >= limit then return 0 end
end
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
redis.call('ZADD', KEYS[3], tonumber(ARGV[3]), ARGV[2])
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('INCR', KEYS[4])
return 1
`;

// KEYS: batch index of the account, batches revision of the account. ARGV: batch key prefix, then the
// record's fields. Returns {revision, rows}: every listed batch's fields in one atomic read and one reply
// (a JSON string: one bulk reply to decode instead of a hash reply per batch), newest first; index
// entries whose hash is gone are skipped. The batch keys are derived from the index, so this needs a
// single Redis (not Cluster), as the rest.
const LIST = `
local ids = redis.call('ZREVRANGE', KEYS[1], 0, -1)
local out = {}
for _, id in ipairs(ids) do
  local values = redis.call('HMGET', ARGV[1] .. id, unpack(ARGV, 2))
  if values[1] then out[#out + 1] = values end
end
local revision = redis.call('GET', KEYS[2]) or '0'
if #out == 0 then return {revision, '[]'} end
return {revision, cjson.encode(out)}
`;

/** The hash fields of a BatchRecord, in the order LIST returns them. */
const RECORD_FIELDS = [
  'batch_id',
  'account_id',
  'status',
  'filename',
  'file_path',
  'source',
  'rows_total',
  'rows_done',
  'rows_qualified',
  'rows_rejected',
  'rows_invalid',
  'rows_duplicate',
  'rows_errored',
  'created_at',
  'started_at',
  'completed_at',
  'error_reason',
  'revision',
  'announced_at',
] as const satisfies readonly (keyof BatchRecord)[];

type WithList = {
  leedrushListBatches(index: string, revision: string, ...args: string[]): Promise<[string, string]>;
};

/** An account's batches and the `batches-rev` they were read at (one atomic read). */
export interface BatchListing {
  revision: number;
  /** Newest first. */
  batches: BatchRecord[];
}

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

/** A row of a batch that reached a terminal state: its counting identity and outcome. */
export interface TerminalRow {
  row: number | string;
  outcome: TerminalOutcome;
}

export interface RecordManyOptions {
  /** A batch the tracker does not know opens as a stream batch (status streaming) of the account. */
  openStream?: boolean;
  /** The `source` of a stream batch opened here. */
  source?: string;
}

export interface RecordManyResult {
  /** counted; unknown (no such batch, not opened); foreign (the batch belongs to another account). */
  state: 'counted' | 'unknown' | 'foreign';
  /** Rows counted for the first time; the rest were redeliveries. */
  fresh: number;
  rowsDone: number;
  /** True in exactly one call: the one that completed the batch. */
  completedNow: boolean;
}

/** Rows per Lua call: bounds how long one call holds Redis. */
const ROWS_PER_CALL = 2_000;

/**
 * The identity a row is counted by: its row index when its lead id is `<batch_id>:<row_index>` (a row of
 * an uploaded file, also when rejected), else the lead id (direct producers, stream batches).
 */
export function terminalRow(batchId: string, leadId: string, rowIndex: number | null): number | string {
  return rowIndex !== null &&
    Number.isInteger(rowIndex) &&
    rowIndex >= 0 &&
    leadId === `${batchId}:${rowIndex}`
    ? rowIndex
    : leadId;
}

/** `rows_failed` of the batch object: rejected in some phase + scored INVALID. */
export const rowsFailed = (b: BatchRecord): number => b.rows_errored + b.rows_invalid;

/** `quality_yield` of the batch object: qualified / total × 100, one decimal. */
export const qualityYield = (b: BatchRecord): number =>
  b.rows_total > 0 ? Math.round((b.rows_qualified / b.rows_total) * 1000) / 10 : 0;

/**
 * The signal that a batch failed as a whole (its file cannot be read): a LeadRejection on leads.failed
 * with this reason, phase `ingest`, no row, lead id `<batch_id>:batch` and the error reason as detail.
 * The sink turns it into status failed, the ClickHouse batch row and a `batch.failed` event.
 */
export const BATCH_FAILED_REASON = 'batch_failed';

export function batchFailure(
  batchId: string,
  accountId: string,
  errorReason: string,
  now = Date.now(),
): LeadRejection {
  return {
    lead_id: `${batchId}:batch`,
    account_id: accountId,
    batch_id: batchId,
    row_index: null,
    line_number: null,
    phase: 'ingest',
    reason: BATCH_FAILED_REASON,
    detail: errorReason,
    original: {},
    rejected_at: now,
  };
}

export const isBatchFailure = (r: LeadRejection): boolean =>
  r.reason === BATCH_FAILED_REASON && r.row_index === null;

export function newBatchId(): string {
  return `batch_${randomBytes(6).toString('hex')}`;
}

export class BatchTracker {
  readonly #listing: WithList;

  constructor(
    private readonly redis: Redis,
    private readonly key: (...parts: string[]) => string,
  ) {
    // defineCommand sends the script once and then calls it by its SHA.
    redis.defineCommand('leedrushListBatches', { numberOfKeys: 2, lua: LIST });
    this.#listing = redis as unknown as WithList;
  }

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
      revision: 0,
      announced_at: null,
    };
    const fields = Object.entries(batch).flatMap(([k, v]) => (v === null ? [] : [k, String(v)]));
    const created = await this.redis.eval(
      CREATE_IF_ROOM,
      4,
      this.key('active', input.account_id),
      this.key('batch', batch.batch_id),
      this.key('batches', input.account_id),
      this.revisionKey(input.account_id),
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
    return (await this.listing(accountId)).batches;
  }

  /** Every batch of the account, newest first, with the revision they were read at. */
  async listing(accountId: string): Promise<BatchListing> {
    const [revision, reply] = await this.#listing.leedrushListBatches(
      this.key('batches', accountId),
      this.revisionKey(accountId),
      this.key('batch', ''),
      ...RECORD_FIELDS,
    );
    // Lua's nil (an absent field) arrives as false.
    const rows = JSON.parse(reply) as (string | false)[][];
    const batches = rows.map((values) => {
      const h: Record<string, string> = {};
      RECORD_FIELDS.forEach((field, i) => {
        const v = values[i];
        if (typeof v === 'string') h[field] = v;
      });
      return parseBatch(h);
    });
    return { revision: Number(revision), batches };
  }

  /**
   * The account's `batches-rev`: unchanged means no batch of the account was created, started, failed
   * or counted rows since a listing read at that revision.
   */
  async revision(accountId: string): Promise<number> {
    return Number((await this.redis.get(this.revisionKey(accountId))) ?? 0);
  }

  private revisionKey(accountId: string): string {
    return this.key('batches-rev', accountId);
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
    const r = await this.recordTerminals(batchId, accountId, [{ row, outcome }], {}, now);
    if (r.state !== 'counted') throw new Error(`batch ${batchId} is ${r.state}`);
    return { fresh: r.fresh === 1, rowsDone: r.rowsDone, completedNow: r.completedNow };
  }

  /**
   * Counts many terminal rows of one batch in one round trip (Lua calls of ROWS_PER_CALL rows, each
   * atomic). Redelivered rows are not counted again; `completedNow` is true in exactly one call.
   */
  async recordTerminals(
    batchId: string,
    accountId: string,
    rows: readonly TerminalRow[],
    options: RecordManyOptions = {},
    now = new Date(),
  ): Promise<RecordManyResult> {
    const keys = [
      this.key('batch', batchId),
      this.key('batch', batchId, 'done'),
      this.key('batch', batchId, 'done-ids'),
      this.key('active', accountId),
      this.key('batches', accountId),
      this.revisionKey(accountId),
    ];
    const head = [
      batchId,
      accountId,
      now.toISOString(),
      String(now.getTime()),
      options.openStream ? '1' : '0',
      options.source ?? 'kafka',
    ];
    const pipeline = this.redis.pipeline();
    for (let start = 0; start < Math.max(rows.length, 1); start += ROWS_PER_CALL) {
      const args = [...head];
      for (const { row, outcome } of rows.slice(start, start + ROWS_PER_CALL)) {
        args.push(typeof row === 'number' ? 'b' : 's', String(row), counterOf(outcome));
      }
      pipeline.eval(RECORD_TERMINALS, keys.length, ...keys, ...args);
    }
    const result: RecordManyResult = { state: 'counted', fresh: 0, rowsDone: 0, completedNow: false };
    for (const [err, reply] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      const [state, fresh, done, completed] = reply as [number, number, number, number];
      if (state < 0) return { ...result, state: state === -1 ? 'unknown' : 'foreign' };
      result.fresh += fresh;
      result.rowsDone = Math.max(result.rowsDone, done);
      result.completedNow ||= completed === 1;
    }
    return result;
  }

  /**
   * queued → processing as soon as work on the batch begins (ingest opening its file), before any row
   * reaches the end. Nothing changes for a batch in any other state or of another account.
   */
  async start(batchId: string, accountId: string, now = new Date()): Promise<void> {
    await this.redis.eval(
      START,
      2,
      this.key('batch', batchId),
      this.revisionKey(accountId),
      accountId,
      now.toISOString(),
    );
  }

  /**
   * A running batch (queued, processing, streaming) of the account becomes `paused`: the meter parked
   * some of its leads. True when the status changed.
   */
  async pause(batchId: string, accountId: string): Promise<boolean> {
    const changed = await this.redis.eval(
      PAUSE,
      2,
      this.key('batch', batchId),
      this.revisionKey(accountId),
      accountId,
    );
    return changed === 1;
  }

  /** A paused batch of the account goes back to the status it was paused from. True when it changed. */
  async resume(batchId: string, accountId: string, now = new Date()): Promise<boolean> {
    const changed = await this.redis.eval(
      RESUME,
      3,
      this.key('batch', batchId),
      this.key('active', accountId),
      this.revisionKey(accountId),
      accountId,
      batchId,
      now.toISOString(),
    );
    return changed === 1;
  }

  /**
   * Marks a queued or running batch failed with the reason. Nothing changes for an unknown batch,
   * another account's, or one already completed or failed: the first final state stands.
   */
  async fail(batchId: string, accountId: string, reason: string, now = new Date()): Promise<void> {
    await this.redis.eval(
      FAIL,
      3,
      this.key('batch', batchId),
      this.key('active', accountId),
      this.revisionKey(accountId),
      accountId,
      batchId,
      reason,
      now.toISOString(),
    );
  }

  /** Records that the final state was announced (ClickHouse row written, webhook event published). */
  async markAnnounced(batchId: string, now = new Date()): Promise<void> {
    await this.redis.hset(this.key('batch', batchId), 'announced_at', now.toISOString());
  }
}

const counterOf = (outcome: TerminalOutcome): string => `rows_${outcome === 'failed' ? 'errored' : outcome}`;

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
    revision: n('revision'),
    announced_at: h.announced_at ?? null,
  };
}
