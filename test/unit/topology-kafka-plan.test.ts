import { describe, expect, it } from 'vitest';
import { describeChange, planTopics, type TopicState } from '../../topology/kafka-topics.ts';
import { resolveTopics } from '../../topology/topics.ts';

const wanted = resolveTopics('t');
const raw = wanted.find((t) => t.name === 't.leads.raw');
if (!raw) throw new Error('leads.raw missing from the topology');

function matching(): Map<string, TopicState> {
  return new Map(
    wanted.map((t) => [t.name, { partitions: t.partitions, configs: { ...t.configs, 'segment.ms': '1' } }]),
  );
}

describe('planTopics', () => {
  it('creates every topic on empty brokers', () => {
    const plan = planTopics(wanted, new Map());
    expect(plan).toHaveLength(wanted.length);
    expect(plan.every((c) => c.create)).toBe(true);
    expect(describeChange(plan[0] as never)[0]).toMatch(/^created topic t\.\S+ \(\d+ partitions\)$/);
  });

  it('changes nothing when brokers match, ignoring configs the topology does not own', () => {
    expect(planTopics(wanted, matching())).toEqual([]);
  });

  it('raises a partition count that is too low, and only reports one that is too high', () => {
    const state = matching();
    state.set(raw.name, { partitions: 2, configs: raw.configs });
    state.set('t.usage.events', { partitions: 9, configs: state.get('t.usage.events')?.configs ?? {} });
    const plan = planTopics(wanted, state);
    expect(plan.map((c) => [c.topic.name, c.partitions, c.extraPartitions])).toEqual([
      ['t.leads.raw', 6, false],
      ['t.usage.events', null, true],
    ]);
    expect(plan.flatMap(describeChange)).toEqual(['increased partitions of t.leads.raw to 6']);
  });

  it('resets a drifted retention', () => {
    const state = matching();
    state.set(raw.name, { partitions: 6, configs: { ...raw.configs, 'retention.ms': '1000' } });
    const plan = planTopics(wanted, state);
    expect(plan.flatMap(describeChange)).toEqual(['updated config of t.leads.raw: retention.ms']);
  });
});
