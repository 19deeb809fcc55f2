import { describe, expect, it } from 'vitest';
import { PairTable } from '../../services/dedupe/pair-table.ts';

describe('PairTable', () => {
  it('keeps every value through growth, for keys beyond 32 bits, and overwrites in place', () => {
    const table = new PairTable(4);
    const keyOf = (i: number) => i * 2 ** 26 + ((i * 7919) % 2 ** 26) + 1;
    for (let i = 0; i < 50_000; i++) table.set(keyOf(i), i / 50_000);
    table.set(keyOf(123), 0.5);
    expect(table.size).toBe(50_000);
    expect(table.get(keyOf(123))).toBe(0.5);
    for (let i = 0; i < 50_000; i += 997) if (i !== 123) expect(table.get(keyOf(i))).toBe(i / 50_000);
    expect(table.get(keyOf(50_001))).toBeUndefined();
    table.clear();
    expect(table.size).toBe(0);
    expect(table.get(keyOf(1))).toBeUndefined();
  });

  it('refuses the key that marks an empty slot', () => {
    expect(() => new PairTable().set(0, 1)).toThrow(RangeError);
  });
});
