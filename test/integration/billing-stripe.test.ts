import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageEvent, WebhookEvent } from '../../schemas/generated.ts';
import { CreditLedger } from '../../services/lib/credit-ledger.ts';
import { TOPICS, topicName } from '../../services/lib/names.ts';
import { AvroCodec, registrySchemaSource } from '../../services/runtime/index.ts';
import { testGateway } from '../support/gateway.ts';
import { completedSession, postEvent, signedEvent } from '../support/stripe.ts';
import { decodedOrThrow, followTopic } from '../support/topic-follower.ts';

/**
 * The Stripe side of billing against the real stripe-mock (checkout sessions, customers, prices,
 * subscription updates and refunds are real SDK calls it validates) and the real Redis and Kafka. Stripe's
 * webhooks are played by the test: events signed with the endpoint secret. Time is the billing clock,
 * moved by the test (no sleeps).
 */
const SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const gw = await testGateway('billing', {
  BILLING_PLAN_CREDITS: 'payg=50,starter=100,professional=300,scale=600,enterprise=1000',
  STRIPE_WEBHOOK_SECRET: SECRET,
  BILLING_VAT_PERCENT: '20',
});
let now = new Date('2026-03-10T12:00:00.000Z');
gw.deps.billing.clock = () => now;
const ledger = new CreditLedger(gw.deps.redis, gw.deps.key, { planId: 'payg', credits: 50 });

const outbox: WebhookEvent[] = [];
const usage: UsageEvent[] = [];
const stops: (() => Promise<void>)[] = [];
const kafka = new kafkajs.Kafka({ brokers: gw.config.KAFKA_BROKERS, logLevel: kafkajs.logLevel.NOTHING });
const codec = new AvroCodec(registrySchemaSource(gw.config.SCHEMA_REGISTRY_URL));

beforeAll(async () => {
  const topic = (base: string) => topicName(gw.config.LEEDRUSH_PREFIX, base);
  stops.push(
    await followTopic<WebhookEvent>(kafka, codec, topic(TOPICS.webhooksOutbox), 'WebhookEvent', (d) =>
      outbox.push(decodedOrThrow(d)),
    ),
    await followTopic<UsageEvent>(kafka, codec, topic(TOPICS.usage), 'UsageEvent', (d) =>
      usage.push(decodedOrThrow(d)),
    ),
  );
});
afterAll(async () => {
  for (const stop of stops) await stop();
  await gw.close();
});

type Json = Record<string, unknown>;
async function call(method: string, path: string, token: string, body?: unknown) {
  const res = await gw.json(method, path, body, token);
  return { status: res.status, body: (await res.json()) as Json & Json[] };
}
const subscription = async (token: string) => (await call('GET', '/billing/subscription', token)).body;
const send = (type: string, object: object, at = now) =>
  postEvent(gw.app, signedEvent(type, object, SECRET, at));
/** Leads consumed by the pipeline's meter, as the meter does it. */
const consume = (accountId: string, n: number) =>
  ledger.charge(
    accountId,
    'batch_test',
    Array.from({ length: n }, () => `lead_${randomBytes(6).toString('hex')}`),
    now,
  );

async function subscribed(planId: string) {
  const user = await gw.signUp();
  const checkout = await call('POST', '/billing/checkout', user.token, { plan_id: planId });
  expect(checkout.status).toBe(201);
  const session = completedSession(checkout.body as never, user.accountId, 'subscription');
  const res = await send('checkout.session.completed', session);
  expect(res.status).toBe(200);
  return { ...user, checkout: checkout.body, session };
}

function pdfText(pdf: Uint8Array): string {
  const run = spawnSync('pdftotext', ['-layout', '-', '-'], { input: pdf, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`pdftotext: ${run.stderr}`);
  return run.stdout;
}

describe('checkout and the Stripe webhook', () => {
  it('checkout → signed checkout.session.completed → the plan active with its credits, once', async () => {
    const user = await gw.signUp();
    // payg's 30/min, read through the user cache the next requests share
    expect(
      (await gw.json('GET', '/auth/whoami', undefined, user.token)).headers.get('x-ratelimit-limit'),
    ).toBe('30');
    expect(await subscription(user.token)).toMatchObject({
      plan_id: 'payg',
      credits_total: 50,
      credits_remaining: 50,
      billing_cycle_start: '2026-03-10',
      billing_cycle_end: '2026-04-10',
      status: 'active',
    });

    const checkout = await call('POST', '/billing/checkout', user.token, { plan_id: 'starter' });
    expect(checkout.status).toBe(201);
    expect(checkout.body.checkout_url).toMatch(/^https:\/\/checkout\.stripe\.com\//);
    expect(checkout.body.session_id).toMatch(/^cs_/);
    const session = completedSession(checkout.body as never, user.accountId, 'subscription');

    // A bad signature (wrong secret) and a tampered body are refused and change nothing.
    const forged = signedEvent('checkout.session.completed', session, 'whsec_not_the_secret', now);
    expect((await postEvent(gw.app, forged)).status).toBe(400);
    const good = signedEvent('checkout.session.completed', session, SECRET, now);
    const tampered = await postEvent(gw.app, { ...good, body: good.body.replace('"paid"', '"paid" ') });
    expect(tampered.status).toBe(400);
    expect((await tampered.json()) as Json).toHaveProperty('detail');
    const unsigned = await gw.app.request('/api/billing/stripe-webhook', { method: 'POST', body: good.body });
    expect(unsigned.status).toBe(400);
    // Signed longer ago than the tolerance (300 s by default).
    const stale = signedEvent(
      'checkout.session.completed',
      session,
      SECRET,
      new Date(now.getTime() - 600_000),
    );
    expect((await postEvent(gw.app, stale)).status).toBe(400);
    // Signed, but not JSON: 400 naming that.
    const garbage = 'not json';
    const signedGarbage = new Stripe('sk_test_123').webhooks.generateTestHeaderString({
      payload: garbage,
      secret: SECRET,
      timestamp: Math.floor(now.getTime() / 1000),
    });
    const parsed = await postEvent(gw.app, { body: garbage, signature: signedGarbage });
    expect(parsed.status).toBe(400);
    expect(((await parsed.json()) as Json).detail).toMatch(/^not a Stripe event/);
    expect(await subscription(user.token)).toMatchObject({ plan_id: 'payg', credits_remaining: 50 });

    const first = await postEvent(gw.app, good);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ received: true, duplicate: false, handled: true });
    expect(await subscription(user.token)).toMatchObject({
      plan_id: 'starter',
      plan_name: 'Starter',
      credits_total: 100,
      credits_remaining: 100,
      status: 'active',
    });
    // The account store sees the plan at once (rate limits and plan checks read it): starter's 60/min.
    const whoami = await gw.json('GET', '/auth/whoami', undefined, user.token);
    expect(((await whoami.json()) as Json).plan_id).toBe('starter');
    expect(whoami.headers.get('x-ratelimit-limit')).toBe('60');

    // Replays: the same event, and another event about the same session, apply nothing again.
    await consume(user.accountId, 10);
    const replay = await postEvent(gw.app, good);
    expect(await replay.json()).toMatchObject({ received: true, duplicate: true });
    expect((await send('checkout.session.completed', session)).status).toBe(200);
    expect((await subscription(user.token)).credits_remaining).toBe(90);
    expect((await call('GET', '/billing/invoices', user.token)).body).toHaveLength(1);

    // A session that is not the order's is acknowledged and ignored.
    const wrong = await send('checkout.session.completed', { ...session, id: 'cs_test_someone_else' });
    expect(await wrong.json()).toMatchObject({ handled: false });

    // Every movement is on usage.events for the audit: the opening grant, then the plan's credits.
    await expect
      .poll(() => usage.filter((u) => u.account_id === user.accountId).map((u) => [u.kind, u.balance_after]))
      .toEqual([
        ['grant', 50],
        ['grant', 100],
      ]);
  });

  it('answers 400 for payg or an unknown plan, 409 for a second subscription, 401 without a token', async () => {
    const user = await subscribed('starter');
    expect((await call('POST', '/billing/checkout', user.token, { plan_id: 'payg' })).status).toBe(400);
    expect((await call('POST', '/billing/checkout', user.token, { plan_id: 'gold' })).status).toBe(400);
    const again = await call('POST', '/billing/checkout', user.token, { plan_id: 'scale' });
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/already has a subscription/);
    for (const path of ['/billing/subscription', '/billing/invoices']) {
      expect((await gw.json('GET', path)).status).toBe(401);
    }
    expect((await gw.json('POST', '/billing/refund', { order_id: 'x', amount: 1, reason: 'r' })).status).toBe(
      401,
    );
  });
});

describe('cycles: upgrade now, downgrade at the cycle end', () => {
  it('follows both rules across a cycle boundary, with the clock moved', async () => {
    now = new Date('2026-03-10T12:00:00.000Z');
    const user = await subscribed('starter');
    await consume(user.accountId, 30);
    expect((await call('POST', '/billing/upgrade', user.token, { plan_id: 'starter' })).status).toBe(409);
    expect((await call('POST', '/billing/downgrade', user.token, { plan_id: 'scale' })).status).toBe(409);

    now = new Date('2026-03-20T08:00:00.000Z');
    const up = await call('POST', '/billing/upgrade', user.token, { plan_id: 'professional' });
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({
      plan_id: 'professional',
      credits_total: 300,
      credits_remaining: 300,
      billing_cycle_start: '2026-03-10',
      billing_cycle_end: '2026-04-10',
    });
    await expect
      .poll(() =>
        outbox.filter((e) => e.account_id === user.accountId && e.event === 'subscription.upgraded'),
      )
      .toHaveLength(1);
    const upgraded = outbox.find(
      (e) => e.account_id === user.accountId && e.event === 'subscription.upgraded',
    );
    expect(JSON.parse(upgraded?.data_json ?? '{}')).toMatchObject({
      plan_id: 'professional',
      previous_plan_id: 'starter',
      credits_total: 300,
    });

    const down = await call('POST', '/billing/downgrade', user.token, { plan_id: 'starter' });
    expect(down.status).toBe(200);
    expect(down.body).toMatchObject({
      plan_id: 'professional',
      credits_remaining: 300,
      scheduled_plan_id: 'starter',
      scheduled_at: '2026-04-10T12:00:00.000Z',
    });
    await consume(user.accountId, 20);

    now = new Date('2026-04-10T11:59:59.000Z');
    expect(await subscription(user.token)).toMatchObject({ plan_id: 'professional', credits_remaining: 280 });

    now = new Date('2026-04-10T13:00:00.000Z');
    expect(await subscription(user.token)).toMatchObject({
      plan_id: 'starter',
      credits_total: 100,
      credits_remaining: 100,
      billing_cycle_start: '2026-04-10',
      billing_cycle_end: '2026-05-10',
      scheduled_plan_id: null,
    });
    expect((await call('GET', '/auth/whoami', user.token)).body.plan_id).toBe('starter');
    // The new cycle's reset happened once: reads within the cycle keep what was consumed.
    await consume(user.accountId, 5);
    expect((await subscription(user.token)).credits_remaining).toBe(95);

    // The periodic job rolls an account nobody reads: the next cycle, seen in the ledger directly.
    now = new Date('2026-05-10T12:30:00.000Z');
    expect(await gw.deps.billing.rollDue()).toBeGreaterThanOrEqual(1);
    expect(await ledger.state(user.accountId)).toMatchObject({
      plan_id: 'starter',
      balance: 100,
      cycle_start: '2026-05-10T12:00:00.000Z',
    });
    // usage.events holds every movement but the meter's own (the pipeline publishes those).
    await expect
      .poll(() =>
        usage.filter((u) => u.account_id === user.accountId).map((u) => [u.kind, u.credits, u.balance_after]),
      )
      .toEqual([
        ['grant', 50, 50],
        ['grant', 50, 100],
        ['upgrade', 230, 300],
        ['downgrade', -180, 100],
        ['cycle', 5, 100],
      ]);
  });

  it('sends a movement a failed publish left held with the next run of the cycle job', async () => {
    const movement: UsageEvent = {
      event_id: `topup:ord_held_${randomBytes(4).toString('hex')}`,
      account_id: 'acc_held',
      kind: 'topup',
      credits: 7,
      balance_after: 7,
      batch_id: null,
      lead_id: null,
      reference: null,
      occurred_at: now.getTime(),
    };
    // What BillingCredits leaves behind when Kafka refused the send after the ledger moved.
    await gw.deps.billing.store.holdMovements([movement]);
    await gw.deps.billing.rollDue();
    await expect.poll(() => usage.filter((u) => u.event_id === movement.event_id)).toEqual([movement]);
    expect((await gw.deps.billing.store.heldMovements(10)).held).toEqual([]);
  });

  it('upgrade needs a subscription; Stripe events move the status and end the subscription at the cycle end', async () => {
    now = new Date('2026-03-10T12:00:00.000Z');
    const payg = await gw.signUp();
    const none = await call('POST', '/billing/upgrade', payg.token, { plan_id: 'starter' });
    expect(none.status).toBe(409);
    expect(none.body.detail).toMatch(/checkout/);

    const user = await subscribed('starter');
    const sub = (user.session as { subscription: string }).subscription;
    const invoice = (reason: string, id: string, amount: number) => ({
      id,
      object: 'invoice',
      customer: 'cus_unknown',
      subscription: sub,
      billing_reason: reason,
      amount_paid: amount,
      payment_intent: `pi_${id}`,
      lines: { object: 'list', data: [{ period: { start: 1775822400, end: 1778414400 } }] },
    });
    // The first invoice belongs to the checkout order: no second invoice.
    expect((await send('invoice.paid', invoice('subscription_create', 'in_first', 11880))).status).toBe(200);
    expect((await call('GET', '/billing/invoices', user.token)).body).toHaveLength(1);
    // ... and makes the checkout order refundable (its payment intent came with the invoice).
    const refund = await call('POST', '/billing/refund', user.token, {
      order_id: user.checkout.order_id,
      amount: 1000,
      reason: 'goodwill',
    });
    expect(refund.status).toBe(201);
    expect(refund.body).toMatchObject({ amount_remaining: 10_880, credits_removed: 0 });
    expect((await subscription(user.token)).credits_remaining).toBe(100);

    await send('invoice.payment_failed', invoice('subscription_cycle', 'in_failed', 11880));
    expect((await subscription(user.token)).status).toBe('past_due');

    now = new Date('2026-04-10T12:00:05.000Z');
    await consume(user.accountId, 40);
    expect((await send('invoice.paid', invoice('subscription_cycle', 'in_renewal', 11880))).status).toBe(200);
    const after = await subscription(user.token);
    expect(after).toMatchObject({
      status: 'active',
      credits_remaining: 100,
      billing_cycle_start: '2026-04-10',
    });
    const invoices = (await call('GET', '/billing/invoices', user.token)).body as Json[];
    expect(invoices.map((i) => i.amount)).toEqual([118.8, 118.8]);
    // Pagination as every list endpoint (API.md): an envelope with any parameter, 400 for an unknown sort.
    const page = await call('GET', '/billing/invoices?limit=1&order=asc', user.token);
    expect(page.body).toMatchObject({ total: 2, limit: 1, offset: 0, has_more: true });
    expect((page.body.items as Json[])[0]?.invoice_number).toBe(invoices[1]?.invoice_number);
    expect((await call('GET', '/billing/invoices?sort=bogus', user.token)).status).toBe(400);
    expect((await call('GET', '/billing/invoices?order=up', user.token)).status).toBe(400);

    // Cancelled on Stripe's side at the period end: payg is scheduled for the cycle's end.
    await send('customer.subscription.updated', {
      id: sub,
      object: 'subscription',
      status: 'active',
      cancel_at_period_end: true,
      customer: 'x',
    });
    expect(await subscription(user.token)).toMatchObject({ status: 'active', scheduled_plan_id: 'payg' });
    await send('customer.subscription.deleted', {
      id: sub,
      object: 'subscription',
      status: 'canceled',
      customer: 'x',
    });
    expect(await subscription(user.token)).toMatchObject({
      status: 'canceled',
      plan_id: 'starter',
      scheduled_plan_id: 'payg',
      scheduled_at: '2026-05-10T12:00:00.000Z',
    });
  });
});

describe('top-ups, invoices and refunds', () => {
  it('adds top-up credits once, sends topup.completed, invoices it, refunds partially and fully', async () => {
    now = new Date('2026-03-10T12:00:00.000Z');
    const user = await gw.signUp();
    expect((await call('POST', '/billing/topup', user.token, { credits: 5 })).status).toBe(400);
    const topup = await call('POST', '/billing/topup', user.token, { credits: 500 });
    expect(topup.status).toBe(201);
    // 500 credits x 10 cents + 20 % VAT
    expect(topup.body).toMatchObject({ credits: 500, amount: 60 });
    const session = completedSession(topup.body as never, user.accountId, 'payment');
    const event = signedEvent('checkout.session.completed', session, SECRET, now);
    for (let i = 0; i < 3; i++) expect((await postEvent(gw.app, event)).status).toBe(200);
    expect((await send('checkout.session.completed', session)).status).toBe(200);
    expect((await subscription(user.token)).credits_remaining).toBe(550);
    await expect
      .poll(() => outbox.filter((e) => e.account_id === user.accountId && e.event === 'topup.completed'))
      .toHaveLength(2); // two Stripe events about the session; one event id, so one delivery
    const completed = outbox.filter((e) => e.account_id === user.accountId && e.event === 'topup.completed');
    expect(new Set(completed.map((e) => e.event_id)).size).toBe(1);
    expect(JSON.parse(completed[0]?.data_json ?? '{}')).toMatchObject({
      credits: 500,
      credits_remaining: 550,
    });

    // The invoice: list and PDF, read back with pdftotext.
    const invoices = (await call('GET', '/billing/invoices', user.token)).body as Json[];
    expect(invoices).toHaveLength(1);
    const number = String(invoices[0]?.invoice_number);
    expect(number).toMatch(/^INV-2026-\d{3,}$/);
    expect(invoices[0]).toMatchObject({ amount: 60, status: 'paid', order_id: topup.body.order_id });
    const pdfRes = await gw.app.request(`/api/billing/invoices/${number}/pdf`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(pdfRes.status).toBe(200);
    expect(pdfRes.headers.get('content-type')).toBe('application/pdf');
    const text = pdfText(new Uint8Array(await pdfRes.arrayBuffer()));
    expect(text).toContain(`Invoice ${number}`);
    expect(text).toContain('Invoice date: 2026-03-10');
    expect(text).toContain('500 credits (top-up): 1 x 50.00 USD = 50.00 USD');
    expect(text).toMatch(/Subtotal: 50\.00 USD/);
    expect(text).toMatch(/VAT \(20%\): 10\.00 USD/);
    expect(text).toMatch(/Total: 60\.00 USD/);
    expect(text).toContain(user.email);

    // Another tenant sees neither the invoice nor the order.
    const other = await gw.signUp();
    expect((await call('GET', '/billing/invoices', other.token)).body).toEqual([]);
    const foreignPdf = await gw.json('GET', `/billing/invoices/${number}/pdf`, undefined, other.token);
    expect(foreignPdf.status).toBe(404);
    const orderId = String(topup.body.order_id);
    const foreign = await call('POST', '/billing/refund', other.token, {
      order_id: orderId,
      amount: 100,
      reason: 'x',
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toHaveProperty('detail');

    // Validation.
    expect(
      (await call('POST', '/billing/refund', user.token, { order_id: orderId, amount: 0, reason: 'x' }))
        .status,
    ).toBe(400);
    expect(
      (await call('POST', '/billing/refund', user.token, { order_id: orderId, amount: 10 })).status,
    ).toBe(400);

    // Partial: a quarter of the money, a quarter of the credits.
    const partial = await call('POST', '/billing/refund', user.token, {
      order_id: orderId,
      amount: 1500,
      reason: 'Customer request',
    });
    expect(partial.status).toBe(201);
    expect(partial.body).toMatchObject({
      order_id: orderId,
      amount: 1500,
      amount_refunded: 1500,
      amount_remaining: 4500,
      credits_removed: 125,
      reason: 'Customer request',
    });
    expect(partial.body.refund_id).toMatch(/^re_/);
    expect((await subscription(user.token)).credits_remaining).toBe(425);
    const over = await call('POST', '/billing/refund', user.token, {
      order_id: orderId,
      amount: 4501,
      reason: 'x',
    });
    expect(over.status).toBe(409);
    expect(over.body.detail).toMatch(/4500/);

    // Full: the rest; the credits go back only down to 0.
    await consume(user.accountId, 400);
    const full = await call('POST', '/billing/refund', user.token, {
      order_id: orderId,
      amount: 4500,
      reason: 'x',
    });
    expect(full.status).toBe(201);
    expect(full.body).toMatchObject({ amount_remaining: 0, credits_removed: 25 });
    expect((await subscription(user.token)).credits_remaining).toBe(0);
    expect(((await call('GET', '/billing/invoices', user.token)).body as Json[])[0]?.status).toBe('refunded');
    expect(
      (await call('POST', '/billing/refund', user.token, { order_id: orderId, amount: 1, reason: 'x' }))
        .status,
    ).toBe(409);
    // Stripe's charge.refunded for the refunds made here takes nothing more.
    await send('charge.refunded', {
      id: 'ch_1',
      object: 'charge',
      payment_intent: (session as { payment_intent: string }).payment_intent,
      amount: 6000,
      amount_refunded: 6000,
    });
    expect(
      (await call('POST', '/billing/refund', user.token, { order_id: orderId, amount: 1, reason: 'x' }))
        .status,
    ).toBe(409);
    await expect
      .poll(() =>
        usage.filter((u) => u.account_id === user.accountId && u.kind === 'refund').map((u) => u.credits),
      )
      .toEqual([-125, -25]);
  });

  it('refuses a refund of an order not paid yet, and of an unknown order', async () => {
    const user = await gw.signUp();
    const topup = await call('POST', '/billing/topup', user.token, { credits: 100 });
    // The Stripe customer is created once per account: a second checkout reuses it.
    const customer = (await gw.deps.billing.store.account(user.accountId)).customer_id;
    expect(customer).toMatch(/^cus_/);
    expect((await call('POST', '/billing/topup', user.token, { credits: 200 })).status).toBe(201);
    expect((await gw.deps.billing.store.account(user.accountId)).customer_id).toBe(customer);
    const unpaid = await call('POST', '/billing/refund', user.token, {
      order_id: topup.body.order_id,
      amount: 1,
      reason: 'x',
    });
    expect(unpaid.status).toBe(409);
    expect(
      (await call('POST', '/billing/refund', user.token, { order_id: 'ord_nope', amount: 1, reason: 'x' }))
        .status,
    ).toBe(404);
  });

  it('takes back a top-up share once for a refund made in the Stripe dashboard (charge.refunded)', async () => {
    now = new Date('2026-03-10T12:00:00.000Z');
    const user = await gw.signUp();
    const topup = await call('POST', '/billing/topup', user.token, { credits: 1000 });
    const session = completedSession(topup.body as never, user.accountId, 'payment');
    await send('checkout.session.completed', session);
    expect((await subscription(user.token)).credits_remaining).toBe(1050);
    const charge = {
      id: 'ch_dashboard',
      object: 'charge',
      payment_intent: (session as { payment_intent: string }).payment_intent,
      amount: 12_000,
      amount_refunded: 3_000,
    };
    // Two events about the same refunded total: one take-back of a quarter of the credits.
    await send('charge.refunded', charge);
    await send('charge.refunded', charge);
    expect((await subscription(user.token)).credits_remaining).toBe(800);
    // What the dashboard refunded is no longer refundable here.
    const over = await call('POST', '/billing/refund', user.token, {
      order_id: topup.body.order_id,
      amount: 9_001,
      reason: 'x',
    });
    expect(over.status).toBe(409);
  });

  it('numbers invoices in one sequence per year across accounts', async () => {
    now = new Date('2026-03-10T12:00:00.000Z');
    const a = await subscribed('starter');
    const b = await subscribed('professional');
    const na = ((await call('GET', '/billing/invoices', a.token)).body as Json[])[0]
      ?.invoice_number as string;
    const nb = ((await call('GET', '/billing/invoices', b.token)).body as Json[])[0]
      ?.invoice_number as string;
    expect(Number(nb.split('-')[2])).toBe(Number(na.split('-')[2]) + 1);
    const pdf = await gw.app.request(`/api/billing/invoices/${nb}/pdf`, {
      headers: { authorization: `Bearer ${b.token}` },
    });
    const text = pdfText(new Uint8Array(await pdf.arrayBuffer()));
    // professional: 499.00 net + 20 % VAT
    expect(text).toMatch(/Subtotal: 499\.00 USD/);
    expect(text).toMatch(/VAT \(20%\): 99\.80 USD/);
    expect(text).toMatch(/Total: 598\.80 USD/);
    expect(text).toContain('Service period: 2026-03-10 to 2026-04-10');
  });
});
