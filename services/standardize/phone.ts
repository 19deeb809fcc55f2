/**
 * Phone numbers, parsed with libphonenumber's `max` metadata (exact per-region number plans, which verify
 * also needs for line types). National numbers need a region: the lead's country, else a hint from its
 * domain. Stored as E.164; the extension, which E.164 cannot hold, stays readable in phone_raw.
 */
import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/metadata.max.json';
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
  const defaultCountry =
    region !== null && isSupportedCountry(region as CountryCode, metadata)
      ? (region as CountryCode)
      : undefined;
  // The core API with the max metadata: the `max` wrapper rebuilds its arguments with the metadata on
  // every call (as verify/phone.ts found).
  const parsed = parsePhoneNumberFromString(internationalPrefix(text), { defaultCountry }, metadata);
  if (parsed === undefined || !parsed.isValid()) return { raw: text, e164: null, extension: null };
  return { raw: text, e164: parsed.number, extension: parsed.ext ?? null };
}

// "00 49 30 ..." is how most of the world dials international numbers; libphonenumber only reads it as
// such when the default region uses 00, so without a region the number would be lost.
function internationalPrefix(text: string): string {
  return /^\s*00\s?[1-9]/.test(text) ? text.replace(/^\s*00\s?/, '+') : text;
}
