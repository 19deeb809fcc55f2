/**
 * webhooks.outbox → delivery jobs: one per endpoint of the event's account subscribed to the event,
 * due now. Nothing is sent here, so a slow receiver never holds up the consumer; the offset is
 * committed once the jobs are in Redis (the runtime commits after the phase returns).
 */
import type { WebhookEvent } from '../../schemas/generated.ts';
import { TOPICS } from '../lib/names.ts';
import { definePhase, dlq, ok, type PhaseResult } from '../runtime/index.ts';
import type { EndpointStore } from './endpoints.ts';
import { WEBHOOK_EVENTS } from './events.ts';
import type { RetryQueue } from './retry-queue.ts';

const KNOWN = new Set<string>(WEBHOOK_EVENTS);

export interface OutboxDeps {
  endpoints: EndpointStore;
  queue: RetryQueue;
  now?: () => number;
}

export async function scheduleEvent(e: WebhookEvent, deps: OutboxDeps): Promise<PhaseResult<null>> {
  if (!KNOWN.has(e.event)) return dlq(`unknown webhook event "${e.event}"`);
  try {
    JSON.parse(e.data_json);
  } catch {
    return dlq(`data_json of ${e.event_id} is not JSON`);
  }
  const endpoints = (await deps.endpoints.list(e.account_id)).filter((ep) => ep.events.includes(e.event));
  const dueAt = (deps.now ?? Date.now)();
  for (const ep of endpoints) {
    await deps.queue.enqueue(
      {
        endpoint_id: ep.id,
        account_id: e.account_id,
        event_id: e.event_id,
        event: e.event,
        batch_id: e.batch_id,
        occurred_at: e.occurred_at,
        data_json: e.data_json,
        attempts: 0,
      },
      dueAt,
    );
  }
  return ok(null);
}

export const outboxPhase = (deps: OutboxDeps) =>
  definePhase<WebhookEvent, null>({
    name: 'webhooks',
    input: { topic: TOPICS.webhooksOutbox, record: 'WebhookEvent' },
    phase: (e) => scheduleEvent(e, deps),
  });
