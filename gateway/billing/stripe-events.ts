import type Stripe from 'stripe';
import { isPlanId } from '../plans.ts';
import type { Billing } from './service.ts';
import type { Order } from './store.ts';

/**
 * Stripe events in. Each handler is idempotent on its own (order transitions, ledger event ids, one
 * invoice per order), so an event processed half-way and retried by Stripe completes without doing
 * anything twice; the route also skips event ids processed before.
 *
 * Returns false for event types not handled (acknowledged all the same).
 */
export async function handleStripeEvent(billing: Billing, event: Stripe.Event): Promise<boolean> {
  switch (event.type) {
    case 'checkout.session.completed':
      await checkoutCompleted(billing, event.data.object);
      return true;
    case 'invoice.paid':
      await invoicePaid(billing, event.data.object);
      return true;
    case 'invoice.payment_failed':
      await invoiceFailed(billing, event.data.object);
      return true;
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted':
      await subscriptionChanged(billing, event.data.object, event.type === 'customer.subscription.deleted');
      return true;
    case 'charge.refunded':
      await chargeRefunded(billing, event.data.object);
      return true;
    default:
      return false;
  }
}

const idOf = (v: string | { id: string } | null | undefined): string =>
  typeof v === 'string' ? v : (v?.id ?? '');

async function checkoutCompleted(billing: Billing, session: Stripe.Checkout.Session): Promise<void> {
  const orderId = session.metadata?.order_id || (await billing.store.ref('session', session.id));
  const order = orderId ? await billing.store.order(orderId) : null;
  // The session must be the one the order opened: metadata alone could name any order.
  if (!order || order.session_id !== session.id) {
    throw new UnknownObject(`checkout session ${session.id} belongs to no order`);
  }
  // Delayed payment methods complete the session unpaid; their money has not arrived.
  if (session.payment_status === 'unpaid') return;
  const now = billing.clock();
  const refs = {
    payment_intent: idOf(session.payment_intent),
    subscription_id: idOf(session.subscription),
  };
  await billing.store.markPaid(order.order_id, now.toISOString(), refs);
  if (refs.payment_intent) await billing.store.setRef('payment_intent', refs.payment_intent, order.order_id);
  const paid = { ...order, ...refs, status: 'paid', paid_at: order.paid_at || now.toISOString() } as Order;
  if (order.kind === 'subscription') await subscriptionStarted(billing, paid, now);
  else await topupPaid(billing, paid, now);
}

async function subscriptionStarted(billing: Billing, order: Order, now: Date): Promise<void> {
  const accountId = order.account_id;
  if (!isPlanId(order.plan_id)) throw new Error(`order ${order.order_id} has unknown plan ${order.plan_id}`);
  if (order.subscription_id) {
    await billing.store.setSubscription(accountId, order.subscription_id, 'active');
    await billing.store.setRef('subscription', order.subscription_id, order.order_id);
  } else {
    await billing.store.setStatus(accountId, 'active');
  }
  await billing.store.clearSchedule(accountId);
  await billing.current(accountId, now);
  const plan = billing.plans[order.plan_id];
  const cycle = billing.freshCycle(new Date(order.paid_at));
  await billing.credits.apply(accountId, {
    eventId: `order:${order.order_id}`,
    kind: 'grant',
    mode: 'set',
    credits: plan.credits,
    reference: order.subscription_id || order.session_id,
    plan: { planId: order.plan_id, creditsTotal: plan.credits, ...cycle },
    now,
  });
  await billing.invoiceFor(order, { start: cycle.cycleStart, end: cycle.cycleEnd });
}

async function topupPaid(billing: Billing, order: Order, now: Date): Promise<void> {
  await billing.current(order.account_id, now);
  const { state } = await billing.credits.apply(order.account_id, {
    eventId: `topup:${order.order_id}`,
    kind: 'topup',
    mode: 'add',
    credits: order.credits,
    reference: order.payment_intent || order.session_id,
    now,
  });
  await billing.invoiceFor(order, null);
  // Published again on a retry: the event id makes the dispatcher deliver it once per endpoint.
  await billing.credits.publishEvents([
    {
      event_id: `topup.completed:${order.order_id}`,
      account_id: order.account_id,
      event: 'topup.completed',
      batch_id: null,
      data_json: JSON.stringify({
        order_id: order.order_id,
        credits: order.credits,
        amount: order.amount_cents / 100,
        currency: order.currency,
        credits_remaining: state.balance,
      }),
      occurred_at: Date.parse(order.paid_at),
    },
  ]);
}

/** The subscription id of an invoice, in the API versions before and after Stripe moved it under `parent`. */
function invoiceSubscription(invoice: Stripe.Invoice): string {
  const legacy = (invoice as unknown as { subscription?: string | { id: string } | null }).subscription;
  return idOf(legacy) || idOf(invoice.parent?.subscription_details?.subscription);
}

function invoicePaymentIntent(invoice: Stripe.Invoice): string {
  const legacy = (invoice as unknown as { payment_intent?: string | { id: string } | null }).payment_intent;
  return idOf(legacy) || idOf(invoice.payments?.data?.[0]?.payment?.payment_intent);
}

async function invoiceAccount(billing: Billing, invoice: Stripe.Invoice): Promise<string> {
  const subscription = invoiceSubscription(invoice);
  const order = await billing.store.ref('subscription', subscription);
  const fromOrder = order ? (await billing.store.order(order))?.account_id : null;
  const account = fromOrder ?? (await billing.store.ref('customer', idOf(invoice.customer)));
  if (!account) throw new UnknownObject(`invoice ${invoice.id} names no known subscription or customer`);
  return account;
}

/**
 * The first invoice of a subscription belongs to its checkout order (its payment becomes refundable);
 * any later one (renewal, proration) is an order and an invoice of its own, and a renewal rolls the
 * cycle when it is due (the cycle's event id makes this and the lazy roll one movement).
 */
async function invoicePaid(billing: Billing, invoice: Stripe.Invoice): Promise<void> {
  const accountId = await invoiceAccount(billing, invoice);
  const paymentIntent = invoicePaymentIntent(invoice);
  const now = billing.clock();
  if (invoice.billing_reason === 'subscription_create') {
    const orderId = await billing.store.ref('subscription', invoiceSubscription(invoice));
    if (!orderId) throw new UnknownObject(`invoice ${invoice.id}: no checkout order for its subscription`);
    await billing.store.markPaid(orderId, now.toISOString(), {
      payment_intent: paymentIntent,
      stripe_invoice_id: invoice.id ?? '',
    });
    if (paymentIntent) await billing.store.setRef('payment_intent', paymentIntent, orderId);
    await billing.store.setStatus(accountId, 'active');
    return;
  }
  const state = await billing.current(accountId, now);
  const order: Order = {
    ...billing.newOrder(accountId, 'renewal', state.plan_id, 0, 0),
    ...billing.split(invoice.amount_paid),
    order_id: `ord_${invoice.id}`,
    status: 'paid',
    paid_at: now.toISOString(),
    payment_intent: paymentIntent,
    subscription_id: invoiceSubscription(invoice),
    stripe_invoice_id: invoice.id ?? '',
  };
  await billing.store.createOrder(order);
  if (paymentIntent) await billing.store.setRef('payment_intent', paymentIntent, order.order_id);
  await billing.store.setStatus(accountId, 'active');
  const line = invoice.lines?.data?.[0]?.period;
  const period = line
    ? { start: new Date(line.start * 1000).toISOString(), end: new Date(line.end * 1000).toISOString() }
    : { start: state.cycle_start, end: state.cycle_end };
  const stored = (await billing.store.order(order.order_id)) as Order;
  await billing.invoiceFor(stored, period);
}

async function invoiceFailed(billing: Billing, invoice: Stripe.Invoice): Promise<void> {
  await billing.store.setStatus(await invoiceAccount(billing, invoice), 'past_due');
}

/**
 * Status changes made on Stripe's side. A subscription that ends (deleted, or set to cancel at the
 * period's end) keeps its plan to the cycle's end and then falls to payg, like a downgrade.
 */
async function subscriptionChanged(
  billing: Billing,
  sub: Stripe.Subscription,
  deleted: boolean,
): Promise<void> {
  const orderId = await billing.store.ref('subscription', sub.id);
  const accountId =
    (orderId ? (await billing.store.order(orderId))?.account_id : null) ??
    sub.metadata?.account_id ??
    (await billing.store.ref('customer', idOf(sub.customer)));
  if (!accountId) throw new UnknownObject(`subscription ${sub.id} belongs to no account`);
  const state = await billing.current(accountId);
  if (deleted) {
    await billing.store.setSubscription(accountId, null, 'canceled');
  } else {
    await billing.store.setStatus(accountId, sub.status);
  }
  if (deleted || sub.cancel_at_period_end) await billing.store.schedule(accountId, 'payg', state.cycle_end);
}

/** Refunds made in the Stripe dashboard; ours are already counted (the order's refunded total). */
async function chargeRefunded(billing: Billing, charge: Stripe.Charge): Promise<void> {
  const orderId = await billing.store.ref('payment_intent', idOf(charge.payment_intent));
  if (!orderId) throw new UnknownObject(`charge ${charge.id} pays no known order`);
  const moved = await billing.store.refundedTotal(orderId, charge.amount_refunded);
  const order = await billing.store.order(orderId);
  if (!moved || !order) return;
  if (!order.charge_id) await billing.store.setOrderFields(orderId, { charge_id: charge.id });
  await billing.takeBackCredits(order, moved.before, moved.after, charge.id);
}

/** An event about an object this product never made: acknowledged (Stripe must not retry it for days). */
export class UnknownObject extends Error {}
