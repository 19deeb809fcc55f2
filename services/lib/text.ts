/**
 * Text hygiene applied to every lead field before any field-specific rule: what arrives from CSV exports,
 * web forms and copy-paste carries invisible characters, odd spaces and compatibility forms.
 */

// Removed before normalisation: C0/C1 controls (tab, CR and LF become spaces instead), lone surrogates,
// and invisible format characters that only come from copy-paste (zero-width space, word joiner, BOM,
// soft hyphen, bidi embeddings/overrides/isolates and marks). ZWJ/ZWNJ (U+200C/U+200D) are kept: Persian,
// Indic scripts and emoji need them.
const INVISIBLE = new RegExp(
  '[\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F\\u00AD\\u061C\\u200B\\u200E\\u200F' +
    '\\u202A-\\u202E\\u2060-\\u2064\\u2066-\\u206F\\uFEFF\\uFFF9-\\uFFFB]|\\p{Cs}',
  'gu',
);
const LINE_BREAKS = /[\t\n\r]/g;
const WHITESPACE_RUN = /\s+/g;
// Plain printable ASCII with single inner spaces needs no work: most values take this path.
const ALREADY_CLEAN = /^[\x21-\x7E]+(?: [\x21-\x7E]+)*$/;

/**
 * NFKC (full-width letters, ligatures, non-breaking and typographic spaces become their plain forms),
 * control and invisible characters removed, whitespace runs collapsed to one space, trimmed.
 * Idempotent: invisible characters go first, so NFKC can compose what they separated.
 */
export function cleanText(value: string): string {
  if (ALREADY_CLEAN.test(value)) return value;
  return value
    .replace(INVISIBLE, '')
    .replace(LINE_BREAKS, ' ')
    .normalize('NFKC')
    .replace(WHITESPACE_RUN, ' ')
    .trim();
}

// Values that spreadsheet exports and forms put in a cell that has no data.
const PLACEHOLDERS = new Set([
  '-',
  '--',
  '---',
  '.',
  '?',
  '#n/a',
  'n/a',
  'n.a.',
  'nan',
  'nil',
  'none',
  'null',
  'undefined',
  'unknown',
  'tbd',
  'not available',
  'not provided',
]);

/** `cleanText`, then null for an absent, empty or placeholder value ("N/A", "null", "-", ...). */
export function cleanField(value: string | null | undefined): string | null {
  if (value == null) return null;
  const text = cleanText(value);
  if (text === '' || PLACEHOLDERS.has(text.toLowerCase())) return null;
  return text;
}

// Only the Latin/Greek/Cyrillic diacritic blocks: marks of other scripts (Devanagari vowel signs, ...) are
// letters of the word, not accents.
const COMBINING_MARKS = /[\u0300-\u036F\u1AB0-\u1AFF\u1DC0-\u1DFF\u20D0-\u20FF\uFE20-\uFE2F]/g;
// Letters that are not a base letter plus a combining mark, so NFD alone does not fold them.
const FOLDED_LETTERS: ReadonlyMap<string, string> = new Map(
  Object.entries({
    ß: 'ss',
    æ: 'ae',
    œ: 'oe',
    ø: 'o',
    ł: 'l',
    đ: 'd',
    ð: 'd',
    þ: 'th',
    ı: 'i',
  }),
);
const ASCII = /^[ -~]*$/;
const UNFOLDED = /[ßæœøłđðþı]/g;

/** Lower-case with accents and diacritics removed: the form used in matching keys. */
export function foldForKey(value: string): string {
  // Printable ASCII has nothing to fold: most keys take this path.
  if (ASCII.test(value)) return value.toLowerCase();
  return value
    .toLowerCase()
    .normalize('NFD')
    .replace(COMBINING_MARKS, '')
    .replace(UNFOLDED, (letter) => FOLDED_LETTERS.get(letter) ?? letter)
    .normalize('NFC');
}

/**
 * Upper-cases the first character of a word when that gives one character: "ǆ" or "ᾀ" would turn into two
 * ("ǅ"/"ἈΙ") and are left as typed, so recasing stays idempotent.
 */
export function capitalize(word: string): string {
  const first = word.codePointAt(0);
  if (first === undefined) return word;
  const width = first > 0xffff ? 2 : 1;
  const head = word.slice(0, width);
  const upper = head.toUpperCase();
  return upper.length === head.length && upper.toLowerCase() === head ? upper + word.slice(width) : word;
}
