/** The events a webhook endpoint may subscribe to (API.md "Outgoing webhooks"); the list is fixed. */
export const WEBHOOK_EVENTS = [
  'batch.completed',
  'batch.failed',
  'lead.qualified',
  'credits.low',
  'credits.exhausted',
  'subscription.upgraded',
  'topup.completed',
] as const;
export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number];

/**
 * What POST /api/webhooks/{id}/test sends: to that one endpoint, whatever it subscribed to (it is not
 * in WEBHOOK_EVENTS: nothing subscribes to it, and the outbox never carries it).
 */
export const WEBHOOK_TEST_EVENT = 'webhook.test';
