import { describe, expect, it } from 'vitest';
import { enrichedLead } from '../../bench/lib/dedup-dataset.ts';
import type { StandardizedFields } from '../../schemas/generated.ts';
import { blockingKeys } from '../../services/dedupe/blocking.ts';
import { compare, prepare } from '../../services/dedupe/compare.ts';
import { fold, toMatchRecord } from '../../services/dedupe/match-record.ts';
import { DEFAULT_MODEL, levelWeight, matchProbability } from '../../services/dedupe/model.ts';
import { formalNames, nicknameEquivalent } from '../../services/dedupe/nicknames.ts';

let row = 0;
const rec = (lead: Partial<StandardizedFields>) =>
  prepare(toMatchRecord(enrichedLead({ lead_id: `b:${row}`, row_index: row++, lead })));

const john = {
  first_name: 'John',
  last_name: 'Smith',
  email: 'john.smith@acme.com',
  company_name: 'Acme Inc',
  company_key: 'acme',
  domain: 'acme.com',
  title_normalized: 'VP of Sales',
  country: 'US',
};

describe('folding and nicknames', () => {
  it('folds case, accents and punctuation', () => {
    expect(fold('  José-María  ÖZIL ')).toBe('jose maria ozil');
    expect(fold('Łukasz Søren Straße')).toBe('lukasz soren strasse');
    expect(fold(null)).toBe('');
  });

  it('treats nicknames and spelling variants as equivalent, and unrelated names as not', () => {
    expect(nicknameEquivalent('bob', 'robert')).toBe(true);
    expect(nicknameEquivalent('bill', 'william')).toBe(true);
    expect(nicknameEquivalent('liz', 'elizabeth')).toBe(true);
    expect(nicknameEquivalent('bob', 'bill')).toBe(false);
    expect(nicknameEquivalent('mary', 'maria')).toBe(false);
    expect(formalNames('alex')).toEqual(['alejandro', 'alex', 'alexander', 'alexandra']);
  });
});

describe('comparison', () => {
  it('scores the same person with a nickname, a personal email and a suffix change as a match', () => {
    const a = rec(john);
    const b = rec({
      ...john,
      first_name: 'Johnny',
      email: 'jsmith77@gmail.com',
      company_key: 'acme',
      domain: null,
    });
    const c = compare(a, b, DEFAULT_MODEL);
    expect(c.levels.name).toBe('strong');
    expect(c.levels.email).toBe('differ');
    expect(c.probability).toBeGreaterThan(0.9);
  });

  it('matches swapped first and last names, with accents and case changed', () => {
    const a = rec({ ...john, first_name: 'José', last_name: 'Núñez', email: 'jose.nunez@acme.com' });
    const b = rec({ ...john, first_name: 'NUNEZ', last_name: 'jose', email: 'jose.nunez@acme.com' });
    const c = compare(a, b, DEFAULT_MODEL);
    expect(c.swapped).toBe(true);
    expect(c.levels.name).toBe('exact');
    expect(c.probability).toBeGreaterThan(0.99);
  });

  it('looks past middle names and leading initials', () => {
    const a = rec(john);
    for (const first_name of ['John Andrew', 'John A.', 'J. John']) {
      expect(compare(a, rec({ ...john, first_name }), DEFAULT_MODEL).levels.name, first_name).toBe('exact');
    }
    const full = rec({ full_name: 'John Andrew Smith', email: john.email, company_key: 'acme' });
    expect(compare(a, full, DEFAULT_MODEL).levels.name).toBe('exact');
  });

  it('matches a swapped multi-word surname whichever record was typed the wrong way round', () => {
    const right = rec({ ...john, first_name: 'Ingrid', last_name: 'Van der Berg', email: null });
    const turned = rec({ ...john, first_name: 'Van der Berg', last_name: 'Ingrid', email: null });
    expect(compare(right, turned, DEFAULT_MODEL).levels.name).toBe('exact');
    expect(compare(turned, right, DEFAULT_MODEL).levels.name).toBe('exact');
  });

  it('does not let a swap turn a shared surname into a shared first name', () => {
    const a = rec({ ...john, first_name: 'Smith', last_name: 'Mary', email: 'mary@acme.com' });
    const b = rec({ ...john, first_name: 'Shirley', last_name: 'Smith', email: 'shirley.smith@acme.com' });
    const c = compare(a, b, DEFAULT_MODEL);
    expect(c.swapped).toBe(false);
    expect(c.probability).toBeLessThan(0.5);
  });

  it('keeps two colleagues with one surname apart', () => {
    const a = rec(john);
    const b = rec({ ...john, first_name: 'Jane', email: 'jane.smith@acme.com' });
    expect(compare(a, b, DEFAULT_MODEL).probability).toBeLessThan(0.1);
  });

  it('keeps namesakes at different companies apart', () => {
    const a = rec(john);
    const b = rec({
      ...john,
      email: 'john.smith@globex.com',
      company_name: 'Globex',
      company_key: 'globex',
      domain: 'globex.com',
      title_normalized: 'CTO',
    });
    expect(compare(a, b, DEFAULT_MODEL).probability).toBeLessThan(0.5);
  });

  it('tolerates a one-letter typo in the surname and word order in the title', () => {
    const a = rec(john);
    const b = rec({ ...john, last_name: 'Smiht', title_normalized: 'Sales VP of', email: null });
    const c = compare(a, b, DEFAULT_MODEL);
    expect(c.levels.name).toBe('strong');
    expect(c.levels.title).toBe('exact');
    expect(c.probability).toBeGreaterThan(0.9);
  });

  it('an agreeing field never lowers the probability and a missing one weighs nothing', () => {
    expect(levelWeight(DEFAULT_MODEL, 'phone', 'missing')).toBe(0);
    for (const [field, levels] of Object.entries(DEFAULT_MODEL.fields)) {
      const w = Object.fromEntries(Object.entries(levels).map(([l, mu]) => [l, Math.log2(mu.m / mu.u)]));
      expect(w.exact, field).toBeGreaterThan(w.differ as number);
    }
    expect(matchProbability(DEFAULT_MODEL, 0)).toBeCloseTo(DEFAULT_MODEL.prior, 10);
    expect(matchProbability(DEFAULT_MODEL, 10)).toBeGreaterThan(matchProbability(DEFAULT_MODEL, 5));
  });

  it('counts the same local part at another provider only when it is specific', () => {
    const a = rec({ ...john, email: 'john.smith@acme.com' });
    expect(compare(a, rec({ ...john, email: 'johnsmith@gmail.com' }), DEFAULT_MODEL).levels.email).toBe(
      'local',
    );
    const short = rec({ ...john, email: 'john@acme.com' });
    expect(compare(short, rec({ ...john, email: 'john@gmail.com' }), DEFAULT_MODEL).levels.email).toBe(
      'differ',
    );
    // Two mailboxes at one domain are two people's, even when they differ only by a digit.
    const two = rec({ ...john, email: 'john.smith2@acme.com' });
    expect(compare(a, two, DEFAULT_MODEL).levels.email).toBe('differ');
  });
});

describe('blocking keys', () => {
  const shared = (a: ReturnType<typeof rec>, b: ReturnType<typeof rec>) =>
    blockingKeys(a).filter((k) => blockingKeys(b).includes(k));

  it('put nickname, swapped, personal-email and company-only variants in a block with the original', () => {
    const original = rec(john);
    const variants = [
      rec({ ...john, first_name: 'Jack', email: 'jack.smith@gmail.com', domain: null }),
      rec({ ...john, first_name: 'Smith', last_name: 'John', email: null }),
      rec({ ...john, email: null, domain: null, last_name: 'Smiht' }),
      rec({ first_name: 'John', last_name: 'Smith', domain: 'acme.com' }),
      rec({ phone_e164: '+14155550100' }),
    ];
    for (const v of variants.slice(0, 4)) expect(shared(original, v), JSON.stringify(v.rec)).not.toEqual([]);
    const withPhone = rec({ ...john, phone_e164: '+14155550100' });
    expect(shared(withPhone, variants[4] as ReturnType<typeof rec>)).toEqual(['p:+14155550100']);
  });

  it('gives a record without any usable field no key at all', () => {
    expect(blockingKeys(rec({ title_normalized: 'CEO' }))).toEqual([]);
  });
});
