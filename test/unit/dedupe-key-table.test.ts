import { describe, expect, it } from 'vitest';
import { KeyTable } from '../../services/dedupe/key-table.ts';

describe('KeyTable', () => {
  it('keeps every key apart through growth, near-identical keys included, and overwrites in place', () => {
    const table = new KeyTable(4);
    // Keys that differ in one character, or only by their order of characters, as blocking keys do.
    const keyOf = (i: number) => (i % 2 === 0 ? `c:acme:j:${i}` : `c:acme:${i}:j`);
    for (let i = 0; i < 200_000; i++) table.set(keyOf(i), i);
    table.set(keyOf(123), 7);
    expect(table.size).toBe(200_000);
    expect(table.get(keyOf(123))).toBe(7);
    for (let i = 0; i < 200_000; i += 613) if (i !== 123) expect(table.get(keyOf(i))).toBe(i);
    expect(table.get('c:acme:j:200001')).toBeUndefined();
    expect(table.get('')).toBeUndefined();
    table.set('', 0);
    expect(table.get('')).toBe(0);
    expect(table.get('é:ü')).toBeUndefined();
    table.set('é:ü', 3);
    expect(table.get('é:ü')).toBe(3);
    expect(table.get('e:u')).toBeUndefined();
  });
});
