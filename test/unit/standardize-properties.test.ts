import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RawLead } from '../../schemas/generated.ts';
import { loadSchema } from '../../schemas/index.ts';
import { cleanText, foldForKey } from '../../services/lib/text.ts';
import { companyKey, standardizeCompany } from '../../services/standardize/company.ts';
import { standardizeCountry } from '../../services/standardize/country.ts';
import { standardizeEmail } from '../../services/standardize/email.ts';
import { standardizeName } from '../../services/standardize/name.ts';
import { standardizeLead } from '../../services/standardize/phase.ts';
import { standardizePhone } from '../../services/standardize/phone.ts';
import { standardizeTitle } from '../../services/standardize/title.ts';

// Arbitrary Unicode, with the characters that matter here made frequent: controls, invisible format
// characters, combining marks, full-width forms, surrogate halves, odd spaces and name punctuation.
const special = fc.constantFrom(
  ...'\u0000\u0007\t\n\r\u000b\u0085\u00a0\u00ad\u200b\u200c\u200d\u200e\u202e\u2066\u2028\u3000\ufeff\u0301\u0308\ud800\udc00',
  ..."ＡＢｃ＠．ß İıǅﬁ Ø ø É é ñ Ç 山田 김 Ω ς , . - ' ’ \" ( ) & / @ < > ; : mailto: Mc Mac van de O'".split(
    ' ',
  ),
);
const messy = fc
  .array(fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), special), { maxLength: 8 })
  .map((parts) => parts.join(''));
const wordy = fc
  .array(
    fc.oneof(
      fc.constantFrom('john', 'SMITH', 'de', 'la', 'Dr.', 'jr', 'III', "o'neil", 'mcdonald', 'ÉMILIE'),
      messy,
    ),
    {
      maxLength: 5,
    },
  )
  .map((parts) => parts.join(' '));

const runs = { numRuns: 2_000 };

/** Strings made of a field's typical words (space-separated vocabulary), or messy text. */
function phrases(vocabulary: string): fc.Arbitrary<string> {
  const word = fc.constantFrom(...vocabulary.split(' '));
  return fc.oneof(
    fc.array(word, { minLength: 1, maxLength: 7 }).map((w) => w.join(' ')),
    messy,
  );
}

function isInvisible(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x200b || code === 0xfeff;
}

describe('text hygiene', () => {
  it('cleanText is idempotent and leaves no control characters or runs of spaces', () => {
    fc.assert(
      fc.property(messy, (s) => {
        const once = cleanText(s);
        expect(cleanText(once)).toBe(once);
        expect([...once].filter(isInvisible)).toEqual([]);
        expect(once).not.toMatch(/\s\s|^\s|\s$/);
        expect(once.normalize('NFKC')).toBe(once);
      }),
      runs,
    );
  });
  it('foldForKey is idempotent', () => {
    fc.assert(
      fc.property(messy, (s) => {
        expect(foldForKey(foldForKey(s))).toBe(foldForKey(s));
      }),
      runs,
    );
  });
});

describe('standardizing a standardized value changes nothing', () => {
  it('names', () => {
    fc.assert(
      fc.property(fc.option(wordy), fc.option(wordy), fc.option(wordy), (first, last, full) => {
        const once = standardizeName({ first_name: first, last_name: last, full_name: full });
        const twice = standardizeName({ first_name: once.first_name, last_name: once.last_name });
        expect(twice.first_name).toBe(once.first_name);
        expect(twice.last_name).toBe(once.last_name);
        if (once.first_name !== null || once.last_name !== null) expect(twice.full_name).toBe(once.full_name);
      }),
      runs,
    );
  });
  it('titles', () => {
    const title = phrases(
      'vp sr senior dir director of mktg sales & and / , - head co-founder ceo cto manager mgr eng software ' +
        'engineer regional global chief happiness officer product marketing intern',
    );
    fc.assert(
      fc.property(title, (t) => {
        const once = standardizeTitle(t);
        if (once === null) return;
        expect(standardizeTitle(once.normalized)).toEqual(once);
      }),
      runs,
    );
  });
  it('companies', () => {
    const company = phrases(
      'ACME acme Acme the THE of & Co. Inc. GmbH KG S.A. Ltd Pty BANK IBM monday.com Müller SAP SE AB (publ) 株式会社',
    );
    fc.assert(
      fc.property(company, (c) => {
        const once = standardizeCompany(c);
        if (once === null) return;
        expect(standardizeCompany(once.name)).toEqual(once);
        if (once.key !== null) expect(companyKey(once.key)).toBe(once.key);
      }),
      runs,
    );
  });
  it('emails', () => {
    const address = fc.oneof(
      fc.emailAddress(),
      fc
        .tuple(fc.emailAddress(), fc.constantFrom('', ' ', 'Jane <', 'mailto:', '"x" <'))
        .map(([e, p]) => `${p}${e}>`),
      messy,
    );
    fc.assert(
      fc.property(address, (e) => {
        const once = standardizeEmail(e);
        if (once === null) return;
        expect(standardizeEmail(once.email)?.email).toBe(once.email);
        expect(standardizeEmail(once.display)?.email).toBe(once.email);
      }),
      runs,
    );
  });
  it('countries', () => {
    fc.assert(
      fc.property(fc.oneof(messy, fc.constantFrom('Deutschland', 'USA', 'uk', 'Türkiye', 'JPN')), (c) => {
        const code = standardizeCountry(c);
        if (code !== null) expect(standardizeCountry(code)).toBe(code);
      }),
      runs,
    );
  });
});

describe('never throws on arbitrary Unicode', () => {
  const rawLead = fc.record({
    account_id: fc.oneof(fc.constant('acc'), messy),
    batch_id: fc.option(messy),
    row_index: fc.option(fc.nat()),
    source: fc.constant('csv'),
    received_at: fc.constant(1_700_000_000_000),
    email: fc.option(messy),
    first_name: fc.option(wordy),
    last_name: fc.option(wordy),
    full_name: fc.option(wordy),
    title: fc.option(messy),
    company: fc.option(messy),
    website: fc.option(messy),
    phone: fc.option(fc.oneof(messy, fc.stringMatching(/^\+?[0-9 ()-.]{3,20}$/))),
    country: fc.option(messy),
    city: fc.option(messy),
    linkedin_url: fc.option(messy),
    industry: fc.option(messy),
    employees: fc.option(messy),
    extras: fc.dictionary(messy, messy, { maxKeys: 3 }),
  });
  const standardizedType = loadSchema('StandardizedLead').type;

  it('every field function and the phase; ok results always fit the StandardizedLead schema', () => {
    fc.assert(
      fc.property(rawLead, (raw: RawLead) => {
        standardizePhone(raw.phone, raw.country);
        const result = standardizeLead(raw, { topic: 'leads.raw', partition: 0, offset: '1' });
        expect(['ok', 'reject', 'dlq']).toContain(result.kind);
        if (result.kind === 'ok') expect(standardizedType.isValid(result.value)).toBe(true);
      }),
      runs,
    );
  });
});
