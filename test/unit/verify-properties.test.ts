import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { screenEmail } from '../../services/verify/email.ts';
import { checkSyntax } from '../../services/verify/email-syntax.ts';
import { suggestDomain } from '../../services/verify/email-typo.ts';
import { classifyPhone } from '../../services/verify/phone.ts';

// Whatever a messy upload holds, the local checks answer with a verdict, never an exception, and an
// accepted address always fits the limits the policy promises.

const octets = (s: string) => Buffer.byteLength(s, 'utf8');
const ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~";
const LDH = 'abcdefghijklmnopqrstuvwxyz0123456789-';

const atom = fc.string({ unit: fc.constantFrom(...ATEXT), minLength: 1, maxLength: 12 });
const label = fc
  .string({ unit: fc.constantFrom(...LDH), minLength: 1, maxLength: 20 })
  .filter((l) => !l.startsWith('-') && !l.endsWith('-'));
const tld = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), minLength: 2, maxLength: 6 });
const wellFormed = fc
  .tuple(fc.array(atom, { minLength: 1, maxLength: 4 }), fc.array(label, { minLength: 1, maxLength: 3 }), tld)
  .map(([atoms, labels, t]) => `${atoms.join('.')}@${[...labels, t].join('.')}`)
  .filter((a) => octets(a.split('@')[0] as string) <= 64);

describe('email checks on arbitrary input', () => {
  it('never throw, and every accepted address keeps the length and character limits', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), wellFormed), (input) => {
        const v = checkSyntax(input);
        if (!v.ok) return;
        const { local, domain } = v.address;
        expect(octets(local)).toBeLessThanOrEqual(64);
        expect(domain.length).toBeLessThanOrEqual(253);
        expect(octets(local) + 1 + domain.length).toBeLessThanOrEqual(254);
        expect(domain).toMatch(/^[a-z0-9.-]+$/);
        for (const l of domain.split('.')) expect(l.length).toBeGreaterThan(0);
        expect(local).not.toMatch(/^\.|\.$|\.\.|[\s"@<>()[\]\\,;:]/);
      }),
      { numRuns: 3_000 },
    );
  });

  it('accept every dot-atom address at a well-formed host name', () => {
    fc.assert(
      fc.property(wellFormed, (address) => {
        expect(checkSyntax(address).ok).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('screen any string to a verdict or a parsed address', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), wellFormed), (input) => {
        const r = screenEmail(input);
        const status = 'address' in r ? 'pass' : r.status;
        expect(['pass', 'missing', 'invalid_syntax', 'disposable', 'role_account']).toContain(status);
      }),
      { numRuns: 2_000 },
    );
  });

  it('never suggest the domain that was typed', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          wellFormed.map((a) => a.split('@')[1] as string),
        ),
        (domain) => {
          expect(suggestDomain(domain)).not.toBe(domain);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('phone checks on arbitrary input', () => {
  it('classify any string as missing, invalid or a valid line type', () => {
    const e164ish = fc
      .string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 17 })
      .map((d) => `+${d}`);
    fc.assert(
      fc.property(fc.option(fc.oneof(fc.string(), e164ish)), fc.option(fc.string()), (e164, raw) => {
        const v = classifyPhone(e164, raw);
        if (v.status === 'missing' || v.status === 'invalid') expect(v.lineType).toBeNull();
        else expect(v.lineType).toMatch(/^[a-z_]+$/);
      }),
      { numRuns: 3_000 },
    );
  });
});
