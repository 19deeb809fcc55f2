import { foldForKey } from '../lib/text.ts';
import type { Field, FieldValue } from './types.ts';

const LEGAL_FORMS =
  /\b(inc|incorporated|llc|l\.l\.c|ltd|limited|corp|corporation|co|company|plc|gmbh|ag|sa|sas|sarl|bv|nv|oy|ab|as|srl|spa|pty|kk)\b\.?/g;

/** Company names as compared across providers: folded, legal form and punctuation removed. */
export function companyKey(name: string): string {
  return foldForKey(name)
    .replace(/&/g, ' and ')
    .replace(LEGAL_FORMS, ' ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

const words = (s: string) =>
  foldForKey(s)
    .replace(/&/g, ' and ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

// Providers estimate headcount; two estimates in the same band agree.
const HEADCOUNT_BANDS = [10, 50, 200, 500, 1_000, 5_000, 10_000];
const band = (n: number) => {
  const i = HEADCOUNT_BANDS.findIndex((b) => n <= b);
  return i === -1 ? HEADCOUNT_BANDS.length : i;
};

/**
 * The comparable form of a field value: two providers agree on a field when these are equal. Titles,
 * names and industries compare as folded words; companies without legal form; headcounts by band.
 */
export function normalizeField(field: Field, value: FieldValue): string {
  if (Array.isArray(value))
    return value
      .map((v) => words(v))
      .sort()
      .join('|');
  if (typeof value === 'number') return field === 'employee_count' ? `band${band(value)}` : String(value);
  switch (field) {
    case 'company':
      return companyKey(value);
    case 'phone':
      return value.replace(/\D/g, '');
    case 'linkedin':
    case 'domain':
    case 'email':
      return value.trim().toLowerCase();
    case 'country':
      return value.trim().toUpperCase();
    default:
      return words(value);
  }
}
