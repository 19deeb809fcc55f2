import { describe, expect, it } from 'vitest';
import { loadSchema, RECORD_NAMES } from '../../schemas/index.ts';
import { TOPICS } from '../../services/lib/names.ts';
import {
  CONSUMED_TOPICS,
  DLQ_PARTITIONS,
  PHASE_CHAIN,
  PHASE_NAMES,
  resolvePhase,
  resolveTopics,
  TOPIC_SPECS,
} from '../../topology/topics.ts';

describe('topic specs', () => {
  it('describe every topic of names.ts, each carrying an existing record schema', () => {
    expect(Object.keys(TOPIC_SPECS).sort()).toEqual(Object.values(TOPICS).sort());
    for (const spec of Object.values(TOPIC_SPECS)) {
      expect(RECORD_NAMES).toContain(spec.record);
      expect(loadSchema(spec.record).avsc).toContain(`"io.leedrush.${spec.record}"`);
      expect(spec.partitions).toBeGreaterThan(0);
      expect(spec.retentionMs).toBeGreaterThan(0);
    }
  });

  it('map each topic to the record named in the design', () => {
    const records = Object.fromEntries(Object.values(TOPIC_SPECS).map((s) => [s.base, s.record]));
    expect(records).toEqual({
      'leads.raw': 'RawLead',
      'leads.standardized': 'StandardizedLead',
      'leads.verified': 'VerifiedLead',
      'leads.enriched': 'EnrichedLead',
      'leads.deduped': 'DedupedLead',
      'leads.scored': 'ScoredLead',
      'leads.failed': 'LeadRejection',
      'batches.requests': 'BatchRequest',
      'usage.events': 'UsageEvent',
      'webhooks.outbox': 'WebhookEvent',
    });
  });

  it('give lead topics 6 partitions and the low-volume topics 3', () => {
    for (const spec of Object.values(TOPIC_SPECS)) {
      expect(spec.partitions).toBe(spec.base.startsWith('leads.') ? 6 : 3);
    }
  });
});

describe('phase chain', () => {
  it('chains each phase output into the next phase input, from batches.requests to leads.scored', () => {
    const pipeline = PHASE_CHAIN.slice(0, 6);
    expect(pipeline.map((p) => p.name)).toEqual([
      'ingest',
      'standardize',
      'verify',
      'enrich',
      'dedupe',
      'score',
    ]);
    expect(pipeline[0]?.inputs).toEqual(['batches.requests']);
    for (let i = 1; i < pipeline.length; i++) {
      expect(pipeline[i]?.inputs).toEqual([pipeline[i - 1]?.output]);
    }
    expect(pipeline.at(-1)?.output).toBe('leads.scored');
  });

  it('has the sinks consume scored and failed leads, the outbox and usage events, producing nothing', () => {
    const sinks = Object.fromEntries(PHASE_CHAIN.slice(6).map((p) => [p.name, p]));
    expect(sinks.sink?.inputs).toEqual(['leads.scored', 'leads.failed']);
    expect(sinks.webhooks?.inputs).toEqual(['webhooks.outbox']);
    expect(sinks.usage?.inputs).toEqual(['usage.events']);
    for (const s of Object.values(sinks)) expect(s.output).toBeNull();
  });

  it('leaves no topic unconsumed and gives one group per phase', () => {
    expect([...CONSUMED_TOPICS].sort()).toEqual(Object.values(TOPICS).sort());
    const groups = PHASE_NAMES.map((n) => resolvePhase('p', n).groupId);
    expect(new Set(groups).size).toBe(PHASE_NAMES.length);
  });
});

describe('resolveTopics', () => {
  it('prefixes names, adds a 1-partition DLQ per consumed topic, and names subjects <topic>-value', () => {
    const topics = resolveTopics('t_x');
    const byName = new Map(topics.map((t) => [t.name, t]));
    expect(topics).toHaveLength(Object.keys(TOPICS).length + CONSUMED_TOPICS.length);
    expect(byName.get('t_x.leads.raw')).toMatchObject({
      partitions: 6,
      subject: 't_x.leads.raw-value',
      record: 'RawLead',
      configs: { 'cleanup.policy': 'delete', 'retention.ms': String(7 * 86_400_000) },
    });
    const dlq = byName.get('t_x.leads.raw.dlq');
    expect(dlq).toMatchObject({ partitions: DLQ_PARTITIONS, subject: null, record: null });
    expect(Number(dlq?.configs['retention.ms'])).toBeGreaterThan(
      Number(byName.get('t_x.leads.raw')?.configs['retention.ms']),
    );
  });

  it('uses bare names without a prefix', () => {
    expect(resolveTopics('').map((t) => t.name)).toContain('leads.scored.dlq');
  });
});

describe('resolvePhase', () => {
  it('gives a phase its group, inputs with DLQs and schemas, output and rejections topic', () => {
    expect(resolvePhase('t_a', 'verify')).toEqual({
      name: 'verify',
      groupId: 't_a.leedrush.verify',
      inputs: [
        { topic: 't_a.leads.standardized', dlq: 't_a.leads.standardized.dlq', record: 'StandardizedLead' },
      ],
      output: { topic: 't_a.leads.verified', record: 'VerifiedLead' },
      rejections: { topic: 't_a.leads.failed', record: 'LeadRejection' },
    });
    expect(resolvePhase('', 'sink').inputs.map((i) => i.record)).toEqual(['ScoredLead', 'LeadRejection']);
    expect(resolvePhase('', 'sink').output).toBeNull();
  });
});
