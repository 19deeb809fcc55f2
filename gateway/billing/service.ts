import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import Stripe from 'stripe';
import { addUtcMonth, CreditLedger, type CreditState } from '../../services/lib/credit-ledger.ts';
import type { RecordPublisher } from '../../services/lib/publisher.ts';
import type { AccountStore, User } from '../auth/accounts.ts';
import type { GatewayConfig } from '../config.ts';
import { problem } from '../errors.ts';
import { billingPlans, compareTiers, DEFAULT_PLAN, isPlanId, type Plan, type PlanId } from '../plans.ts';
import { BillingCredits } from './credits.ts';
import { cycleEventId, dueCycle } from './cycle.ts';
import { type AccountBilling, BillingStore, type Invoice, newOrderId, type Order } from './store.ts';

/** GET /billing/subscription (API.md), plus the scheduled downgrade. */
export interface SubscriptionView {
  plan_id: string;
  plan_name: string;
  credits_total: number;
  credits_remaining: number;
  billing_cycle_start: string;
  billing_cycle_end: string;
  status: string;
  scheduled_plan_id: string | null;
  scheduled_at: string | null;
}

/** The Stripe SDK on STRIPE_API_BASE when set (the local stripe-mock), else api.stripe.com. */
export function createStripe(config: GatewayConfig): Stripe {
  const base = config.STRIPE_API_BASE ? new URL(config.STRIPE_API_BASE) : null;
  return new Stripe(config.STRIPE_SECRET_KEY, {
    maxNetworkRetries: 2,
    timeout: 15_000,
    ...(base && {
      host: base.hostname,
      port: Number(base.port) || (base.protocol === 'https:' ? 443 : 80),
      protocol: base.protocol === 'https:' ? 'https' : 'http',
    }),
  });
}

/** Stripe failures become 502 {"detail"}: the product changed nothing when Stripe said no. */
async function viaStripe<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw problem(502, `Stripe ${what} failed: ${(err as Error).message}`);
  }
}

const money = (cents: number) => Math.round(cents) / 100;

/**
 * Billing: plans bought through Stripe Checkout, cycles (upgrade now, downgrade at cycle end, reset of
 * credits on every new cycle), top-ups, refunds and invoices. `clock` is read for every decision so tests
 * move time instead of waiting.
 */
export class Billing {
  readonly plans: Record<PlanId, Plan>;
  readonly store: BillingStore;
  readonly credits: BillingCredits;
  clock: () => Date = () => new Date();

  constructor(
    readonly config: GatewayConfig,
    readonly stripe: Stripe,
    redis: Redis,
    key: (...parts: string[]) => string,
    private readonly accounts: AccountStore,
    publisher: RecordPublisher,
    private readonly log: Logger,
  ) {
    this.plans = billingPlans(config.BILLING_PLAN_CREDITS, config.BILLING_PLAN_PRICES);
    this.store = new BillingStore(redis, key);
    const ledger = new CreditLedger(redis, key, {
      planId: DEFAULT_PLAN,
      credits: this.plans[DEFAULT_PLAN].credits,
    });
    this.credits = new BillingCredits(ledger, publisher, accounts, this.store);
  }

  /**
   * The account's credits with its cycle rolled up to now: a scheduled downgrade takes effect and the
   * credits reset to the plan's, under one ledger event id per cycle. Every billing read and every Stripe
   * event that concerns the account goes through here, and the cycle job for accounts nobody reads.
   */
  async current(accountId: string, now = this.clock()): Promise<CreditState> {
    const state = await this.credits.ensure(accountId, now);
    const next = dueCycle(state, now);
    if (!next) return state;
    const billing = await this.store.account(accountId);
    const scheduled =
      billing.scheduled_plan_id && billing.scheduled_at && Date.parse(billing.scheduled_at) <= now.getTime()
        ? billing.scheduled_plan_id
        : null;
    const planId = scheduled ?? (isPlanId(state.plan_id) ? state.plan_id : DEFAULT_PLAN);
    const plan = this.plans[planId];
    const { state: rolled } = await this.credits.apply(accountId, {
      eventId: cycleEventId(accountId, next.cycleStart),
      kind: scheduled ? 'downgrade' : 'cycle',
      mode: 'set',
      credits: plan.credits,
      plan: { planId, creditsTotal: plan.credits, ...next },
      now,
    });
    if (scheduled) await this.store.clearSchedule(accountId);
    return rolled;
  }

  async subscription(user: User): Promise<SubscriptionView> {
    const state = await this.current(user.account_id);
    // The ledger holds the plan the credits belong to; a user record left behind by a crash between the
    // two writes is brought in line here.
    if (isPlanId(state.plan_id) && user.plan_id !== state.plan_id) {
      await this.accounts.changePlan(user.account_id, state.plan_id);
    }
    return this.view(state, await this.store.account(user.account_id));
  }

  view(state: CreditState, billing: AccountBilling): SubscriptionView {
    const plan = isPlanId(state.plan_id) ? this.plans[state.plan_id] : null;
    return {
      plan_id: state.plan_id,
      plan_name: plan?.name ?? state.plan_id,
      credits_total: state.credits_total,
      credits_remaining: state.balance,
      billing_cycle_start: state.cycle_start.slice(0, 10),
      billing_cycle_end: state.cycle_end.slice(0, 10),
      status: billing.status,
      scheduled_plan_id: billing.scheduled_plan_id,
      scheduled_at: billing.scheduled_at,
    };
  }

  /** The account's Stripe customer: created once (Stripe idempotency key + first id stored wins). */
  async customer(user: User): Promise<string> {
    const known = (await this.store.account(user.account_id)).customer_id;
    if (known) return known;
    const created = await viaStripe('customer creation', () =>
      this.stripe.customers.create(
        { email: user.email, name: user.company, metadata: { account_id: user.account_id } },
        { idempotencyKey: `customer:${user.account_id}` },
      ),
    );
    return this.store.claimCustomer(user.account_id, created.id);
  }

  /** Net + VAT of a net price (VAT rounded to the cent). */
  priced(netCents: number): Pick<Order, 'subtotal_cents' | 'vat_cents' | 'amount_cents'> {
    const vat = Math.round((netCents * this.config.BILLING_VAT_PERCENT) / 100);
    return { subtotal_cents: netCents, vat_cents: vat, amount_cents: netCents + vat };
  }

  newOrder(accountId: string, kind: Order['kind'], planId: string, credits: number, netCents: number): Order {
    return {
      order_id: newOrderId(),
      account_id: accountId,
      kind,
      plan_id: planId,
      credits,
      ...this.priced(netCents),
      currency: this.config.BILLING_CURRENCY,
      status: 'pending',
      refunded_cents: 0,
      session_id: '',
      payment_intent: '',
      charge_id: '',
      subscription_id: '',
      stripe_invoice_id: '',
      invoice_number: '',
      created_at: this.clock().toISOString(),
      paid_at: '',
    };
  }

  /** POST /billing/checkout: a Stripe Checkout Session for a plan's subscription. */
  async checkout(user: User, planId: PlanId) {
    const plan = this.plans[planId];
    if (plan.priceCents <= 0) {
      throw problem(
        400,
        `plan_id: ${planId} is not sold by subscription; buy credits with POST /billing/topup`,
      );
    }
    const billing = await this.store.account(user.account_id);
    if (billing.subscription_id && billing.status !== 'canceled') {
      throw problem(
        409,
        'the account already has a subscription: use POST /billing/upgrade or /billing/downgrade',
      );
    }
    const order = this.newOrder(user.account_id, 'subscription', planId, 0, plan.priceCents);
    const metadata = { account_id: user.account_id, order_id: order.order_id, plan_id: planId };
    return this.openCheckout(user, order, {
      mode: 'subscription',
      product: { name: `Leedrush ${plan.name}`, metadata: { plan_id: planId } },
      recurring: { interval: 'month' },
      metadata,
      subscription_data: { metadata },
    });
  }

  /** POST /billing/topup: a one-time Checkout Session; the credits come with checkout.session.completed. */
  async topup(user: User, credits: number) {
    const { BILLING_TOPUP_MIN_CREDITS: min, BILLING_TOPUP_MAX_CREDITS: max } = this.config;
    if (credits < min || credits > max) throw problem(400, `credits: must be between ${min} and ${max}`);
    const state = await this.current(user.account_id);
    const net = credits * this.config.BILLING_TOPUP_CENTS_PER_CREDIT;
    const order = this.newOrder(user.account_id, 'topup', state.plan_id, credits, net);
    const metadata = { account_id: user.account_id, order_id: order.order_id, credits: String(credits) };
    const opened = await this.openCheckout(user, order, {
      mode: 'payment',
      product: { name: `${credits} Leedrush credits` },
      metadata,
      payment_intent_data: { metadata },
    });
    return { ...opened, credits, amount: money(order.amount_cents) };
  }

  /**
   * A Checkout Session paying `order` (one line: its amount with VAT), stored with the order; the
   * order id is the Stripe idempotency key, so a retried call opens the same session.
   */
  private async openCheckout(
    user: User,
    order: Order,
    opts: {
      mode: 'subscription' | 'payment';
      product: { name: string; metadata?: Record<string, string> };
      recurring?: { interval: 'month' };
      metadata: Record<string, string>;
      subscription_data?: { metadata: Record<string, string> };
      payment_intent_data?: { metadata: Record<string, string> };
    },
  ) {
    const customer = await this.customer(user);
    const { mode, product, recurring, ...rest } = opts;
    const session = await viaStripe('checkout', () =>
      this.stripe.checkout.sessions.create(
        {
          ...rest,
          mode,
          customer,
          client_reference_id: user.account_id,
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: order.currency,
                unit_amount: order.amount_cents,
                product_data: product,
                ...(recurring && { recurring }),
              },
            },
          ],
          success_url: this.config.BILLING_SUCCESS_URL,
          cancel_url: this.config.BILLING_CANCEL_URL,
        },
        { idempotencyKey: `checkout:${order.order_id}` },
      ),
    );
    await this.store.createOrder({ ...order, session_id: session.id });
    await this.store.setRef('session', session.id, order.order_id);
    if (!session.url) throw problem(502, 'Stripe returned a checkout session without a url');
    return { checkout_url: session.url, session_id: session.id, order_id: order.order_id };
  }

  /** POST /billing/upgrade: the Stripe subscription moves to the new price now (prorated), credits reset. */
  async upgrade(user: User, planId: PlanId): Promise<SubscriptionView> {
    const accountId = user.account_id;
    const state = await this.current(accountId);
    const from = isPlanId(state.plan_id) ? state.plan_id : DEFAULT_PLAN;
    if (compareTiers(planId, from) <= 0) {
      throw problem(409, `${planId} is not above the current plan ${from}: use POST /billing/downgrade`);
    }
    const billing = await this.store.account(accountId);
    if (!billing.subscription_id) {
      throw problem(409, 'the account has no subscription: start one with POST /billing/checkout');
    }
    await this.changeStripePrice(billing.subscription_id, planId, 'always_invoice');
    const plan = this.plans[planId];
    const eventId = `upgrade:${accountId}:${state.cycle_start}:${planId}`;
    const now = this.clock();
    const { state: after } = await this.credits.apply(accountId, {
      eventId,
      kind: 'upgrade',
      mode: 'set',
      credits: plan.credits,
      plan: { planId, creditsTotal: plan.credits },
      now,
    });
    await this.store.clearSchedule(accountId);
    await this.credits.publishEvents([
      {
        event_id: `subscription.upgraded:${eventId}`,
        account_id: accountId,
        event: 'subscription.upgraded',
        batch_id: null,
        data_json: JSON.stringify({
          plan_id: planId,
          previous_plan_id: from,
          credits_total: after.credits_total,
          credits_remaining: after.balance,
          billing_cycle_start: after.cycle_start.slice(0, 10),
          billing_cycle_end: after.cycle_end.slice(0, 10),
        }),
        occurred_at: now.getTime(),
      },
    ]);
    return this.view(after, await this.store.account(accountId));
  }

  /**
   * POST /billing/downgrade: scheduled for the cycle's end. Stripe is told now, without proration, so the
   * next invoice bills the lower price (payg: the subscription cancels at the period's end); the plan and
   * credits change when the cycle rolls.
   */
  async downgrade(user: User, planId: PlanId): Promise<SubscriptionView> {
    const accountId = user.account_id;
    const state = await this.current(accountId);
    const from = isPlanId(state.plan_id) ? state.plan_id : DEFAULT_PLAN;
    if (compareTiers(planId, from) >= 0) {
      throw problem(409, `${planId} is not below the current plan ${from}: use POST /billing/upgrade`);
    }
    const billing = await this.store.account(accountId);
    if (billing.subscription_id) {
      const subscription = billing.subscription_id;
      if (planId === DEFAULT_PLAN) {
        await viaStripe('subscription update', () =>
          this.stripe.subscriptions.update(subscription, { cancel_at_period_end: true }),
        );
      } else {
        await this.changeStripePrice(subscription, planId, 'none');
      }
    }
    await this.store.schedule(accountId, planId, state.cycle_end);
    return this.view(state, await this.store.account(accountId));
  }

  private async changeStripePrice(
    subscriptionId: string,
    planId: PlanId,
    proration: 'always_invoice' | 'none',
  ): Promise<void> {
    const plan = this.plans[planId];
    await viaStripe('subscription update', async () => {
      const subscription = await this.stripe.subscriptions.retrieve(subscriptionId);
      const item = subscription.items.data[0]?.id;
      if (!item) throw new Error(`subscription ${subscriptionId} has no item`);
      const price = await this.stripe.prices.create({
        currency: this.config.BILLING_CURRENCY,
        unit_amount: this.priced(plan.priceCents).amount_cents,
        recurring: { interval: 'month' },
        product_data: { name: `Leedrush ${plan.name}` },
        metadata: { plan_id: planId },
      });
      await this.stripe.subscriptions.update(subscriptionId, {
        items: [{ id: item, price: price.id }],
        proration_behavior: proration,
        cancel_at_period_end: false,
        metadata: { plan_id: planId },
      });
    });
  }

  /**
   * POST /billing/refund: reserved on the order first (concurrent refunds cannot exceed it), then asked of
   * Stripe; a top-up refund takes its share of the credits back (not below 0).
   */
  async refund(user: User, orderId: string, cents: number, reason: string) {
    const reserved = await this.store.reserveRefund(orderId, user.account_id, cents);
    if (reserved.code === 'missing') throw problem(404, 'no such order');
    if (reserved.code === 'unpaid') throw problem(409, 'the order is not paid: nothing to refund');
    if (reserved.code === 'over') {
      const left = reserved.amount - reserved.refundedBefore;
      throw problem(409, `amount ${cents} exceeds what is left to refund on the order (${left} cents)`);
    }
    const order = (await this.store.order(orderId)) as Order;
    const payment = order.payment_intent
      ? { payment_intent: order.payment_intent }
      : order.charge_id
        ? { charge: order.charge_id }
        : null;
    let refund: Stripe.Refund;
    try {
      if (!payment) throw problem(409, 'the order has no Stripe payment to refund yet');
      refund = await viaStripe('refund', () =>
        this.stripe.refunds.create(
          {
            ...payment,
            amount: cents,
            reason: 'requested_by_customer',
            metadata: { order_id: orderId, account_id: user.account_id, reason },
          },
          { idempotencyKey: `refund:${orderId}:${reserved.refundedBefore}:${cents}` },
        ),
      );
    } catch (err) {
      await this.store.releaseRefund(orderId, cents);
      throw err;
    }
    const refundedAfter = reserved.refundedBefore + cents;
    const creditsRemoved = await this.takeBackCredits(
      order,
      reserved.refundedBefore,
      refundedAfter,
      refund.id,
    );
    const now = this.clock().toISOString();
    const result = {
      refund_id: refund.id,
      order_id: orderId,
      amount: cents,
      currency: order.currency,
      reason,
      status: refund.status ?? 'pending',
      amount_refunded: refundedAfter,
      amount_remaining: order.amount_cents - refundedAfter,
      credits_removed: creditsRemoved,
      created_at: now,
    };
    await this.store.addRefund(orderId, result);
    return result;
  }

  /**
   * A top-up's credits in proportion to the refunded share: after refunds totalling R of an order of A
   * cents for C credits, floor(C·R/A) credits are gone. The ledger event id names the refunded total, so
   * the same refund seen again (our API, then Stripe's charge.refunded) takes nothing twice.
   */
  async takeBackCredits(order: Order, before: number, after: number, reference: string): Promise<number> {
    if (order.kind !== 'topup' || after <= before || order.amount_cents <= 0) return 0;
    const share = (cents: number) => Math.floor((order.credits * cents) / order.amount_cents);
    const credits = share(after) - share(before);
    if (credits <= 0) return 0;
    const balanceBefore = (await this.current(order.account_id)).balance;
    const { state } = await this.credits.apply(order.account_id, {
      eventId: `refund:${order.order_id}:${after}`,
      kind: 'refund',
      mode: 'add',
      credits: -credits,
      reference,
      now: this.clock(),
    });
    return Math.max(0, balanceBefore - state.balance);
  }

  /** The order's invoice (numbered once); the customer as the account store knows it now. */
  async invoiceFor(order: Order, period: { start: string; end: string } | null): Promise<string> {
    const user = await this.accounts.byAccount(order.account_id);
    const plan = isPlanId(order.plan_id) ? this.plans[order.plan_id] : null;
    const description =
      order.kind === 'topup'
        ? `${order.credits} credits (top-up)`
        : `${plan?.name ?? order.plan_id} plan, ${order.kind === 'renewal' ? 'renewal' : 'subscription'}`;
    const invoice: Omit<Invoice, 'invoice_number'> = {
      account_id: order.account_id,
      order_id: order.order_id,
      created_at: order.paid_at || this.clock().toISOString(),
      period_start: period?.start ?? null,
      period_end: period?.end ?? null,
      currency: order.currency,
      lines: [
        { description, quantity: 1, unit_cents: order.subtotal_cents, amount_cents: order.subtotal_cents },
      ],
      subtotal_cents: order.subtotal_cents,
      vat_percent: this.config.BILLING_VAT_PERCENT,
      vat_cents: order.vat_cents,
      total_cents: order.amount_cents,
      customer: { company: user?.company ?? '', email: user?.email ?? '', account_id: order.account_id },
      seller: this.config.BILLING_SELLER.split('|').map((s) => s.trim()),
    };
    return this.store.createInvoice(order, invoice);
  }

  /** Net and VAT of a gross amount Stripe charged (renewal invoices). */
  split(grossCents: number): Pick<Order, 'subtotal_cents' | 'vat_cents' | 'amount_cents'> {
    const net = Math.round(grossCents / (1 + this.config.BILLING_VAT_PERCENT / 100));
    return { subtotal_cents: net, vat_cents: grossCents - net, amount_cents: grossCents };
  }

  /** A cycle for a subscription that starts now. */
  freshCycle(now: Date): { cycleStart: string; cycleEnd: string } {
    return { cycleStart: now.toISOString(), cycleEnd: addUtcMonth(now).toISOString() };
  }

  /**
   * The periodic job: sends credit movements a failed publish left held, then rolls every cycle that
   * ended by now; returns how many accounts it looked at.
   */
  async rollDue(limit = 500): Promise<number> {
    await this.credits
      .publishHeld()
      .catch((err) => this.log.error({ err }, 'publishing held credit movements failed'));
    const now = this.clock();
    const accounts = await this.store.cyclesEndedBy(now, limit);
    for (const accountId of accounts) {
      await this.current(accountId, now).catch((err) =>
        this.log.error({ err, account_id: accountId }, 'billing cycle roll failed'),
      );
    }
    return accounts.length;
  }
}
