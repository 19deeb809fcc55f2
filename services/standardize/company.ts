/**
 * Company names: a clean display name and a matching key.
 *
 * Display: cleaned text; a name typed in one case is recased word by word (ACME CORPORATION → Acme
 * Corporation) except words of up to three letters (IBM, SAP, BMW, AG) or without vowels (KPMG, HSBC), words with
 * digits or "&" (3M, AT&T) and web names (monday.com); "of", "and", "for" lower-case; legal forms get their usual casing (GmbH, LLC, Inc). A name in
 * mixed case is kept as given ("eBay", "DocuSign", "McKinsey & Company").
 *
 * Key: accents folded, lower-case, apostrophes and dots dropped, other punctuation → space, "&"/"+" →
 * "and", a leading "The" and trailing legal forms of many countries removed (repeatedly: "GmbH & Co. KG",
 * "Co., Ltd."), a web suffix dropped ("Salesforce.com" → salesforce), Japanese/Chinese legal forms (株式会社, 有限公司, ...) removed wherever they stand. A key
 * is never emptied: "The Company" keeps a word.
 */
import { capitalize, cleanField, cleanText, foldForKey } from '../lib/text.ts';

// Legal forms as dot-less, lower-case word sequences (the key's own spelling of them).
const LEGAL_FORMS: string[][] = [
  ...'inc incorporated llc lc pllc ltd limited plc corp corporation co company cos lp llp lllp pc pty pvt'
    .split(' ')
    .map((w) => [w]),
  ['private', 'limited'],
  ['public', 'limited', 'company'],
  ['limited', 'liability', 'company'],
  ['and', 'co'],
  ['and', 'company'],
  ...'gmbh mbh ag kg kgaa ohg ug gbr ev se'.split(' ').map((w) => [w]),
  ['haftungsbeschrankt'],
  ...'sa sas sasu sarl eurl sca snc scs sci'.split(' ').map((w) => [w]),
  ['s', 'a'],
  ['s', 'a', 's'],
  ...'srl spa sapa snc sl slu sll sau ltda eireli me epp'.split(' ').map((w) => [w]),
  ['s', 'r', 'l'],
  ['s', 'p', 'a'],
  ['s', 'l'],
  ...'bv nv vof cv cvba bvba sprl scrl asbl'.split(' ').map((w) => [w]),
  ['b', 'v'],
  ['n', 'v'],
  ...'oy oyj ab publ as asa aps a/s hf ehf'.split(' ').map((w) => [w]),
  ['a', 's'],
  ...'kk gk yk'.split(' ').map((w) => [w]),
  ['kabushiki', 'kaisha'],
  ['kabushiki', 'gaisha'],
  ['godo', 'kaisha'],
  ['yugen', 'kaisha'],
  ['sdn', 'bhd'],
  ['bhd'],
  ['berhad'],
  ['sendirian', 'berhad'],
  ['aktiengesellschaft'],
  ['tbk'],
  ['pte'],
  ['sro'],
  ['spol', 's', 'ro'],
  ['sp', 'z', 'oo'],
  ['sp', 'k'],
  ['sp', 'j'],
  ['zrt'],
  ['kft'],
  ['nyrt'],
  ['doo'],
  ['dd'],
  ['ooo'],
  ['oao'],
  ['zao'],
  ['pao'],
  ['jsc'],
  ['pjsc'],
  ['ojsc'],
  ['sab', 'de', 'cv'],
  ['sa', 'de', 'cv'],
  ['s', 'de', 'rl', 'de', 'cv'],
  ['s', 'de', 'rl'],
  ['de', 'cv'],
  ['sc'],
  ['ptd'],
];
const MAX_FORM = Math.max(...LEGAL_FORMS.map((f) => f.length));
const FORM_SET = new Set(LEGAL_FORMS.map((f) => f.join(' ')));

// Leading legal forms (Indonesian "PT", Japanese "KK", Russian "ООО"/"ПАО") and the article.
const LEADING: string[][] = [
  ...'the pt cv kk ооо оао зао пао ао'.split(' ').map((w) => [w]),
  ['kabushiki', 'kaisha'],
  ['kabushiki', 'gaisha'],
];

// CJK legal forms, written without spaces around them.
const CJK_FORMS =
  /株式会社|有限会社|合同会社|合资会社|有限责任公司|股份有限公司|有限公司|集团有限公司|주식회사|\(주\)|㈜/gu;

// "Salesforce.com", "monday.com": the company is the name before the web suffix.
const WEB_SUFFIX = /(?<=\p{L})\.(?:com|net|org|io|ai|co|eu|app)(?![\p{L}\p{N}])/gu;

// Usual casing of legal forms in a recased display name (punctuation kept as typed).
const DISPLAY_FORMS: ReadonlyMap<string, string> = new Map(
  Object.entries({
    inc: 'Inc',
    'inc.': 'Inc.',
    ltd: 'Ltd',
    'ltd.': 'Ltd.',
    corp: 'Corp',
    'corp.': 'Corp.',
    co: 'Co',
    'co.': 'Co.',
    gmbh: 'GmbH',
    mbh: 'mbH',
    kgaa: 'KGaA',
    llc: 'LLC',
    'l.l.c.': 'L.L.C.',
    llp: 'LLP',
    plc: 'PLC',
    pty: 'Pty',
    'pty.': 'Pty.',
    pvt: 'Pvt',
    'pvt.': 'Pvt.',
    'b.v.': 'B.V.',
    'n.v.': 'N.V.',
    's.a.': 'S.A.',
    's.r.l.': 'S.r.l.',
    srl: 'Srl',
    's.p.a.': 'S.p.A.',
    spa: 'SpA',
    'k.k.': 'K.K.',
    oyj: 'Oyj',
    ltda: 'Ltda',
    'ltda.': 'Ltda.',
    bhd: 'Bhd',
    'bhd.': 'Bhd.',
    sdn: 'Sdn',
    'sdn.': 'Sdn.',
    sarl: 'SARL',
    's.a.s.': 'S.A.S.',
    'a/s': 'A/S',
  }),
);

const UPPER = /\p{Lu}/u;
const LOWER = /\p{Ll}/u;

// Connecting words of an all-caps name: "BANK OF AMERICA" → "Bank of America".
const SMALL_WORDS: ReadonlyMap<string, string> = new Map(
  Object.entries({ the: 'The', of: 'of', and: 'and', for: 'for' }),
);

function recaseWord(word: string): string {
  const lower = word.toLowerCase();
  const form = DISPLAY_FORMS.get(lower) ?? SMALL_WORDS.get(lower);
  if (form !== undefined) return form;
  // Kept as typed: short words and words without vowels (IBM, KPMG, HSBC), 3M, AT&T, monday.com.
  if (/[\d&]/.test(word) || /\.[a-z]/i.test(word) || word.replace(/[^\p{L}]/gu, '').length <= 3) return word;
  if (/^[A-Z]+$/.test(word) && !/[AEIOUY]/.test(word)) return word;
  return lower.split('-').map(capitalize).join('-');
}

/** Display name: cleaned, recased only when typed in one case (see the module comment). */
export function companyDisplayName(raw: string | null | undefined): string | null {
  const text = cleanField(raw);
  if (text === null) return null;
  const unquoted = cleanField(text.replace(/^["'“]+|["'”]+$/g, ''));
  if (unquoted === null) return null;
  const singleCase = !(UPPER.test(unquoted) && LOWER.test(unquoted));
  if (!singleCase || !/\p{L}/u.test(unquoted)) return unquoted;
  // In an all-lower-case name nothing marks an acronym: short words are capitalised like the rest.
  const isAllLower = !UPPER.test(unquoted);
  // Case mapping can leave a letter and its combining mark apart: the result goes through cleanText again.
  return cleanText(
    unquoted
      .split(' ')
      .map((word) =>
        isAllLower && word.length <= 3 && !DISPLAY_FORMS.has(word) && !SMALL_WORDS.has(word)
          ? capitalize(word)
          : recaseWord(word),
      )
      .join(' '),
  );
}

/** Matching key (see the module comment), or null when the name has no letters or digits. */
export function companyKey(name: string | null): string | null {
  if (name === null) return null;
  const words = foldForKey(name)
    .replace(CJK_FORMS, ' ')
    .replace(WEB_SUFFIX, '')
    .replace(/['’`.]/g, '')
    .replace(/[&+]/g, ' and ')
    .replace(/[^\p{L}\p{N}\p{M}]+/gu, ' ')
    .trim()
    .split(' ')
    .filter((w) => w !== '');
  for (let form = leadingForm(words); form > 0 && words.length > form; form = leadingForm(words)) {
    words.splice(0, form);
  }
  let changed = true;
  while (changed && words.length > 1) {
    changed = false;
    for (let size = Math.min(MAX_FORM, words.length - 1); size >= 1; size--) {
      if (FORM_SET.has(words.slice(words.length - size).join(' '))) {
        words.splice(words.length - size, size);
        changed = true;
        break;
      }
    }
  }
  return words.length === 0 ? null : words.join(' ');
}

function leadingForm(words: string[]): number {
  const form = LEADING.find((f) => f.every((w, i) => words[i] === w));
  return form === undefined ? 0 : form.length;
}

export interface StandardCompany {
  name: string;
  key: string | null;
}

export function standardizeCompany(raw: string | null | undefined): StandardCompany | null {
  const name = companyDisplayName(raw);
  return name === null ? null : { name, key: companyKey(name) };
}
