/**
 * The Kafka topology as data: every topic with its partitions, retention and value schema, a DLQ for
 * every consumed topic, and the phase chain with one consumer group per phase. The runtime reads its
 * input/output topics and schemas from here; `npm run topology -- apply` creates what is described here.
 */
import type { RecordName } from '../schemas/index.ts';
import {
  type BaseTopic,
  dlqTopicName,
  groupId,
  TOPICS,
  topicName,
  valueSubject,
} from '../services/lib/names.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface TopicSpec {
  base: BaseTopic;
  partitions: number;
  retentionMs: number;
  cleanupPolicy: 'delete';
  /** The Avro record every value on the topic is written with (subject `<topic>-value`). */
  record: RecordName;
}

/**
 * Partitions bound a phase's parallelism: a consumer group spreads partitions over its members, so
 * leads.* get 6 (up to 6 instances per phase, and room for 2-3 brokers without repartitioning). Adding
 * partitions later reshuffles keys, so the counts start above what one machine needs. batches.requests,
 * usage.events and webhooks.outbox carry one message per batch, credit movement or event, orders of
 * magnitude fewer than leads: 3 partitions still let 3 instances share the work.
 *
 * Retention is a replay window, not storage: results live in ClickHouse. Lead topics keep 7 days, enough
 * to re-run a phase after a bad deploy found over a weekend. usage.events keeps 30 days because the
 * credit audit can be rebuilt from it. Every policy is `delete`: keys are lead or event ids that are
 * never rewritten, so compaction would only add cost.
 */
export const TOPIC_SPECS: Readonly<Record<BaseTopic, TopicSpec>> = {
  'batches.requests': spec('batches.requests', 3, 7 * DAY_MS, 'BatchRequest'),
  'leads.raw': spec('leads.raw', 6, 7 * DAY_MS, 'RawLead'),
  'leads.standardized': spec('leads.standardized', 6, 7 * DAY_MS, 'StandardizedLead'),
  'leads.verified': spec('leads.verified', 6, 7 * DAY_MS, 'VerifiedLead'),
  'leads.enriched': spec('leads.enriched', 6, 7 * DAY_MS, 'EnrichedLead'),
  'leads.deduped': spec('leads.deduped', 6, 7 * DAY_MS, 'DedupedLead'),
  'leads.scored': spec('leads.scored', 6, 7 * DAY_MS, 'ScoredLead'),
  'leads.failed': spec('leads.failed', 6, 7 * DAY_MS, 'LeadRejection'),
  'usage.events': spec('usage.events', 3, 30 * DAY_MS, 'UsageEvent'),
  'webhooks.outbox': spec('webhooks.outbox', 3, 7 * DAY_MS, 'WebhookEvent'),
};

function spec(base: BaseTopic, partitions: number, retentionMs: number, record: RecordName): TopicSpec {
  return { base, partitions, retentionMs, cleanupPolicy: 'delete', record };
}

/**
 * A DLQ holds the few messages a phase could not process, for a person to inspect and replay: one
 * partition (the original partition and offset travel in the dlq_* headers) and 30 days, long enough to
 * be noticed and handled.
 */
export const DLQ_PARTITIONS = 1;
export const DLQ_RETENTION_MS = 30 * DAY_MS;

/** The phases every lead passes through, from a batch request to ClickHouse, in order. */
export const LEAD_PHASES = ['ingest', 'standardize', 'verify', 'enrich', 'dedupe', 'score', 'sink'] as const;
export const PHASE_NAMES = [...LEAD_PHASES, 'webhooks', 'usage'] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];

export interface PhaseSpec {
  name: PhaseName;
  /** Topics the phase's consumer group reads. */
  inputs: readonly BaseTopic[];
  /** Where ok() results go; null for sinks, which write outside Kafka. */
  output: BaseTopic | null;
}

/** The pipeline, in order. Every phase may also write rejections to leads.failed and poison to <input>.dlq. */
export const PHASE_CHAIN: readonly PhaseSpec[] = [
  { name: 'ingest', inputs: [TOPICS.batchRequests], output: TOPICS.raw },
  { name: 'standardize', inputs: [TOPICS.raw], output: TOPICS.standardized },
  { name: 'verify', inputs: [TOPICS.standardized], output: TOPICS.verified },
  { name: 'enrich', inputs: [TOPICS.verified], output: TOPICS.enriched },
  { name: 'dedupe', inputs: [TOPICS.enriched], output: TOPICS.deduped },
  { name: 'score', inputs: [TOPICS.deduped], output: TOPICS.scored },
  { name: 'sink', inputs: [TOPICS.scored, TOPICS.failed], output: null },
  { name: 'webhooks', inputs: [TOPICS.webhooksOutbox], output: null },
  { name: 'usage', inputs: [TOPICS.usage], output: null },
];

/** Topics some phase consumes: exactly these get a DLQ. */
export const CONSUMED_TOPICS: readonly BaseTopic[] = [...new Set(PHASE_CHAIN.flatMap((p) => p.inputs))];

export function phaseSpec(name: PhaseName): PhaseSpec {
  const found = PHASE_CHAIN.find((p) => p.name === name);
  if (!found) throw new Error(`unknown phase ${name}`);
  return found;
}

/** A topic as it exists on the brokers for one prefix. */
export interface ResolvedTopic {
  name: string;
  partitions: number;
  configs: Record<string, string>;
  /** Value schema subject and record; null for DLQs, which keep the bytes of the failed message as they were. */
  subject: string | null;
  record: RecordName | null;
}

function resolveTopic(prefix: string, s: TopicSpec): ResolvedTopic {
  const name = topicName(prefix, s.base);
  return {
    name,
    partitions: s.partitions,
    configs: { 'cleanup.policy': s.cleanupPolicy, 'retention.ms': String(s.retentionMs) },
    subject: valueSubject(name),
    record: s.record,
  };
}

function resolveDlq(prefix: string, base: BaseTopic): ResolvedTopic {
  return {
    name: dlqTopicName(prefix, base),
    partitions: DLQ_PARTITIONS,
    configs: { 'cleanup.policy': 'delete', 'retention.ms': String(DLQ_RETENTION_MS) },
    subject: null,
    record: null,
  };
}

/** Every topic for a prefix: the main topics, then the DLQs. */
export function resolveTopics(prefix: string): ResolvedTopic[] {
  return [
    ...Object.values(TOPIC_SPECS).map((s) => resolveTopic(prefix, s)),
    ...CONSUMED_TOPICS.map((base) => resolveDlq(prefix, base)),
  ];
}

export interface ResolvedInput {
  topic: string;
  dlq: string;
  record: RecordName;
}

export interface ResolvedPhase {
  name: PhaseName;
  groupId: string;
  inputs: ResolvedInput[];
  output: { topic: string; record: RecordName } | null;
  rejections: { topic: string; record: RecordName };
}

/** What one phase's runtime needs: its group, input topics with their DLQs and schemas, and its output. */
export function resolvePhase(prefix: string, name: PhaseName): ResolvedPhase {
  const p = phaseSpec(name);
  const failed = TOPIC_SPECS[TOPICS.failed];
  return {
    name,
    groupId: groupId(prefix, name),
    inputs: p.inputs.map((base) => ({
      topic: topicName(prefix, base),
      dlq: dlqTopicName(prefix, base),
      record: TOPIC_SPECS[base].record,
    })),
    output: p.output ? { topic: topicName(prefix, p.output), record: TOPIC_SPECS[p.output].record } : null,
    rejections: { topic: topicName(prefix, failed.base), record: failed.record },
  };
}
