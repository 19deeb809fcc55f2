/**
 * lit()/sql`` against the real ClickHouse of the local stack (18.16): whatever value goes in as a
 * literal comes back exactly, and no value can change the statement around it.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouse, querySql, sql } from '../../services/lib/clickhouse.ts';
import { loadConfig } from '../../services/lib/config.ts';

const ch = createClickHouse(loadConfig(), { database: 'default' });
afterAll(() => ch.close());

const hostileChar = fc.constantFrom(
  "'",
  '\\',
  '"',
  '`',
  '\n',
  '\r',
  '\t',
  '\u0000',
  '\u001f',
  '\u007f',
  ';',
  '-',
  '/',
  '*',
  '?',
  '{',
  '}',
  ':',
  'é',
  '😀',
  '\u2028',
);
const strings = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: hostileChar, maxLength: 32 }),
  fc.string({ unit: 'grapheme', maxLength: 32 }),
);

async function echo(s: string): Promise<{ v: string; h: string }> {
  const [row] = await querySql<{ v: string; h: string }>(ch, sql`SELECT ${s} AS v, hex(${s}) AS h`);
  if (!row) throw new Error('no row');
  return row;
}

describe('string literals on real ClickHouse', () => {
  it('round-trip random strings byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(strings, async (s) => {
        const { v, h } = await echo(s);
        expect(h).toBe(Buffer.from(s, 'utf8').toString('hex').toUpperCase());
        expect(v).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    "'; DROP TABLE leads; --",
    "\\'; SELECT 1; --",
    "x' OR '1'='1",
    'nul\u0000byte',
    'trailing backslash\\',
    '/* open comment',
    '{id:String}',
  ])('keep %j a value, never SQL', async (s) => {
    expect((await echo(s)).v).toBe(s);
    const rows = await querySql(ch, sql`SELECT 1 AS one FROM system.one WHERE ${s} = 'x'`);
    expect(rows).toEqual([]);
  });
});

describe('other literals on real ClickHouse', () => {
  it('round-trip integers across the Int64 range', async () => {
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), async (n) => {
        const [row] = await querySql<{ v: string }>(ch, sql`SELECT toString(toInt64(${n})) AS v`);
        expect(row?.v).toBe(String(n));
      }),
      { numRuns: 100 },
    );
  });

  it('round-trip safe integers and negative numbers written after a minus sign', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), async (n) => {
        const [row] = await querySql<{ v: string; d: string }>(
          ch,
          sql`SELECT toString(${n}) AS v, toString(0 -${n}) AS d`,
        );
        expect(row?.v).toBe(String(n));
        expect(row?.d).toBe(String(-n || 0));
      }),
      { numRuns: 100 },
    );
  });

  it('round-trip finite normal doubles exactly', async () => {
    const normal = fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .filter((x) => x === 0 || Math.abs(x) >= 2.2250738585072014e-308);
    await fc.assert(
      fc.asyncProperty(normal, async (x) => {
        const [row] = await querySql<{ v: number }>(ch, sql`SELECT toFloat64(${x}) AS v`);
        expect(row?.v).toBe(x === 0 ? 0 : x);
      }),
      { numRuns: 200 },
    );
  });

  it('read a Date as the same UTC second', async () => {
    const dates = fc.date({
      min: new Date('1970-01-02T00:00:00Z'),
      max: new Date('2105-12-31T00:00:00Z'),
      noInvalidDate: true,
    });
    await fc.assert(
      fc.asyncProperty(dates, async (d) => {
        const [row] = await querySql<{ t: number }>(ch, sql`SELECT toUInt32(toDateTime(${d}, 'UTC')) AS t`);
        expect(row?.t).toBe(Math.floor(d.getTime() / 1000));
      }),
      { numRuns: 100 },
    );
  });

  it('read arrays, booleans and NULL as themselves', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(strings, { minLength: 1, maxLength: 8 }), async (arr) => {
        const [row] = await querySql<{ v: string[] }>(ch, sql`SELECT ${arr} AS v`);
        expect(row?.v).toEqual(arr);
      }),
      { numRuns: 50 },
    );
    const [row] = await querySql(
      ch,
      sql`SELECT ${true} AS t, ${false} AS f, ${null} AS n, length(${[]}) AS e`,
    );
    expect(row).toEqual({ t: 1, f: 0, n: null, e: '0' });
  });
});
