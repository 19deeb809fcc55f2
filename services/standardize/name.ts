/**
 * Person names: full name ↔ first/last, honorifics and suffixes split off, capitalisation repaired for
 * names typed in one case only.
 *
 * Rules (documented here because the golden table depends on them):
 * - Split: the last word, with the particles before it (van, von, de, de la, da, bin, al, ...), is the last
 *   name; every word before it is the first name (middle names included). "Last, First" is recognised by
 *   its comma. A lone word is a first name, unless an honorific precedes it ("Mr. Smith" → last name).
 *   Names in CJK scripts are family-name first: with a space, the first word is the last name; without
 *   one they are not split (only full_name is set).
 * - full_name is rebuilt from first + last (no honorific, no suffix), so the three fields always agree.
 * - Casing: a name with a word in mixed case ("DeShawn", "McKenzie", "van Dyke") was typed with care.
 *   This is decided once per person, over the name words of first + last (or of the full name),
 *   honorifics and suffixes aside, so the fields of one person are cased alike and a second pass changes
 *   nothing. In a careful name only all-lower words (not particles) are capitalised and all-upper words
 *   of three letters or more recased ("Jean DUPONT" → "Jean Dupont"); shorter upper-case words ("DJ")
 *   stay. A name in one case is recased whole: Mc/Mac (Mac only for known Mac- surnames: Macy, Mack
 *   stay), O'/D', hyphens, particles lower-case inside a name and capitalised when they start it ("Van
 *   der Berg" alone, "Jan van der Berg" in full; a full name that starts with a lower-case particle, "de
 *   Souza", is a last name). Scripts without case (CJK, Arabic, ...) are left untouched; words without a
 *   letter are dropped.
 */
import { capitalize, cleanField, cleanText } from '../lib/text.ts';

export interface NameInput {
  first_name?: string | null;
  last_name?: string | null;
  full_name?: string | null;
}

export interface StandardName {
  first_name: string | null;
  last_name: string | null;
  full_name: string | null;
  honorific: string | null;
  name_suffix: string | null;
}

const HONORIFICS: ReadonlyMap<string, string> = new Map(
  Object.entries({
    mr: 'Mr.',
    mrs: 'Mrs.',
    ms: 'Ms.',
    miss: 'Miss',
    mx: 'Mx.',
    dr: 'Dr.',
    prof: 'Prof.',
    professor: 'Prof.',
    sir: 'Sir',
    dame: 'Dame',
    lord: 'Lord',
    lady: 'Lady',
    rev: 'Rev.',
    revd: 'Rev.',
    reverend: 'Rev.',
    fr: 'Fr.',
    hon: 'Hon.',
    herr: 'Herr',
    frau: 'Frau',
    m: 'M.',
    monsieur: 'M.',
    mme: 'Mme',
    madame: 'Mme',
    mlle: 'Mlle',
    mademoiselle: 'Mlle',
    sr: 'Sr.',
    senor: 'Sr.',
    señor: 'Sr.',
    sra: 'Sra.',
    senora: 'Sra.',
    señora: 'Sra.',
    srta: 'Srta.',
    señorita: 'Srta.',
    sig: 'Sig.',
    signor: 'Sig.',
    sigra: 'Sig.ra',
    signora: 'Sig.ra',
    dott: 'Dott.',
    dottssa: 'Dott.ssa',
    ing: 'Ing.',
    'dipl-ing': 'Dipl.-Ing.',
    mag: 'Mag.',
    dhr: 'Dhr.',
    mevr: 'Mevr.',
    capt: 'Capt.',
    col: 'Col.',
    shri: 'Shri',
    sri: 'Sri',
    smt: 'Smt.',
  }),
);

const SUFFIXES: ReadonlyMap<string, string> = new Map(
  Object.entries({
    jr: 'Jr.',
    jnr: 'Jr.',
    junior: 'Jr.',
    sr: 'Sr.',
    snr: 'Sr.',
    ii: 'II',
    iii: 'III',
    iv: 'IV',
    '2nd': 'II',
    '3rd': 'III',
    phd: 'PhD',
    md: 'MD',
    mba: 'MBA',
    esq: 'Esq.',
    cpa: 'CPA',
    dds: 'DDS',
    dmd: 'DMD',
    dvm: 'DVM',
    jd: 'JD',
    llm: 'LLM',
    rn: 'RN',
    np: 'NP',
    pe: 'PE',
    cfa: 'CFA',
    cfp: 'CFP',
    pmp: 'PMP',
    mph: 'MPH',
    msc: 'MSc',
    bsc: 'BSc',
    meng: 'MEng',
    obe: 'OBE',
    mbe: 'MBE',
    cbe: 'CBE',
    kbe: 'KBE',
    qc: 'QC',
    kc: 'KC',
    frcs: 'FRCS',
    facs: 'FACS',
  }),
);

// Honorifics that are also common initials or suffixes: only an honorific when a full name follows.
const AMBIGUOUS_HONORIFICS = new Set(['m', 'sr', 'fr', 'col', 'ing']);

const PARTICLES = new Set(['van', 'von', 'der', 'den', 'dem', 'de', 'del', 'della', 'delle', 'dei', 'degli']);
for (const p of [
  'di',
  'da',
  'das',
  'dos',
  'do',
  'du',
  'la',
  'le',
  'lo',
  'ten',
  'ter',
  'te',
  'zu',
  'zum',
  'zur',
])
  PARTICLES.add(p);
for (const p of ['bin', 'binti', 'bint', 'ibn', 'al', 'el', 'af', 'av']) PARTICLES.add(p);

// Mac is a prefix only in these surnames; Macy, Mack, Macias, Machado, Mackey are plain words.
const MAC_NAMES = new Set(
  (
    'macarthur macaulay macbride macdonald macdougall macduff macewan macfarlane macgillivray macgregor ' +
    'macinnes macintyre maciver mackay mackenzie mackinlay mackinnon maclachlan maclaren maclean maclennan ' +
    'macleod macmillan macnab macnaughton macneil macphail macpherson macqueen macrae'
  ).split(' '),
);

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const NICKNAME = /\s*(?:\([^)]*\)|"[^"]*"|“[^”]*”)\s*/g;
const UPPER = /\p{Lu}/u;
const LETTER = /\p{L}/u;
const LOWER = /\p{Ll}/u;

function tokenKey(token: string): string {
  return token.toLowerCase().replace(/\./g, '').replace(/,$/, '');
}

function capitalizePart(part: string): string {
  const apostrophe = part.search(/['’]/);
  if (apostrophe > 0 && apostrophe < part.length - 1) {
    const head = part.slice(0, apostrophe);
    const tail = part.slice(apostrophe + 1);
    const mark = part[apostrophe];
    // O'Brien, D'Angelo: a one-letter prefix is an elided word and the rest a name of its own.
    return head.length === 1
      ? `${head.toUpperCase()}${mark}${capitalizePart(tail)}`
      : `${capitalize(head)}${mark}${tail}`;
  }
  if (part.includes('.')) return part.split('.').map(capitalize).join('.');
  if (part.length > 3 && part.startsWith('mc')) return `Mc${capitalize(part.slice(2))}`;
  if (MAC_NAMES.has(part)) return `Mac${capitalize(part.slice(3))}`;
  return capitalize(part);
}

/** Capitalise one lower-case word: hyphenated parts each ("Jean-Luc"), Mc/Mac, O'/D', initials. */
function capitalizeWord(lower: string): string {
  return lower.split('-').map(capitalizePart).join('-');
}

function isMixedCase(word: string): boolean {
  return UPPER.test(word) && LOWER.test(word);
}

/**
 * Repair the capitalisation of a name (see the module comment). `insideName`: the text continues a name
 * already begun (a last name after a first name), so a leading particle stays lower-case.
 */
export function properCaseName(text: string, insideName = false, careful = isCareful(text)): string {
  // Case mapping can leave a letter and its combining mark apart: the result goes through cleanText again.
  return cleanText(recaseName(text, insideName, careful));
}

/** Whether a name was typed with care: it has a word in mixed case. Decided once per person. */
function isCareful(...texts: string[]): boolean {
  return texts.some((text) => text.split(' ').some(isMixedCase));
}

function recaseName(text: string, insideName: boolean, careful: boolean): string {
  const words = text.split(' ');
  return words
    .map((word, index) => {
      // Case is read from the letters' categories (not from toUpperCase round trips, which disagree for
      // letters without a case pair) so "mixed", "upper" and "lower" never overlap.
      const hasUpper = UPPER.test(word);
      const hasLower = LOWER.test(word);
      if (!hasUpper && !hasLower) return word;
      const lower = word.toLowerCase();
      const particle = PARTICLES.has(lower) && index < words.length - 1;
      if (careful) {
        if (!hasUpper) return particle ? word : capitalizeWord(lower);
        return !hasLower && countLetters(word) >= 3 ? capitalizeWord(lower) : word;
      }
      return particle && (index > 0 || insideName) ? lower : capitalizeWord(lower);
    })
    .join(' ');
}

function countLetters(word: string): number {
  let letters = 0;
  for (const char of word) if (UPPER.test(char) || LOWER.test(char)) letters++;
  return letters;
}

interface Parts {
  words: string[];
  honorifics: string[];
  suffixes: string[];
}

/** Split leading honorifics and trailing suffixes off a list of words; at least one word stays a name. */
function splitTitles(words: string[], allowSuffixes: boolean): Parts {
  const honorifics: string[] = [];
  const suffixes: string[] = [];
  let start = 0;
  let end = words.length;
  while (end - start > 1) {
    const key = tokenKey(words[start] ?? '');
    const canonical = HONORIFICS.get(key);
    if (canonical === undefined || (AMBIGUOUS_HONORIFICS.has(key) && end - start < 3)) break;
    honorifics.push(canonical);
    start++;
  }
  while (allowSuffixes && end - start > 1) {
    const canonical = SUFFIXES.get(tokenKey(words[end - 1] ?? ''));
    if (canonical === undefined) break;
    suffixes.unshift(canonical);
    end--;
  }
  return { words: words.slice(start, end), honorifics, suffixes };
}

/** A full name split into words as typed (cased later, together with the name fields). */
interface ParsedName {
  first: string[];
  last: string[];
  honorifics: string[];
  suffixes: string[];
}

// Words without a letter ("2", "—", unassigned code points) are not part of a name.
function words(text: string): string[] {
  return text.split(' ').filter((w) => LETTER.test(w));
}

function isSuffixSegment(segment: string): boolean {
  const list = words(segment);
  return list.length > 0 && list.every((w) => SUFFIXES.has(tokenKey(w)));
}

function parseFullName(text: string): ParsedName {
  const segments = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const trailing: string[] = [];
  while (segments.length > 1 && isSuffixSegment(segments[segments.length - 1] ?? '')) {
    const segment = segments.pop() ?? '';
    trailing.unshift(...words(segment).map((w) => SUFFIXES.get(tokenKey(w)) ?? w));
  }
  if (segments.length >= 2) {
    // "Last, First": the comma says where the last name ends.
    const lastParts = splitTitles(words(segments[0] ?? ''), true);
    const firstParts = splitTitles(words(segments.slice(1).join(' ')), true);
    return {
      first: firstParts.words,
      last: lastParts.words,
      honorifics: [...lastParts.honorifics, ...firstParts.honorifics],
      suffixes: [...lastParts.suffixes, ...firstParts.suffixes, ...trailing],
    };
  }
  const parts = splitTitles(words(segments[0] ?? ''), true);
  const name = parts.words;
  const split = (first: string[], last: string[], honorifics = parts.honorifics): ParsedName => ({
    first,
    last,
    honorifics,
    suffixes: [...parts.suffixes, ...trailing],
  });
  if (CJK.test(name[0] ?? '')) {
    if (name.length <= 1) return split([], []);
    // The given name after the family name is what a first-name field holds: no honorific in front.
    const given = splitTitles(name.slice(1), false);
    return split(given.words, name.slice(0, 1), [...parts.honorifics, ...given.honorifics]);
  }
  if (name.length <= 1) return parts.honorifics.length > 0 ? split([], name) : split(name, []);
  let lastStart = name.length - 1;
  while (lastStart > 1 && PARTICLES.has((name[lastStart - 1] ?? '').toLowerCase())) lastStart--;
  // "de Souza", typed with a lower-case particle, is a last name alone ("Van Morrison" is not).
  const lead = name[0] ?? '';
  if (lastStart === 1 && lead === lead.toLowerCase() && PARTICLES.has(lead)) return split([], name);
  return split(name.slice(0, lastStart), name.slice(lastStart));
}

function cleanName(value: string | null | undefined): string | null {
  const text = cleanField(value);
  if (text === null || text.includes('@')) return null;
  const withoutNicknames = cleanField(text.replace(NICKNAME, ' '));
  return withoutNicknames === null || !/\p{L}/u.test(withoutNicknames) ? null : withoutNicknames;
}

function joinFull(first: string | null, last: string | null): string | null {
  if (first === null) return last;
  if (last === null) return first;
  // Family name first, without a space, as CJK names are written.
  if (CJK.test(last) && CJK.test(first)) return `${last}${first}`;
  return `${first} ${last}`;
}

export function standardizeName(input: NameInput): StandardName {
  const fullText = cleanName(input.full_name);
  const parsed = fullText === null ? null : parseFullName(fullText);
  const firstText = cleanName(input.first_name);
  const lastText = cleanName(input.last_name);
  // A comma inside a single name field only separates a suffix ("Smith, PhD").
  const firstParts = firstText === null ? null : splitTitles(words(firstText.replace(/,/g, ' ')), false);
  const lastParts = lastText === null ? null : splitTitles(words(lastText.replace(/,/g, ' ')), true);

  // The fields win; the full name fills what they lack. Case is then decided once over the chosen words.
  const firstWords = firstParts?.words ?? parsed?.first ?? [];
  const lastWords = lastParts?.words ?? parsed?.last ?? [];
  const careful = isCareful(...firstWords, ...lastWords);
  const first = firstWords.length > 0 ? properCaseName(firstWords.join(' '), false, careful) : null;
  const last = lastWords.length > 0 ? properCaseName(lastWords.join(' '), first !== null, careful) : null;
  const honorifics = [...(firstParts?.honorifics ?? []), ...(lastParts?.honorifics ?? [])];
  const suffixes = lastParts?.suffixes ?? [];
  const honorific = honorifics.length > 0 ? honorifics : (parsed?.honorifics ?? []);
  const suffix = suffixes.length > 0 ? suffixes : (parsed?.suffixes ?? []);
  // A CJK name written without a space is not split: it is only a full name.
  const unsplit = parsed !== null && parsed.first.length === 0 && parsed.last.length === 0 ? fullText : null;
  return {
    first_name: first,
    last_name: last,
    full_name: joinFull(first, last) ?? (unsplit === null ? null : properCaseName(unsplit)),
    honorific: honorific.length > 0 ? honorific.join(' ') : null,
    name_suffix: suffix.length > 0 ? suffix.join(', ') : null,
  };
}
