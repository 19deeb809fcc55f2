/**
 * The webhook events the sink publishes to webhooks.outbox (API.md "Outgoing webhooks"). Event ids are
 * deterministic, so an event published again after a redelivery carries the same id and the dispatcher
 * sends it once per endpoint.
 */
import type { ScoredLead, WebhookEvent } from '../../schemas/generated.ts';
import { type BatchRecord, qualityYield, rowsFailed } from '../lib/batch-tracker.ts';
import { leadObject } from '../lib/lead-object.ts';

/** `lead.qualified`, data = the lead object of the API; at the time score produced the lead. */
export function leadQualifiedEvent(s: ScoredLead, scoredAt: number): WebhookEvent {
  return {
    event_id: `lead.qualified:${s.meta.lead_id}`,
    account_id: s.meta.account_id,
    event: 'lead.qualified',
    batch_id: s.meta.batch_id,
    data_json: JSON.stringify(leadObject(s)),
    occurred_at: scoredAt,
  };
}

const FINAL_EVENTS = { completed: 'batch.completed', failed: 'batch.failed' } as const;

export const isFinal = (b: BatchRecord): b is BatchRecord & { status: 'completed' | 'failed' } =>
  b.status === 'completed' || b.status === 'failed';

/**
 * `batch.completed` or `batch.failed` of a batch in that state. processing_time_s runs from the
 * batch's creation (the request) to its final state: the time the customer waited.
 */
export function batchFinalEvent(b: BatchRecord & { status: 'completed' | 'failed' }): WebhookEvent {
  const event = FINAL_EVENTS[b.status];
  const endedAt = b.completed_at ? Date.parse(b.completed_at) : Date.parse(b.created_at);
  const data = {
    filename: b.filename,
    rows_total: b.rows_total,
    rows_qualified: b.rows_qualified,
    rows_failed: rowsFailed(b),
    quality_yield: qualityYield(b),
    processing_time_s: Math.max(0, Math.round((endedAt - Date.parse(b.created_at)) / 1000)),
    ...(b.status === 'failed' ? { error_reason: b.error_reason ?? '' } : {}),
  };
  return {
    event_id: `${event}:${b.batch_id}`,
    account_id: b.account_id,
    event,
    batch_id: b.batch_id,
    data_json: JSON.stringify(data),
    occurred_at: endedAt,
  };
}
