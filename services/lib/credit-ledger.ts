import type { Redis } from 'ioredis';
import type { UsageEvent } from '../../schemas/generated.ts';

/**
 * The credit ledger: every account's balance in Redis, moved only by atomic, idempotent Lua steps.
 *
 * - `charge` (the pipeline's meter) takes one credit per lead id, at most once per lead id ever: the
 *   account's `charged` hash remembers each lead's balance_after and time, so a redelivery gets back the
 *   identical movement and nothing is taken again. A lead that finds the balance at 0 is not charged
 *   (`over`); the balance never goes below 0.
 * - `apply` (the gateway: plans, cycles, top-ups, refunds) is idempotent by event id (the account's
 *   `applied` set).
 * - Every movement is a UsageEvent whose `credits` is the actual change of the balance, so the sum of an
 *   account's usage_events equals its balance (the ClickHouse audit).
 *
 * Paused work resumes without a call from the gateway: the meter polls the accounts it has parked leads
 * for and re-admits them once their balance is > 0 (services/runtime/admission.ts).
 *
 * Keys (under the keyspace): credits:<account> (hash: the state), credits:<account>:applied (set of
 * event ids), credits:<account>:charged (hash lead id → "balance_after:occurred_ms"). The charged hash
 * grows by one small field per lead ever metered (~60 bytes).
 */
export interface CreditState {
  account_id: string;
  /** The plan the credits belong to. */
  plan_id: string;
  /** The plan's credits for this cycle (the 10 % threshold is of this). */
  credits_total: number;
  /** credits_remaining, never below 0. */
  balance: number;
  /** ISO date-time, UTC. */
  cycle_start: string;
  cycle_end: string;
  /** True from the charge that found or left 0 until a movement brings the balance > 0. */
  exhausted: boolean;
  /** How many times the account became exhausted: names each exhaustion (credits.exhausted event id). */
  exhaustions: number;
}

/** A credit movement, shaped as the UsageEvent record; callers publish it to usage.events. */
export type CreditMovement = UsageEvent;

export type MovementKind = 'grant' | 'topup' | 'refund' | 'reset' | 'upgrade' | 'downgrade' | 'cycle';

export interface LedgerDefaults {
  planId: string;
  credits: number;
  /** Length of a cycle; absent = one calendar month (UTC) from the cycle's start. */
  cycleMs?: number;
}

export interface ApplyMovement {
  eventId: string;
  kind: MovementKind;
  mode: 'add' | 'set';
  credits: number;
  reference?: string | null;
  plan?: { planId: string; creditsTotal: number; cycleStart?: string; cycleEnd?: string };
  now?: Date;
}

export interface ApplyResult {
  applied: boolean;
  state: CreditState;
  movement: CreditMovement | null;
  /** The account's opening grant when this call opened it (apply on an account never seen). */
  opened: CreditMovement | null;
}

export interface ChargeResult {
  /** One per lead charged, now or before (then the original, identical movement). */
  movements: CreditMovement[];
  /** Leads charged by this call (the rest of `movements` were charged before: redeliveries). */
  charged: number;
  /** Lead ids that found the balance at 0: not charged, for the caller to park. */
  over: string[];
  balance: number;
  /** True once per cycle: the charge that took the balance below 10 % of credits_total (and its redeliveries). */
  low: boolean;
  /** True once per exhaustion: the charge that found or left 0 (and its redeliveries while still exhausted). */
  exhausted: boolean;
  state: CreditState;
  /**
   * The account's opening grant, when this call opened the account or charged its first lead ever: a
   * redelivery of that first chunk republishes it, so usage_events always holds it.
   */
  opened: CreditMovement | null;
}

/** Lead ids per Lua call: bounds how long one call holds Redis. */
const LEADS_PER_CALL = 1_000;

const STATE_FIELDS = [
  'plan_id',
  'credits_total',
  'balance',
  'cycle_start',
  'cycle_end',
  'exhausted',
  'exhaustions',
  'opened_at',
  'opened_credits',
] as const;

// Opens the account if absent. KEYS: state, applied. ARGV: plan, credits, cycle start iso, cycle end iso,
// opening event id, now ms. Sets `opened` to 1 when it opened the account.
const OPEN = `
local opened = 0
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'plan_id', ARGV[1], 'credits_total', ARGV[2], 'balance', ARGV[2],
    'cycle_start', ARGV[3], 'cycle_end', ARGV[4], 'exhausted', 0, 'exhaustions', 0,
    'opened_at', ARGV[6], 'opened_credits', ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[5])
  opened = 1
end
`;
const READ_STATE = `redis.call('HMGET', KEYS[1], ${STATE_FIELDS.map((f) => `'${f}'`).join(', ')})`;

// Returns {opened, state...}.
const ENSURE = `${OPEN}
return {opened, unpack(${READ_STATE})}
`;

// KEYS: state, applied. ARGV: event id, mode, credits, plan id, credits total, cycle start, cycle end
// ('' = unchanged). Returns {-1} for an unknown account, else {applied, balance before, state...}.
const APPLY = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local before = tonumber(redis.call('HGET', KEYS[1], 'balance'))
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return {0, before, unpack(${READ_STATE})} end
local after = tonumber(ARGV[3])
if ARGV[2] == 'add' then after = before + after end
if after < 0 then after = 0 end
redis.call('HSET', KEYS[1], 'balance', after)
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'plan_id', ARGV[4], 'credits_total', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'cycle_start', ARGV[6]) end
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'cycle_end', ARGV[7]) end
if after > 0 then redis.call('HSET', KEYS[1], 'exhausted', 0) end
return {1, before, unpack(${READ_STATE})}
`;

// KEYS: state, applied, charged. ARGV: the OPEN arguments (6), then lead ids.
// Per lead: charged before → its stored "balance_after:ms"; balance > 0 → take one, store and return
// it; else '' (over). The lead that triggered low (per cycle) or the current exhaustion is remembered, so
// a redelivery of it signals again under the same cycle / exhaustion number.
// Returns {opened, low, exhausted, first lead charged ever, leads charged now, state..., per-lead replies...}.
const CHARGE = `${OPEN}
local balance = tonumber(redis.call('HGET', KEYS[1], 'balance'))
local total = tonumber(redis.call('HGET', KEYS[1], 'credits_total'))
local cycle = redis.call('HGET', KEYS[1], 'cycle_start')
local now = ARGV[6]
local replies = {}
local stored = {}
local fresh, over = 0, 0
local low_by = redis.call('HGET', KEYS[1], 'low_cycle') == cycle and redis.call('HGET', KEYS[1], 'low_by') or false
local exhausted_now = redis.call('HGET', KEYS[1], 'exhausted') == '1'
local exhausted_by = exhausted_now and redis.call('HGET', KEYS[1], 'exhausted_by') or false
local low, exhausted = 0, 0
for i = 7, #ARGV do
  local lead = ARGV[i]
  local prev = redis.call('HGET', KEYS[3], lead)
  if prev then
    replies[#replies + 1] = prev
  elseif balance > 0 then
    balance = balance - 1
    local v = balance .. ':' .. now
    stored[#stored + 1] = lead
    stored[#stored + 1] = v
    replies[#replies + 1] = v
    fresh = fresh + 1
    if not low_by and balance * 10 < total then
      low_by = lead
      low = 1
      redis.call('HSET', KEYS[1], 'low_cycle', cycle, 'low_by', lead)
    end
  else
    replies[#replies + 1] = ''
    over = over + 1
  end
  if balance == 0 and not exhausted_now then
    exhausted_now = true
    exhausted_by = lead
    exhausted = 1
    redis.call('HSET', KEYS[1], 'exhausted', 1, 'exhausted_by', lead)
    redis.call('HINCRBY', KEYS[1], 'exhaustions', 1)
  end
  if lead == low_by then low = 1 end
  if lead == exhausted_by then exhausted = 1 end
end
if fresh > 0 then
  redis.call('HSET', KEYS[3], unpack(stored))
  redis.call('HSET', KEYS[1], 'balance', balance)
  redis.call('HSETNX', KEYS[1], 'first_lead', stored[1])
end
local first = redis.call('HGET', KEYS[1], 'first_lead') or ''
local out = {opened, low, exhausted, first, fresh, unpack(${READ_STATE})}
for _, r in ipairs(replies) do out[#out + 1] = r end
return out
`;

type Reply = (string | number | null)[];

export class CreditLedger {
  private readonly cycleMs: number | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly key: (...parts: string[]) => string,
    private readonly defaults: LedgerDefaults,
  ) {
    this.cycleMs = defaults.cycleMs;
  }

  async state(accountId: string): Promise<CreditState | null> {
    const values = await this.redis.hmget(this.stateKey(accountId), ...STATE_FIELDS);
    return values[0] === null ? null : parseState(accountId, values);
  }

  /** Opens the account on the default plan if the ledger has never seen it (grant `open:<account>`). */
  async ensure(
    accountId: string,
    now = new Date(),
  ): Promise<{ state: CreditState; movement: CreditMovement | null }> {
    const reply = (await this.redis.eval(
      ENSURE,
      2,
      this.stateKey(accountId),
      this.key('credits', accountId, 'applied'),
      ...this.openArgs(accountId, now),
    )) as Reply;
    const state = parseState(accountId, reply.slice(1));
    return { state, movement: reply[0] === 1 ? openingMovement(state, reply.slice(1)) : null };
  }

  /** One idempotent movement by event id; see the contract in BILLING-CONTRACT / the class comment. */
  async apply(accountId: string, m: ApplyMovement): Promise<ApplyResult> {
    const now = m.now ?? new Date();
    const run = async () =>
      (await this.redis.eval(
        APPLY,
        2,
        this.stateKey(accountId),
        this.key('credits', accountId, 'applied'),
        m.eventId,
        m.mode,
        String(Math.trunc(m.credits)),
        m.plan?.planId ?? '',
        m.plan ? String(Math.trunc(m.plan.creditsTotal)) : '',
        m.plan?.cycleStart ?? '',
        m.plan?.cycleEnd ?? '',
      )) as Reply;
    let reply = await run();
    let opened: CreditMovement | null = null;
    if (reply[0] === -1) {
      opened = (await this.ensure(accountId, now)).movement;
      reply = await run();
    }
    const state = parseState(accountId, reply.slice(2));
    if (reply[0] !== 1) return { applied: false, state, movement: null, opened };
    const before = Number(reply[1]);
    const movement: CreditMovement = {
      event_id: m.eventId,
      account_id: accountId,
      kind: m.kind,
      credits: state.balance - before,
      balance_after: state.balance,
      batch_id: null,
      lead_id: null,
      reference: m.reference ?? null,
      occurred_at: now.getTime(),
    };
    return { applied: true, state, movement, opened };
  }

  /**
   * The meter: one credit per lead id, at most once per lead id; calls of ≤ LEADS_PER_CALL ids, each
   * atomic, in order. A lead charged before returns its original movement (`consume:<lead_id>`).
   */
  async charge(
    accountId: string,
    batchId: string,
    leadIds: readonly string[],
    now = new Date(),
  ): Promise<ChargeResult> {
    const keys = [
      this.stateKey(accountId),
      this.key('credits', accountId, 'applied'),
      this.key('credits', accountId, 'charged'),
    ];
    const open = this.openArgs(accountId, now);
    const pipeline = this.redis.pipeline();
    const chunks: (readonly string[])[] = [];
    for (let start = 0; start < Math.max(leadIds.length, 1); start += LEADS_PER_CALL) {
      const chunk = leadIds.slice(start, start + LEADS_PER_CALL);
      chunks.push(chunk);
      pipeline.eval(CHARGE, keys.length, ...keys, ...open, ...chunk);
    }
    const replies = (await pipeline.exec()) ?? [];
    const result = {
      movements: [] as CreditMovement[],
      charged: 0,
      over: [] as string[],
      low: false,
      exhausted: false,
      opened: null as CreditMovement | null,
    };
    let state: CreditState | undefined;
    replies.forEach(([err, raw], i) => {
      if (err) throw err;
      const reply = raw as Reply;
      const stateValues = reply.slice(5, 5 + STATE_FIELDS.length);
      state = parseState(accountId, stateValues);
      const firstLead = String(reply[3]);
      const chunk = chunks[i] ?? [];
      if (reply[0] === 1 || (firstLead && chunk.includes(firstLead)))
        result.opened = openingMovement(state, stateValues);
      result.charged += Number(reply[4]);
      result.low ||= reply[1] === 1;
      result.exhausted ||= reply[2] === 1;
      reply.slice(5 + STATE_FIELDS.length).forEach((r, j) => {
        const leadId = chunk[j] as string;
        if (r === '') {
          result.over.push(leadId);
          return;
        }
        const [balanceAfter, at] = String(r).split(':');
        result.movements.push({
          event_id: `consume:${leadId}`,
          account_id: accountId,
          kind: 'consume',
          credits: -1,
          balance_after: Number(balanceAfter),
          batch_id: batchId,
          lead_id: leadId,
          reference: null,
          occurred_at: Number(at),
        });
      });
    });
    if (!state) throw new Error('charge: no reply from Redis');
    return { ...result, balance: state.balance, state };
  }

  private stateKey(accountId: string): string {
    return this.key('credits', accountId);
  }

  private openArgs(accountId: string, now: Date): string[] {
    const end = this.cycleMs === undefined ? addUtcMonth(now) : new Date(now.getTime() + this.cycleMs);
    return [
      this.defaults.planId,
      String(this.defaults.credits),
      now.toISOString(),
      end.toISOString(),
      `open:${accountId}`,
      String(now.getTime()),
    ];
  }
}

/** The same day and time one month later (UTC), clamped to the month's last day (Jan 31 → Feb 28/29). */
export function addUtcMonth(date: Date): Date {
  const next = new Date(date.getTime());
  const day = next.getUTCDate();
  next.setUTCDate(1);
  next.setUTCMonth(next.getUTCMonth() + 1);
  const lastDay = new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 0)).getUTCDate();
  next.setUTCDate(Math.min(day, lastDay));
  return next;
}

function parseState(accountId: string, values: Reply): CreditState {
  const [plan, total, balance, start, end, exhausted, exhaustions] = values;
  return {
    account_id: accountId,
    plan_id: String(plan ?? ''),
    credits_total: Number(total ?? 0),
    balance: Number(balance ?? 0),
    cycle_start: String(start ?? ''),
    cycle_end: String(end ?? ''),
    exhausted: exhausted === '1',
    exhaustions: Number(exhaustions ?? 0),
  };
}

/** The opening grant, rebuilt from what the account stored when it opened: always the same event. */
function openingMovement(state: CreditState, values: Reply): CreditMovement {
  const credits = Number(values[8] ?? 0);
  return {
    event_id: `open:${state.account_id}`,
    account_id: state.account_id,
    kind: 'grant',
    credits,
    balance_after: credits,
    batch_id: null,
    lead_id: null,
    reference: null,
    occurred_at: Number(values[7] ?? 0),
  };
}
