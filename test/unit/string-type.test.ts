import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { enrichedLead } from '../../bench/lib/dedup-dataset.ts';
import { loadSchema, RECORD_NAMES } from '../../schemas/index.ts';
import { FastStringType } from '../../schemas/string-type.ts';

const stock = avro.Type.forSchema('string');
const fast = new FastStringType();

/** Every string type a record's type tree holds, with the path to it. */
function stringTypes(type: avro.Type, path = '', out: Array<[string, avro.Type]> = []) {
  const t = type as avro.Type & {
    fields?: Array<{ name: string; type: avro.Type }>;
    types?: avro.Type[];
    itemsType?: avro.Type;
    valuesType?: avro.Type;
  };
  if (t.typeName === 'string') out.push([path, t]);
  for (const f of t.fields ?? []) stringTypes(f.type, `${path}.${f.name}`, out);
  for (const [i, b] of (t.types ?? []).entries()) stringTypes(b, `${path}|${i}`, out);
  if (t.itemsType) stringTypes(t.itemsType, `${path}[]`, out);
  if (t.valuesType) stringTypes(t.valuesType, `${path}{}`, out);
  return out;
}

describe('FastStringType', () => {
  it('writes the bytes avsc writes, for any string, and reads them back', () => {
    const strings = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.constantFrom(
        '',
        'a'.repeat(63),
        'a'.repeat(64),
        `${'a'.repeat(62)}é`,
        '\u007f',
        '\u0080',
        '\ud83d\ude00',
      ),
    );
    fc.assert(
      fc.property(strings, (s) => {
        const bytes = fast.toBuffer(s);
        expect(bytes.equals(stock.toBuffer(s))).toBe(true);
        expect(fast.fromBuffer(bytes)).toBe(s);
      }),
      { numRuns: 5_000 },
    );
  });

  it('signals a full buffer as avsc does, so the caller retries with a larger one', () => {
    const buf = Buffer.alloc(8);
    for (const s of ['abcdefghij', 'abcdefgé', 'abcdefg'])
      expect(fast.encode(s, buf, 0)).toBe(stock.encode(s, buf, 0));
  });

  it('refuses what is not a string, as avsc does', () => {
    expect(() => fast.toBuffer(42)).toThrow();
    expect(fast.isValid(42)).toBe(false);
  });

  it('is the string type of every field of every topic schema, whose records encode as with avsc alone', () => {
    for (const name of RECORD_NAMES) {
      const { type, avsc } = loadSchema(name);
      const found = stringTypes(type);
      expect(found.length, name).toBeGreaterThan(0);
      for (const [path, t] of found) expect(t, `${name}${path}`).toBeInstanceOf(FastStringType);
      if (name === 'EnrichedLead') {
        const plain = avro.Type.forSchema(JSON.parse(avsc) as avro.Schema);
        const lead = enrichedLead({
          lead_id: 'b1:0',
          batch_id: 'b1',
          row_index: 0,
          account_id: 'acct_1',
          lead: {
            first_name: 'Zoë',
            last_name: "O'Brien",
            company_name: 'Ärzte GmbH',
            title_raw: 'x'.repeat(70),
          },
        });
        expect(type.toBuffer(lead).equals(plain.toBuffer(lead))).toBe(true);
      }
    }
  });
});
