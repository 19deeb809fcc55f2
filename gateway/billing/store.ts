import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CreditMovement } from '../../services/lib/credit-ledger.ts';
import type { PlanId } from '../plans.ts';

/**
 * The product's own billing records, in Redis (AOF on). Stripe (and the local stripe-mock, which is
 * stateless) holds payments; this store holds what the product decided about them: the Stripe customer
 * and subscription of each account, every order (a subscription start, a renewal, a top-up) with its
 * Stripe references and refunds, the invoices, and the Stripe event ids already processed.
 *
 * Keys under the keyspace: billing:<account> (hash: customer_id, subscription_id, status,
 * scheduled_plan_id, scheduled_at), billing:<account>:orders / :invoices (sorted sets by time),
 * billing:order:<id> (hash), billing:order:<id>:refunds (list of JSON), billing:invoice:<number> (hash),
 * billing:invoice-seq:<year>, billing:ref:<kind>:<stripe id> (Stripe object → order or account),
 * billing:stripe-event:<id> (processing claim), billing:cycle-ends (sorted set: account by cycle end),
 * billing:usage-held (list of credit movements applied but not yet acknowledged by Kafka).
 */

export type OrderKind = 'subscription' | 'renewal' | 'topup';
export type OrderStatus = 'pending' | 'paid' | 'partially_refunded' | 'refunded';

export interface Order {
  order_id: string;
  account_id: string;
  kind: OrderKind;
  plan_id: string;
  /** Credits a top-up adds (0 for plan orders: the plan's credits come with the cycle). */
  credits: number;
  subtotal_cents: number;
  vat_cents: number;
  /** What the customer pays: subtotal + VAT. */
  amount_cents: number;
  currency: string;
  status: OrderStatus;
  refunded_cents: number;
  session_id: string;
  payment_intent: string;
  charge_id: string;
  subscription_id: string;
  stripe_invoice_id: string;
  invoice_number: string;
  created_at: string;
  paid_at: string;
}

export interface AccountBilling {
  customer_id: string | null;
  subscription_id: string | null;
  /** The Stripe subscription's status as last reported (active, past_due, canceled, ...); active without one. */
  status: string;
  scheduled_plan_id: PlanId | null;
  scheduled_at: string | null;
}

export interface InvoiceLine {
  description: string;
  quantity: number;
  unit_cents: number;
  amount_cents: number;
}

export interface Invoice {
  invoice_number: string;
  account_id: string;
  order_id: string;
  created_at: string;
  period_start: string | null;
  period_end: string | null;
  currency: string;
  lines: InvoiceLine[];
  subtotal_cents: number;
  vat_percent: number;
  vat_cents: number;
  total_cents: number;
  customer: { company: string; email: string; account_id: string };
  /** Name, then address lines. */
  seller: string[];
}

/**
 * Stripe object ids the webhooks receive, mapped back to the product's records: a session, payment intent
 * or subscription to its (first) order, a customer or Stripe invoice to its account.
 */
export type RefKind = 'session' | 'payment_intent' | 'subscription' | 'customer' | 'stripe_invoice';

const NUMBER_FIELDS = new Set(['credits', 'subtotal_cents', 'vat_cents', 'amount_cents', 'refunded_cents']);

// KEYS: order. ARGV: paid_at, then field/value pairs of Stripe references. The first call moves pending →
// paid; every call fills the references still empty (a later event may know more of them). Returns 1 when
// this call marked it paid, 0 when it was paid before, -1 when there is no such order.
const MARK_PAID = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
for i = 2, #ARGV, 2 do
  if ARGV[i + 1] ~= '' and (redis.call('HGET', KEYS[1], ARGV[i]) or '') == '' then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'paid', 'paid_at', ARGV[1])
return 1
`;

// The status after a refund total, in Lua: shared by the refund scripts below.
const REFUND_STATUS = `
local function refund_status(amount, refunded)
  if refunded <= 0 then return 'paid' end
  if refunded >= amount then return 'refunded' end
  return 'partially_refunded'
end
`;

// KEYS: order. ARGV: account id, cents. Reserves the amount before Stripe is asked, so two concurrent
// refunds cannot together exceed the order. Returns {code, refunded before, amount}: code 1 reserved,
// -1 no such order (or another account's), -2 not paid, -3 over the remainder.
const RESERVE_REFUND = `${REFUND_STATUS}
if redis.call('HGET', KEYS[1], 'account_id') ~= ARGV[1] then return {-1, 0, 0} end
local status = redis.call('HGET', KEYS[1], 'status')
local amount = tonumber(redis.call('HGET', KEYS[1], 'amount_cents'))
local before = tonumber(redis.call('HGET', KEYS[1], 'refunded_cents'))
if status == 'pending' then return {-2, before, amount} end
if before + tonumber(ARGV[2]) > amount then return {-3, before, amount} end
local after = before + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'refunded_cents', after, 'status', refund_status(amount, after))
return {1, before, amount}
`;

// KEYS: order. ARGV: cents. Gives back a reservation Stripe refused.
const RELEASE_REFUND = `${REFUND_STATUS}
local amount = tonumber(redis.call('HGET', KEYS[1], 'amount_cents'))
local after = math.max(0, tonumber(redis.call('HGET', KEYS[1], 'refunded_cents')) - tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'refunded_cents', after, 'status', refund_status(amount, after))
`;

// KEYS: order. ARGV: the charge's total refunded (charge.refunded). Raises refunded_cents to it (refunds
// made through this API are already counted). Returns {refunded before, after} or {-1} without an order.
const REFUNDED_TOTAL = `${REFUND_STATUS}
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local amount = tonumber(redis.call('HGET', KEYS[1], 'amount_cents'))
local before = tonumber(redis.call('HGET', KEYS[1], 'refunded_cents'))
local after = math.min(amount, math.max(before, tonumber(ARGV[1])))
redis.call('HSET', KEYS[1], 'refunded_cents', after, 'status', refund_status(amount, after))
return {before, after}
`;

// KEYS: order, account's invoice list, sequence of the year. ARGV: year, created ms, invoice JSON with
// "@NUMBER@" in place of its number, invoice key prefix. One invoice per order: a second call returns the
// first number. Numbers are INV-<year>-<seq>, seq from 001 (more digits past 999), one sequence per year
// for the whole seller (invoice numbers must be unique per issuer, not per customer).
const CREATE_INVOICE = `
local existing = redis.call('HGET', KEYS[1], 'invoice_number')
if existing and existing ~= '' then return existing end
local seq = redis.call('INCR', KEYS[3])
local number = string.format('INV-%s-%03d', ARGV[1], seq)
local json = string.gsub(ARGV[3], '@NUMBER@', number)
redis.call('HSET', ARGV[4] .. number, 'account_id', redis.call('HGET', KEYS[1], 'account_id'), 'json', json)
redis.call('ZADD', KEYS[2], ARGV[2], number)
redis.call('HSET', KEYS[1], 'invoice_number', number)
return number
`;

// KEYS: event claim. Returns 'claimed' (process it), 'done' (processed before) or 'busy' (another
// request is processing it now: Stripe retries later).
const CLAIM_EVENT = `
local v = redis.call('GET', KEYS[1])
if v == 'done' then return 'done' end
if v then return 'busy' end
redis.call('SET', KEYS[1], 'busy', 'EX', ARGV[1])
return 'claimed'
`;

/** A processing claim outlives any request; Stripe retries a failed event for up to 3 days. */
const CLAIM_TTL_S = 120;
const PROCESSED_TTL_S = 30 * 86_400;

export function newOrderId(): string {
  return `ord_${randomBytes(8).toString('hex')}`;
}

export class BillingStore {
  constructor(
    private readonly redis: Redis,
    private readonly key: (...parts: string[]) => string,
  ) {}

  async account(accountId: string): Promise<AccountBilling> {
    const h = await this.redis.hgetall(this.key('billing', accountId));
    return {
      customer_id: h.customer_id || null,
      subscription_id: h.subscription_id || null,
      status: h.status || 'active',
      scheduled_plan_id: (h.scheduled_plan_id || null) as PlanId | null,
      scheduled_at: h.scheduled_at || null,
    };
  }

  /** Keeps the first customer id stored for the account and returns it (concurrent checkouts agree). */
  async claimCustomer(accountId: string, customerId: string): Promise<string> {
    const k = this.key('billing', accountId);
    await this.redis.hsetnx(k, 'customer_id', customerId);
    const winner = (await this.redis.hget(k, 'customer_id')) ?? customerId;
    await this.setRef('customer', winner, accountId);
    return winner;
  }

  async setSubscription(accountId: string, subscriptionId: string | null, status: string): Promise<void> {
    const k = this.key('billing', accountId);
    if (subscriptionId) {
      await this.redis.hset(k, { subscription_id: subscriptionId, status });
    } else {
      await this.redis.multi().hdel(k, 'subscription_id').hset(k, 'status', status).exec();
    }
  }

  async setStatus(accountId: string, status: string): Promise<void> {
    await this.redis.hset(this.key('billing', accountId), 'status', status);
  }

  async schedule(accountId: string, planId: PlanId, at: string): Promise<void> {
    await this.redis.hset(this.key('billing', accountId), { scheduled_plan_id: planId, scheduled_at: at });
  }

  async clearSchedule(accountId: string): Promise<void> {
    await this.redis.hdel(this.key('billing', accountId), 'scheduled_plan_id', 'scheduled_at');
  }

  async setRef(kind: RefKind, stripeId: string, value: string): Promise<void> {
    await this.redis.set(this.key('billing', 'ref', kind, stripeId), value);
  }

  async ref(kind: RefKind, stripeId: string | null | undefined): Promise<string | null> {
    return stripeId ? this.redis.get(this.key('billing', 'ref', kind, stripeId)) : null;
  }

  /** Creates the order unless one with that id exists (a renewal's id derives from its Stripe invoice). */
  async createOrder(order: Order): Promise<boolean> {
    const k = this.orderKey(order.order_id);
    const created = await this.redis.hsetnx(k, 'order_id', order.order_id);
    if (created !== 1) return false;
    await this.redis
      .multi()
      .hset(k, Object.fromEntries(Object.entries(order).map(([f, v]) => [f, String(v)])))
      .zadd(this.key('billing', order.account_id, 'orders'), Date.parse(order.created_at), order.order_id)
      .exec();
    return true;
  }

  async order(orderId: string): Promise<Order | null> {
    const h = await this.redis.hgetall(this.orderKey(orderId));
    if (!h.order_id || !h.account_id) return null;
    return Object.fromEntries(
      Object.entries(h).map(([f, v]) => [f, NUMBER_FIELDS.has(f) ? Number(v) : v]),
    ) as unknown as Order;
  }

  async setOrderFields(orderId: string, fields: Partial<Record<keyof Order, string>>): Promise<void> {
    await this.redis.hset(this.orderKey(orderId), fields);
  }

  /** 1 = this call marked it paid, 0 = paid before, -1 = no such order. */
  async markPaid(
    orderId: string,
    paidAt: string,
    refs: Partial<Record<keyof Order, string>>,
  ): Promise<number> {
    const pairs = Object.entries(refs).flatMap(([f, v]) => [f, v ?? '']);
    return (await this.redis.eval(MARK_PAID, 1, this.orderKey(orderId), paidAt, ...pairs)) as number;
  }

  async reserveRefund(
    orderId: string,
    accountId: string,
    cents: number,
  ): Promise<{ code: 'ok' | 'missing' | 'unpaid' | 'over'; refundedBefore: number; amount: number }> {
    const [code, before, amount] = (await this.redis.eval(
      RESERVE_REFUND,
      1,
      this.orderKey(orderId),
      accountId,
      String(cents),
    )) as [number, number, number];
    const codes = { 1: 'ok', [-1]: 'missing', [-2]: 'unpaid', [-3]: 'over' } as const;
    return { code: codes[code as 1 | -1 | -2 | -3], refundedBefore: Number(before), amount: Number(amount) };
  }

  async releaseRefund(orderId: string, cents: number): Promise<void> {
    await this.redis.eval(RELEASE_REFUND, 1, this.orderKey(orderId), String(cents));
  }

  /** Raises the order's refunded total to `totalCents`; null without such an order. */
  async refundedTotal(
    orderId: string,
    totalCents: number,
  ): Promise<{ before: number; after: number } | null> {
    const r = (await this.redis.eval(
      REFUNDED_TOTAL,
      1,
      this.orderKey(orderId),
      String(totalCents),
    )) as number[];
    return r[0] === -1 ? null : { before: Number(r[0]), after: Number(r[1]) };
  }

  async addRefund(orderId: string, refund: object): Promise<void> {
    await this.redis.rpush(this.key('billing', 'order', orderId, 'refunds'), JSON.stringify(refund));
  }

  /** The order's invoice, numbered on first call; `invoice` is written with its number filled in. */
  async createInvoice(order: Order, invoice: Omit<Invoice, 'invoice_number'>): Promise<string> {
    const year = invoice.created_at.slice(0, 4);
    return (await this.redis.eval(
      CREATE_INVOICE,
      3,
      this.orderKey(order.order_id),
      this.key('billing', order.account_id, 'invoices'),
      this.key('billing', 'invoice-seq', year),
      year,
      String(Date.parse(invoice.created_at)),
      JSON.stringify({ invoice_number: '@NUMBER@', ...invoice }),
      this.key('billing', 'invoice', ''),
    )) as string;
  }

  /** The account's invoices, newest first, each with its order's current status. */
  async invoices(accountId: string): Promise<{ invoice: Invoice; status: OrderStatus }[]> {
    const numbers = await this.redis.zrevrange(this.key('billing', accountId, 'invoices'), 0, -1);
    const invoices = (await Promise.all(numbers.map((n) => this.invoice(accountId, n)))).filter(
      (i): i is Invoice => i !== null,
    );
    const statuses = await Promise.all(
      invoices.map((i) => this.redis.hget(this.orderKey(i.order_id), 'status')),
    );
    return invoices.map((invoice, i) => ({ invoice, status: (statuses[i] ?? 'paid') as OrderStatus }));
  }

  /** Null for an unknown number or another account's invoice (the route answers 404 to both). */
  async invoice(accountId: string, invoiceNumber: string): Promise<Invoice | null> {
    const [owner, json] = await this.redis.hmget(
      this.key('billing', 'invoice', invoiceNumber),
      'account_id',
      'json',
    );
    return owner === accountId && json ? (JSON.parse(json) as Invoice) : null;
  }

  async claimEvent(eventId: string): Promise<'claimed' | 'done' | 'busy'> {
    return (await this.redis.eval(
      CLAIM_EVENT,
      1,
      this.key('billing', 'stripe-event', eventId),
      String(CLAIM_TTL_S),
    )) as 'claimed' | 'done' | 'busy';
  }

  async finishEvent(eventId: string): Promise<void> {
    await this.redis.set(this.key('billing', 'stripe-event', eventId), 'done', 'EX', PROCESSED_TTL_S);
  }

  async releaseEvent(eventId: string): Promise<void> {
    await this.redis.del(this.key('billing', 'stripe-event', eventId));
  }

  /** Keeps movements until Kafka acknowledged them, so a failed publish is retried by the cycle job. */
  async holdMovements(movements: CreditMovement[]): Promise<string[]> {
    const held = movements.map((m) => JSON.stringify(m));
    if (held.length) await this.redis.rpush(this.key('billing', 'usage-held'), ...held);
    return held;
  }

  async releaseMovements(held: string[]): Promise<void> {
    if (held.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const h of held) pipeline.lrem(this.key('billing', 'usage-held'), 1, h);
    await pipeline.exec();
  }

  async heldMovements(limit: number): Promise<{ held: string[]; movements: CreditMovement[] }> {
    const held = await this.redis.lrange(this.key('billing', 'usage-held'), 0, limit - 1);
    return { held, movements: held.map((h) => JSON.parse(h) as CreditMovement) };
  }

  async indexCycleEnd(accountId: string, cycleEnd: string): Promise<void> {
    await this.redis.zadd(this.key('billing', 'cycle-ends'), Date.parse(cycleEnd), accountId);
  }

  /** Accounts whose cycle ended by `now`, oldest first. */
  async cyclesEndedBy(now: Date, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(
      this.key('billing', 'cycle-ends'),
      '-inf',
      now.getTime(),
      'LIMIT',
      0,
      limit,
    );
  }

  private orderKey(orderId: string): string {
    return this.key('billing', 'order', orderId);
  }
}
