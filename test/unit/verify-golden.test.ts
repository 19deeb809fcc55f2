import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { screenEmail } from '../../services/verify/email.ts';
import { classifyPhone } from '../../services/verify/phone.ts';

// Hand-written tables (test/fixtures/golden): expectations come from the documented policy
// (services/verify/README.md) and real numbering plans, not from running this code.
const golden = (name: string) =>
  parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'golden', name)), {
    columns: true,
  }) as Record<string, string>[];

const emails = golden('emails-verify.csv');
const phones = golden('phones-verify.csv');

describe('email golden table: the checks before DNS', () => {
  it('has at least 100 cases', () => expect(emails.length).toBeGreaterThanOrEqual(100));

  it.each(emails.map((r) => [r.email, r] as const))('%s', (email, row) => {
    const result = screenEmail(email ?? null);
    const v = 'address' in result ? result.verdict : result;
    // "pass" means no local step decided: the address goes on to DNS.
    expect('address' in result ? 'pass' : v.status, row.note).toBe(row.status);
    expect(v.suggestion ?? '', row.note).toBe(row.suggestion);
    for (const [column, actual] of [
      ['free', v.freeProvider],
      ['role', v.role],
      ['disposable', v.disposable],
    ] as const) {
      if (row[column]) expect(String(actual), `${column}: ${row.note}`).toBe(row[column]);
    }
  });
});

describe('phone golden table', () => {
  it('has at least 100 cases from at least 12 countries', () => {
    expect(phones.length).toBeGreaterThanOrEqual(100);
    expect(new Set(phones.map((r) => r.region).filter(Boolean)).size).toBeGreaterThanOrEqual(12);
  });

  it.each(phones.map((r) => [r.e164 || `raw "${r.raw}"`, r] as const))('%s', (_label, row) => {
    const v = classifyPhone(row.e164 || null, row.raw || null);
    expect(v.status, row.note).toBe(row.status);
    expect(v.lineType ?? '', row.note).toBe(row.line_type);
    if (row.region)
      expect(parsePhoneNumberFromString(row.e164 as string)?.country, row.note).toBe(row.region);
  });
});
