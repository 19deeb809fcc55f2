import { parsePhoneNumberFromString } from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/metadata.max.json';

/**
 * The API's display form: RFC 3966 without the `tel:` scheme ("+1-202-555-0199", "+44-20-7946-0958",
 * with ";ext=123" when there is an extension). Null when the stored number no longer parses.
 */
export function formatPhoneForDisplay(e164: string, extension: string | null = null): string | null {
  const parsed = parsePhoneNumberFromString(e164, metadata);
  if (parsed === undefined) return null;
  // RFC 3966 "global-number" with the visual separators of the international format, as Google's
  // libphonenumber writes it (libphonenumber-js's own RFC3966 output drops the separators).
  const global = parsed.formatInternational().replace(/[\s\-().]+/g, '-');
  return extension === null ? global : `${global};ext=${extension}`;
}
