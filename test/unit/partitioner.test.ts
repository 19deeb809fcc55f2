import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyHashPartitioner, murmur2 } from '../../services/lib/partitioner.ts';

const metadata = (n: number) =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
    partitionErrorCode: 0,
  }));

describe('murmur2', () => {
  it("gives the Java client's hashes (Kafka's own Utils.murmur2 values)", () => {
    const java: Record<string, number> = {
      '1': -1993445489,
      '12': 126087238,
      '123': -267702483,
      '1234': -1614185708,
      '12345': -1188365604,
      '21': -973932308,
      foobar: -790332482,
      'a-little-bit-long-string': -985981536,
      abc: 479470107,
    };
    for (const [key, hash] of Object.entries(java)) expect(murmur2(Buffer.from(key)), key).toBe(hash);
  });
});

describe('keyHashPartitioner', () => {
  it("puts every key where kafkajs's default partitioner does, for strings and buffers", () => {
    const ours = keyHashPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.uint8Array({ maxLength: 80 })),
        fc.integer({ min: 1, max: 64 }),
        (raw, n) => {
          const key = typeof raw === 'string' ? raw : Buffer.from(raw);
          const args = { topic: 't', partitionMetadata: metadata(n), message: { key, value: null } };
          expect(ours(args)).toBe(theirs(args));
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('keeps an explicit partition, and spreads keyless messages over the partitions', () => {
    const p = keyHashPartitioner();
    const partitionMetadata = metadata(4);
    expect(p({ topic: 't', partitionMetadata, message: { key: 'k', partition: 3, value: null } })).toBe(3);
    const keyless = new Set(
      Array.from({ length: 8 }, () => p({ topic: 't', partitionMetadata, message: { value: null } })),
    );
    expect(keyless.size).toBe(4);
  });
});
