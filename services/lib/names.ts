/**
 * Names of topics, DLQs and consumer groups. A non-empty prefix (LEEDRUSH_PREFIX) isolates a test run
 * or a developer's stack from everything else on the same brokers.
 */
export const TOPICS = {
  batchRequests: 'batches.requests',
  raw: 'leads.raw',
  standardized: 'leads.standardized',
  verified: 'leads.verified',
  enriched: 'leads.enriched',
  deduped: 'leads.deduped',
  scored: 'leads.scored',
  failed: 'leads.failed',
  usage: 'usage.events',
  webhooksOutbox: 'webhooks.outbox',
} as const;
export type TopicKey = keyof typeof TOPICS;
export type BaseTopic = (typeof TOPICS)[TopicKey];

export function topicName(prefix: string, base: string): string {
  return prefix ? `${prefix}.${base}` : base;
}

export function dlqTopicName(prefix: string, base: string): string {
  return `${topicName(prefix, base)}.dlq`;
}

/** One consumer group per phase (DESIGN.md): scaling a phase = more members of its group. */
export function groupId(prefix: string, phase: string): string {
  return topicName(prefix, `leedrush.${phase}`);
}

/** The Confluent subject naming strategy the registry uses: <topic>-value. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}
