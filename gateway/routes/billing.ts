import { createRoute, z } from '@hono/zod-openapi';
import Stripe from 'stripe';
import { renderInvoicePdf } from '../billing/invoice-pdf.ts';
import { handleStripeEvent, UnknownObject } from '../billing/stripe-events.ts';
import { problem } from '../errors.ts';
import { ErrorBody, errorResponses, jsonBody } from '../openapi.ts';
import { envelope, listQuery, listSchema, wantsEnvelope } from '../pagination.ts';
import { PLAN_IDS } from '../plans.ts';
import { createRouter } from '../validation.ts';

const PlanBody = z.object({ plan_id: z.enum(PLAN_IDS) });

const Subscription = z
  .object({
    plan_id: z.string(),
    plan_name: z.string(),
    credits_total: z.number().int(),
    credits_remaining: z.number().int(),
    billing_cycle_start: z.string().openapi({ example: '2026-02-01', description: 'UTC date' }),
    billing_cycle_end: z.string().openapi({ example: '2026-03-01', description: 'UTC date' }),
    status: z
      .string()
      .openapi({ description: 'active, past_due, canceled, ... (the Stripe subscription status)' }),
    scheduled_plan_id: z.string().nullable().openapi({
      description: 'A downgrade that takes effect at scheduled_at (the cycle end); null if none',
    }),
    scheduled_at: z.string().nullable(),
  })
  .openapi('Subscription');

const Checkout = z
  .object({
    checkout_url: z.string(),
    session_id: z.string(),
    order_id: z
      .string()
      .openapi({ description: 'The order this checkout pays: what POST /billing/refund names' }),
  })
  .openapi('Checkout');

const Refund = z
  .object({
    refund_id: z.string().openapi({ description: 'The Stripe refund id' }),
    order_id: z.string(),
    amount: z.number().int().openapi({ description: 'Cents refunded by this call' }),
    currency: z.string(),
    reason: z.string(),
    status: z.string(),
    amount_refunded: z.number().int().openapi({ description: 'Cents refunded on the order so far' }),
    amount_remaining: z.number().int().openapi({ description: 'Cents still refundable' }),
    credits_removed: z.number().int().openapi({ description: 'Top-up credits taken back (never below 0)' }),
    created_at: z.string(),
  })
  .openapi('Refund');

const InvoiceItem = z
  .object({
    invoice_number: z.string().openapi({ example: 'INV-2026-001' }),
    amount: z.number().openapi({ description: 'Total with VAT, in currency units', example: 499 }),
    status: z.string().openapi({ description: 'paid, partially_refunded or refunded' }),
    created_at: z.string(),
    order_id: z.string(),
    currency: z.string(),
  })
  .openapi('Invoice');

const INVOICE_SORT = ['created_at', 'amount'] as const;

const secured = { tags: ['billing'], security: [{ bearer: [] }] };

const checkoutRoute = createRoute({
  ...secured,
  method: 'post',
  path: '/billing/checkout',
  description:
    "A Stripe Checkout Session for the plan's monthly subscription (the account's Stripe customer is created " +
    'once). The plan becomes active, with its credits, when Stripe sends checkout.session.completed. 400 for ' +
    'payg (bought by top-ups); 409 when a subscription is already active (use upgrade/downgrade).',
  request: { body: jsonBody(PlanBody) },
  responses: {
    201: { description: 'Session created', content: { 'application/json': { schema: Checkout } } },
    ...errorResponses(400, 401, 409, 429, 502),
  },
});

const subscriptionRoute = createRoute({
  ...secured,
  method: 'get',
  path: '/billing/subscription',
  description: 'The plan, the credits of the current cycle and the cycle; a cycle that ended rolls first.',
  responses: {
    200: { description: 'Subscription', content: { 'application/json': { schema: Subscription } } },
    ...errorResponses(401, 429),
  },
});

/** Upgrade and downgrade: a plan in, the subscription out. */
const planChangeRoute = (
  path: '/billing/upgrade' | '/billing/downgrade',
  description: string,
  answer: string,
) =>
  createRoute({
    ...secured,
    method: 'post',
    path,
    description,
    request: { body: jsonBody(PlanBody) },
    responses: {
      200: { description: answer, content: { 'application/json': { schema: Subscription } } },
      ...errorResponses(400, 401, 409, 429, 502),
    },
  });

const upgradeRoute = planChangeRoute(
  '/billing/upgrade',
  'Immediate: the Stripe subscription moves to the higher plan (prorated), credits reset to its total, a ' +
    'scheduled downgrade is dropped, and subscription.upgraded is sent. 409 when the plan is not higher or ' +
    'there is no subscription (start one with checkout).',
  'The subscription after the upgrade',
);

const downgradeRoute = planChangeRoute(
  '/billing/downgrade',
  'Scheduled for the end of the cycle (scheduled_plan_id, scheduled_at); the plan and credits change when ' +
    'the cycle rolls. Stripe bills the lower price from the next period (payg: the subscription cancels at ' +
    'the period end). 409 when the plan is not lower.',
  'The subscription with the change scheduled',
);

const refundRoute = createRoute({
  ...secured,
  method: 'post',
  path: '/billing/refund',
  description:
    'Refunds part or all of a paid order through Stripe. 409 when the amount exceeds what is left to refund on ' +
    "the order (or the order is not paid); 404 for an unknown order or another account's. A top-up refund " +
    'takes back its share of the credits: floor(credits x refunded / paid), never below a balance of 0.',
  request: {
    body: jsonBody(
      z.object({
        order_id: z.string().min(1).max(100),
        amount: z.number().int().min(1).openapi({ description: 'Cents' }),
        reason: z.string().trim().min(1).max(500),
      }),
    ),
  },
  responses: {
    201: { description: 'The refund', content: { 'application/json': { schema: Refund } } },
    ...errorResponses(400, 401, 404, 409, 429, 502),
  },
});

const invoicesRoute = createRoute({
  ...secured,
  method: 'get',
  path: '/billing/invoices',
  description:
    'One invoice per paid order, newest first. Numbers are INV-<year>-<seq>: one sequence per year for the ' +
    'whole seller (001, 002, ...; more digits past 999), so a number is unique across accounts. Without ' +
    'query parameters: a plain array. With any of limit, offset, sort (created_at | amount), order: an envelope.',
  request: { query: listQuery(INVOICE_SORT) },
  responses: {
    200: { description: 'Invoices', content: { 'application/json': { schema: listSchema(InvoiceItem) } } },
    ...errorResponses(400, 401, 429),
  },
});

const invoicePdfRoute = createRoute({
  ...secured,
  method: 'get',
  path: '/billing/invoices/{invoice_number}/pdf',
  description: 'The invoice as PDF: number, dates, seller, customer, lines, subtotal, VAT, total.',
  request: { params: z.object({ invoice_number: z.string().min(1).max(40) }) },
  responses: {
    200: {
      description: 'PDF',
      content: { 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) } },
    },
    ...errorResponses(401, 404, 429),
  },
});

const topupRoute = createRoute({
  ...secured,
  method: 'post',
  path: '/billing/topup',
  description:
    'A one-time Stripe Checkout Session for credits; they are added (once) when Stripe sends ' +
    'checkout.session.completed, and topup.completed is sent. Paused batches resume then.',
  request: { body: jsonBody(z.object({ credits: z.number().int().min(1) })) },
  responses: {
    201: {
      description: 'Session created',
      content: {
        'application/json': {
          schema: Checkout.extend({ credits: z.number().int(), amount: z.number() }).openapi('TopupCheckout'),
        },
      },
    },
    ...errorResponses(400, 401, 429, 502),
  },
});

export const billingRoutes = createRouter()
  .openapi(checkoutRoute, async (c) =>
    c.json(await c.var.deps.billing.checkout(c.var.user, c.req.valid('json').plan_id), 201),
  )
  .openapi(subscriptionRoute, async (c) => c.json(await c.var.deps.billing.subscription(c.var.user), 200))
  .openapi(upgradeRoute, async (c) =>
    c.json(await c.var.deps.billing.upgrade(c.var.user, c.req.valid('json').plan_id), 200),
  )
  .openapi(downgradeRoute, async (c) =>
    c.json(await c.var.deps.billing.downgrade(c.var.user, c.req.valid('json').plan_id), 200),
  )
  .openapi(refundRoute, async (c) => {
    const { order_id, amount, reason } = c.req.valid('json');
    return c.json(await c.var.deps.billing.refund(c.var.user, order_id, amount, reason), 201);
  })
  .openapi(invoicesRoute, async (c) => {
    const q = c.req.valid('query');
    const invoices = (await c.var.deps.billing.store.invoices(c.var.user.account_id)).map(
      ({ invoice, status }) => ({
        invoice_number: invoice.invoice_number,
        amount: invoice.total_cents / 100,
        status,
        created_at: invoice.created_at,
        order_id: invoice.order_id,
        currency: invoice.currency,
      }),
    );
    if (!wantsEnvelope(q)) return c.json(invoices, 200);
    const sort = q.sort ?? 'created_at';
    const dir = (q.order ?? 'desc') === 'asc' ? 1 : -1;
    // Ties (same time or amount) keep the newest-first order of the stored list: stable sort.
    const sorted = [...invoices].sort((a, b) =>
      sort === 'amount' ? dir * (a.amount - b.amount) : dir * a.created_at.localeCompare(b.created_at),
    );
    return c.json(envelope(sorted, q), 200);
  })
  .openapi(invoicePdfRoute, async (c) => {
    const { invoice_number } = c.req.valid('param');
    const invoice = await c.var.deps.billing.store.invoice(c.var.user.account_id, invoice_number);
    if (!invoice) throw problem(404, 'no such invoice');
    const pdf = await renderInvoicePdf(invoice);
    return c.body(new Uint8Array(pdf), 200, {
      'content-type': 'application/pdf',
      'content-disposition': `attachment; filename="${invoice.invoice_number}.pdf"`,
    });
  })
  .openapi(topupRoute, async (c) =>
    c.json(await c.var.deps.billing.topup(c.var.user, c.req.valid('json').credits), 201),
  );

const stripeWebhookDoc = {
  method: 'post' as const,
  path: '/billing/stripe-webhook',
  tags: ['billing'],
  description:
    'Stripe events, verified with the Stripe-Signature header (HMAC-SHA256 of the raw body with the ' +
    'endpoint secret, timestamp within STRIPE_WEBHOOK_TOLERANCE_S). Idempotent by event id: an event ' +
    'processed before answers 200 {"received": true, "duplicate": true}. Handled: checkout.session.completed, ' +
    'invoice.paid, invoice.payment_failed, customer.subscription.updated/deleted, charge.refunded; others are ' +
    'acknowledged. No Bearer token.',
  request: {
    headers: z.object({ 'stripe-signature': z.string().optional() }),
    body: { required: true, content: { 'application/json': { schema: z.object({}).passthrough() } } },
  },
  responses: {
    200: {
      description: 'Received',
      content: {
        'application/json': {
          schema: z.object({ received: z.boolean(), duplicate: z.boolean(), handled: z.boolean() }),
        },
      },
    },
    400: {
      description: 'Missing or bad signature, or not an event',
      content: { 'application/json': { schema: ErrorBody } },
    },
    409: {
      description: 'The same event is being processed by another request (Stripe retries)',
      content: { 'application/json': { schema: ErrorBody } },
    },
  },
};

/**
 * The receiver is public (Stripe has no Bearer token) and reads the raw body, which the signature covers:
 * a route validator would parse the JSON first, and Hono would hand back re-serialized bytes. So the
 * route is plain and its contract is registered for the document only.
 */
export const stripeWebhookRoutes = createRouter();
stripeWebhookRoutes.openAPIRegistry.registerPath(stripeWebhookDoc);
stripeWebhookRoutes.post(stripeWebhookDoc.path, async (c) => {
  const { billing, config, log } = c.var.deps;
  const signature = c.req.header('stripe-signature');
  if (!signature) throw problem(400, 'missing Stripe-Signature header');
  const raw = Buffer.from(await c.req.arrayBuffer());
  let event: Stripe.Event;
  try {
    event = billing.stripe.webhooks.constructEvent(
      raw,
      signature,
      config.STRIPE_WEBHOOK_SECRET,
      config.STRIPE_WEBHOOK_TOLERANCE_S,
      undefined,
      billing.clock().getTime(),
    );
  } catch (err) {
    // constructEvent verifies first, then parses: a signed body that is not JSON fails the parse.
    const what =
      err instanceof Stripe.errors.StripeSignatureVerificationError
        ? 'invalid Stripe signature'
        : 'not a Stripe event';
    throw problem(400, `${what}: ${(err as Error).message}`);
  }
  if (!event?.id || !event.type || !event.data?.object) throw problem(400, 'not a Stripe event');
  const claim = await billing.store.claimEvent(event.id);
  if (claim === 'done') return c.json({ received: true, duplicate: true, handled: false }, 200);
  if (claim === 'busy') throw problem(409, `event ${event.id} is being processed`);
  let handled: boolean;
  try {
    handled = await handleStripeEvent(billing, event);
  } catch (err) {
    if (!(err instanceof UnknownObject)) {
      // Stripe retries non-2xx answers: let the retry process it again.
      await billing.store.releaseEvent(event.id);
      throw err;
    }
    log.warn(
      { event_id: event.id, type: event.type, reason: err.message },
      'stripe event for an unknown object',
    );
    handled = false;
  }
  await billing.store.finishEvent(event.id);
  return c.json({ received: true, duplicate: false, handled }, 200);
});
