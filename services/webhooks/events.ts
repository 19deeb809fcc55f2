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
