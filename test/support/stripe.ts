/**
 * Stripe events as Stripe would send them to the gateway's receiver: a JSON body and its Stripe-Signature
 * header, signed by the SDK's own test signer with the endpoint secret. stripe-mock sends no webhooks, so
 * tests (and scripts/stripe-event.sh for the curl flow) play Stripe's part.
 */
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';

const signer = new Stripe('sk_test_123');

export interface SignedEvent {
  id: string;
  body: string;
  signature: string;
}

/** An event of `type` carrying `object`; `at` is the signing time (the gateway's clock judges its age). */
export function signedEvent(type: string, object: object, secret: string, at = new Date()): SignedEvent {
  const id = `evt_${randomBytes(12).toString('hex')}`;
  const body = JSON.stringify({
    id,
    object: 'event',
    type,
    api_version: '2025-10-29.clover',
    created: Math.floor(at.getTime() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object },
  });
  const signature = signer.webhooks.generateTestHeaderString({
    payload: body,
    secret,
    timestamp: Math.floor(at.getTime() / 1000),
  });
  return { id, body, signature };
}

/** POSTs a signed event to the receiver of an app (`app.request`, the HTTP server's code path). */
export function postEvent(
  app: { request: (path: string, init: RequestInit) => Response | Promise<Response> },
  event: Pick<SignedEvent, 'body' | 'signature'>,
): Promise<Response> {
  return Promise.resolve(
    app.request('/api/billing/stripe-webhook', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': event.signature },
      body: event.body,
    }),
  );
}

/** The checkout.session.completed Stripe sends once the customer paid the session the gateway opened. */
export function completedSession(
  checkout: { session_id: string; order_id: string },
  accountId: string,
  mode: 'subscription' | 'payment',
  extra: Record<string, unknown> = {},
): object {
  return {
    id: checkout.session_id,
    object: 'checkout.session',
    mode,
    status: 'complete',
    payment_status: 'paid',
    client_reference_id: accountId,
    metadata: { account_id: accountId, order_id: checkout.order_id },
    payment_intent: mode === 'payment' ? `pi_${randomBytes(8).toString('hex')}` : null,
    subscription: mode === 'subscription' ? `sub_${randomBytes(8).toString('hex')}` : null,
    ...extra,
  };
}
