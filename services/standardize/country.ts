/**
 * Country: any name (in the languages leads arrive in), alpha-2, alpha-3, numeric code or common alias →
 * ISO 3166-1 alpha-2. Built once into one lookup map keyed by a folded form (lower-case, no accents, no
 * punctuation), so a lookup is one hash probe.
 */
import { createRequire } from 'node:module';
import countries from 'i18n-iso-countries';
import { cleanField, foldForKey } from '../lib/text.ts';

const require = createRequire(import.meta.url);
// English first: when two languages use one spelling for different countries, English wins.
const LANGUAGES = [
  ...['en', 'de', 'fr', 'es', 'it', 'nl', 'pt', 'pl', 'sv', 'da', 'nb', 'fi', 'cs', 'tr', 'ru'],
  ...['zh', 'ja', 'ko', 'ar'],
];

// Usage that the library's name lists do not carry.
const ALIASES: ReadonlyMap<string, string> = new Map(
  Object.entries({
    uk: 'GB',
    'u k': 'GB',
    britain: 'GB',
    'great britain': 'GB',
    england: 'GB',
    scotland: 'GB',
    wales: 'GB',
    'northern ireland': 'GB',
    'united kingdom of great britain and northern ireland': 'GB',
    america: 'US',
    'u s': 'US',
    'u s a': 'US',
    'united states': 'US',
    'the united states': 'US',
    'the us': 'US',
    'the usa': 'US',
    'etats unis': 'US',
    'vereinigte staaten': 'US',
    'estados unidos': 'US',
    holland: 'NL',
    'the netherlands': 'NL',
    korea: 'KR',
    'south korea': 'KR',
    'republic of korea': 'KR',
    'north korea': 'KP',
    turkiye: 'TR',
    'czech republic': 'CZ',
    'ivory coast': 'CI',
    uae: 'AE',
    'u a e': 'AE',
    emirates: 'AE',
    ksa: 'SA',
    russia: 'RU',
    'mainland china': 'CN',
    prc: 'CN',
    'hong kong sar': 'HK',
    'macau sar': 'MO',
    vatican: 'VA',
    swaziland: 'SZ',
    burma: 'MM',
    'cape verde': 'CV',
    'east timor': 'TL',
    'the philippines': 'PH',
    'the gambia': 'GM',
    'the bahamas': 'BS',
    'republic of ireland': 'IE',
    eire: 'IE',
    kosovo: 'XK',
    'viet nam': 'VN',
    macedonia: 'MK',
    ger: 'DE',
    bharat: 'IN',
    'republique francaise': 'FR',
    'bundesrepublik deutschland': 'DE',
    drc: 'CD',
    'dr congo': 'CD',
  }),
);

const SEPARATORS = /[.,'’()\-_/]+/g;
const SPACES = /\s+/g;

function lookupKey(value: string): string {
  return foldForKey(value).replace(SEPARATORS, ' ').replace(SPACES, ' ').trim();
}

function buildLookup(): Map<string, string> {
  const lookup = new Map<string, string>();
  const add = (name: string, alpha2: string) => {
    const key = lookupKey(name);
    if (key !== '' && !lookup.has(key)) lookup.set(key, alpha2);
  };
  for (const [alias, alpha2] of ALIASES.entries()) add(alias, alpha2);
  for (const language of LANGUAGES) {
    countries.registerLocale(require(`i18n-iso-countries/langs/${language}.json`));
    for (const [alpha2, names] of Object.entries(countries.getNames(language, { select: 'all' }))) {
      for (const name of names) add(name, alpha2);
    }
  }
  return lookup;
}

const LOOKUP = buildLookup();
const ALIAS_KEYS = new Map([...ALIASES.entries()].map(([alias, alpha2]) => [lookupKey(alias), alpha2]));

/** ISO 3166-1 alpha-2 for a country name or code, or null when it is not recognisably a country. */
export function standardizeCountry(raw: string | null | undefined): string | null {
  const text = cleanField(raw);
  if (text === null) return null;
  const key = lookupKey(text);
  return ALIAS_KEYS.get(key) ?? fromCode(key) ?? LOOKUP.get(key) ?? null;
}

// Codes before names: "IN" is India whatever a name list might spell that way; aliases ("UK", "UAE") first.
function fromCode(key: string): string | undefined {
  if (/^\d{1,3}$/.test(key)) return countries.numericToAlpha2(key.padStart(3, '0'));
  if (!/^[a-z]{2,3}$/.test(key)) return undefined;
  const upper = key.toUpperCase();
  if (upper.length === 2) return countries.isValid(upper) ? upper : undefined;
  return countries.alpha3ToAlpha2(upper);
}

// Country-code TLDs sold worldwide as generic names: they say nothing about where a company is.
const GENERIC_CCTLDS = new Set([
  'ai',
  'ac',
  'ag',
  'am',
  'as',
  'cc',
  'cd',
  'co',
  'fm',
  'gg',
  'io',
  'la',
  'ly',
]);
for (const tld of ['me', 'ms', 'nu', 'sh', 'so', 'st', 'tk', 'to', 'tv', 'vc', 'ws', 'xyz'])
  GENERIC_CCTLDS.add(tld);

/**
 * The country a domain's top-level label points to ("acme.co.uk" → GB, "acme.de" → DE), or null for
 * generic and vanity TLDs. A hint only: used as the phone default region when the lead has no country.
 */
export function countryFromDomain(domain: string | null): string | null {
  if (domain === null) return null;
  const tld = domain.slice(domain.lastIndexOf('.') + 1).toLowerCase();
  if (tld.length !== 2 || GENERIC_CCTLDS.has(tld)) return null;
  if (tld === 'uk') return 'GB';
  const upper = tld.toUpperCase();
  return countries.isValid(upper) ? upper : null;
}
