import { distance } from 'fastest-levenshtein';
import { parse } from 'tldts';

/**
 * "Did you mean" for the domain of an address. A suggestion is a hint, never a verdict: typo domains
 * such as gmial.com are registered (often by squatters, with MX records), so the DNS step still decides
 * the status and the suggestion travels as `email_suggestion` for scoring and display.
 */

/** Mailbox providers people type every day, most used first (ties go to the earlier one). */
const PROVIDER_DOMAINS = [
  'gmail.com',
  'yahoo.com',
  'hotmail.com',
  'outlook.com',
  'icloud.com',
  'aol.com',
  'live.com',
  'msn.com',
  'googlemail.com',
  'ymail.com',
  'rocketmail.com',
  'me.com',
  'mac.com',
  'protonmail.com',
  'proton.me',
  'yahoo.co.uk',
  'yahoo.fr',
  'yahoo.de',
  'yahoo.es',
  'yahoo.it',
  'yahoo.co.in',
  'yahoo.com.br',
  'yahoo.co.jp',
  'yahoo.ca',
  'yahoo.com.au',
  'yahoo.com.mx',
  'hotmail.co.uk',
  'hotmail.fr',
  'hotmail.de',
  'hotmail.es',
  'hotmail.it',
  'hotmail.nl',
  'hotmail.be',
  'hotmail.ca',
  'hotmail.com.br',
  'hotmail.com.mx',
  'outlook.fr',
  'outlook.de',
  'outlook.es',
  'outlook.it',
  'live.co.uk',
  'live.fr',
  'live.nl',
  'live.ca',
  'gmx.com',
  'gmx.de',
  'gmx.net',
  'web.de',
  'mail.com',
  'email.com',
  'zoho.com',
  'yandex.ru',
  'yandex.com',
  'mail.ru',
  'comcast.net',
  'verizon.net',
  'att.net',
  'sbcglobal.net',
  'bellsouth.net',
  'cox.net',
  'charter.net',
  'btinternet.com',
  'virginmedia.com',
  'sky.com',
  'orange.fr',
  'wanadoo.fr',
  'free.fr',
  'laposte.net',
  'sfr.fr',
  't-online.de',
  'freenet.de',
  'libero.it',
  'virgilio.it',
  'tiscali.it',
  'telefonica.net',
  'ziggo.nl',
  'kpnmail.nl',
  'telenet.be',
  'skynet.be',
  'bluewin.ch',
  'shaw.ca',
  'rogers.com',
  'sympatico.ca',
  'bigpond.com',
  'optusnet.com.au',
  'uol.com.br',
  'bol.com.br',
  'terra.com.br',
  'rediffmail.com',
  'qq.com',
  '163.com',
  '126.com',
  'naver.com',
  'seznam.cz',
  'wp.pl',
  'o2.pl',
];

/** Providers that use .com only, so gmail.co or icloud.cm is a slip of the finger, not a country. */
const COM_ONLY = new Set(['gmail', 'icloud', 'protonmail', 'ymail', 'googlemail', 'rocketmail']);

/** Suffixes that are not (and are unlikely to become) TLDs, each next to the one meant. */
const TLD_TYPOS: Record<string, string> = {
  con: 'com',
  cmo: 'com',
  ocm: 'com',
  comm: 'com',
  coom: 'com',
  cpm: 'com',
  xom: 'com',
  vom: 'com',
  c0m: 'com',
  cim: 'com',
  clm: 'com',
  copm: 'com',
  'co.m': 'com',
  nte: 'net',
  ner: 'net',
  nett: 'net',
  ogr: 'org',
  rog: 'org',
  orgg: 'org',
  prg: 'org',
  'co.ukk': 'co.uk',
  'co.k': 'co.uk',
  dee: 'de',
};

type Provider = { domain: string; label: string; suffix: string };
const PROVIDERS: Provider[] = PROVIDER_DOMAINS.map((domain) => {
  const p = parse(domain);
  return { domain, label: p.domainWithoutSuffix ?? domain, suffix: p.publicSuffix ?? '' };
});
const PROVIDER_SET = new Set(PROVIDER_DOMAINS);

/**
 * How far a typed label may be from a provider's. Short labels are also ordinary words and company
 * names (love.com, aon.com), so live/zoho allow only a neighbour swap and aol/gmx nothing.
 */
function allowedEdits(label: string): number {
  if (label.length >= 7) return 2;
  if (label.length >= 5) return 1;
  return label.length === 4 ? SWAP_ONLY : 0;
}
const SWAP_ONLY = 0.5;

/** One swap of neighbouring characters (gmial/gmail): Levenshtein counts it as two edits. */
function isTransposition(a: string, b: string): boolean {
  if (a.length !== b.length || a === b) return false;
  let i = 0;
  while (a[i] === b[i]) i++;
  return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}

/** Edits between two strings, with a neighbour swap counted as one; Infinity when over the limit. */
function closeness(typed: string, meant: string, limit: number): number {
  if (typed === meant) return 0;
  if (limit === 0) return Number.POSITIVE_INFINITY;
  if (isTransposition(typed, meant)) return 1;
  // A first letter is rarely mistyped, while wahoo.com or bmail.net are somebody's real domains.
  if (limit === SWAP_ONLY || typed[0] !== meant[0]) return Number.POSITIVE_INFINITY;
  const d = distance(typed, meant);
  return d <= limit ? d : Number.POSITIVE_INFINITY;
}

/** ASCII domain → the domain probably meant, or null when it looks intended. */
export function suggestDomain(domain: string): string | null {
  if (PROVIDER_SET.has(domain)) return null;
  const parsed = parse(domain);
  if (parsed.subdomain || !parsed.domainWithoutSuffix || !parsed.publicSuffix) return null;
  const label = parsed.domainWithoutSuffix;
  const suffix = parsed.publicSuffix;
  const realSuffix = parsed.isIcann === true;

  let best: string | null = null;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const p of PROVIDERS) {
    const labelEdits = closeness(label, p.label, allowedEdits(p.label));
    if (labelEdits === Number.POSITIVE_INFINITY) continue;
    const suffixEdits = suffixDistance(suffix, realSuffix, p, labelEdits);
    const score = labelEdits + suffixEdits;
    if (score > 0 && score < bestScore) {
      best = p.domain;
      bestScore = score;
    }
  }
  if (best) return best;

  const fixedTld = realSuffix ? undefined : TLD_TYPOS[suffix];
  return fixedTld ? `${label}.${fixedTld}` : null;
}

/**
 * A real suffix counts only when it is the provider's own (hotmail.nl is Hotmail Netherlands, not a
 * typo of hotmail.fr) — except for .com-only providers typed with a near-.com TLD; an unreal suffix
 * (con, cmo) counts as a typo when it is one edit from the provider's.
 */
function suffixDistance(suffix: string, realSuffix: boolean, p: Provider, labelEdits: number): number {
  if (suffix === p.suffix) return 0;
  const edits = closeness(suffix, p.suffix, 1);
  if (!realSuffix) return edits;
  return labelEdits === 0 && COM_ONLY.has(p.label) && p.suffix === 'com' ? edits : Number.POSITIVE_INFINITY;
}
