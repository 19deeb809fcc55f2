/**
 * Phone numbers, parsed with libphonenumber's `max` metadata (exact per-region number plans, which verify
 * also needs for line types). National numbers need a region: the lead's country, else a hint from its
 * domain. Stored as E.164; the extension, which E.164 cannot hold, stays readable in phone_raw.
 */
import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { cleanField } from '../lib/text.ts';

export interface StandardPhone {
  /** The cleaned input, kept whether or not it parsed. */
  raw: string;
  /** E.164 ("+12025550199"), or null when the input is not a valid number for its region. */
  e164: string | null;
  extension: string | null;
}

export function standardizePhone(
  raw: string | null | undefined,
  region: string | null,
): StandardPhone | null {
  const text = cleanField(raw);
  if (text === null) return null;
  const defaultCountry = region !== null && isSupportedCountry(region) ? (region as CountryCode) : undefined;
  const parsed = parsePhoneNumberFromString(internationalPrefix(text), { defaultCountry });
  if (parsed === undefined || !parsed.isValid()) return { raw: text, e164: null, extension: null };
  return { raw: text, e164: parsed.number, extension: parsed.ext ?? null };
}

// "00 49 30 ..." is how most of the world dials international numbers; libphonenumber only reads it as
// such when the default region uses 00, so without a region the number would be lost.
function internationalPrefix(text: string): string {
  return /^\s*00\s?[1-9]/.test(text) ? text.replace(/^\s*00\s?/, '+') : text;
}

/**
 * The API's display form: RFC 3966 without the `tel:` scheme ("+1-202-555-0199", "+44-20-7946-0958",
 * with ";ext=123" when there is an extension). Null when the stored number no longer parses.
 */
export function formatPhoneForDisplay(e164: string, extension: string | null = null): string | null {
  const parsed = parsePhoneNumberFromString(e164);
  if (parsed === undefined) return null;
  // RFC 3966 "global-number" with the visual separators of the international format, as Google's
  // libphonenumber writes it (libphonenumber-js's own RFC3966 output drops the separators).
  const global = parsed.formatInternational().replace(/[\s\-().]+/g, '-');
  return extension === null ? global : `${global};ext=${extension}`;
}
