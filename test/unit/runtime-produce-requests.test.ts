import { describe, expect, it } from 'vitest';
import { produceRequests, recordBytes } from '../../services/runtime/runner.ts';

const msg = (kb: number, tag: string) => ({ key: tag, value: Buffer.alloc(kb << 10) });

describe('produceRequests', () => {
  it('keeps every request under the byte budget, in order, without empty topic entries', () => {
    const input = [
      { topic: 'a', messages: Array.from({ length: 30 }, (_, i) => msg(40, `a${i}`)) },
      { topic: 'b', messages: Array.from({ length: 5 }, (_, i) => msg(100, `b${i}`)) },
    ];
    const requests = [...produceRequests(input)];
    expect(requests.length).toBe(2);
    for (const r of requests) {
      const bytes = r.flatMap((t) => t.messages).reduce((n, m) => n + recordBytes(m), 0);
      // Under the broker's default message.max.bytes with room for the batch header and varints.
      expect(bytes).toBeLessThanOrEqual(896 << 10);
      for (const t of r) expect(t.messages.length).toBeGreaterThan(0);
    }
    const order = requests.flatMap((r) => r.flatMap((t) => t.messages.map((m) => `${t.topic}:${m.key}`)));
    expect(order).toEqual(input.flatMap((t) => t.messages.map((m) => `${t.topic}:${m.key}`)));
  });

  it('sends a message larger than the budget alone', () => {
    const requests = [
      ...produceRequests([{ topic: 'a', messages: [msg(1, 'x'), msg(1000, 'big'), msg(1, 'y')] }]),
    ];
    expect(requests.map((r) => r.flatMap((t) => t.messages.map((m) => m.key)))).toEqual([
      ['x'],
      ['big'],
      ['y'],
    ]);
  });

  it('counts headers: DLQ copies carry their reason and provenance', () => {
    const headers = { dlq_reason: 'x'.repeat(10_000), dlq_phase: 'score' };
    const plain = { key: 'k', value: Buffer.alloc(100) };
    expect(recordBytes({ ...plain, headers })).toBeGreaterThan(recordBytes(plain) + 10_000);
    const withHeaders = Array.from({ length: 100 }, () => ({ ...plain, headers }));
    expect([...produceRequests([{ topic: 'a.dlq', messages: withHeaders }])].length).toBe(2);
  });
});
