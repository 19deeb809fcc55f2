/**
 * Free (consumer) mailbox providers: an address there says nothing about the person's company. Used by
 * standardize (no company domain from such an address) and verify (the free-provider flag).
 *
 * Source: the `email-providers` package (about 8,700 domains from goware/emailproviders, no install
 * script), plus the providers below that it misses, plus every country variant of the big brands whose
 * domains follow `<brand>.<public suffix>` (yahoo.co.jp, gmx.ch, hotmail.com.br, ...).
 */
import { createRequire } from 'node:module';
import { getDomain, getPublicSuffix } from 'tldts';

const require = createRequire(import.meta.url);
const PACKAGED: string[] = require('email-providers/all.json');

// Well-known consumer providers and ISPs that the package misses.
const ADDED = [
  '163.net',
  'fastmail.com',
  'fastmail.fm',
  'gmx.ch',
  'nifty.com',
  'rediff.com',
  'sohu.com',
  'tuta.io',
  'tutamail.com',
  'tutanota.com',
  'tutanota.de',
  'yandex.ua',
  'zohomail.com',
  'ziggo.nl',
];

// Brands that give out mailboxes under many country suffixes.
const BRAND_LABELS = new Set(['yahoo', 'ymail', 'hotmail', 'outlook', 'live', 'gmx', 'yandex', 'aol']);

const DOMAINS: ReadonlySet<string> = new Set([...PACKAGED, ...ADDED].map((d) => d.toLowerCase()));

/**
 * Whether a mail domain (ASCII form, any case, sub-domains allowed) belongs to a free provider. Checks
 * the host itself (mail.ru, sub-domains of the list such as `me.com` hosts), its registrable domain, and
 * the brand rule above.
 */
export function isFreeEmailDomain(domain: string): boolean {
  const host = domain.toLowerCase().replace(/\.$/, '');
  if (DOMAINS.has(host)) return true;
  const registrable = getDomain(host);
  if (registrable === null) return false;
  if (DOMAINS.has(registrable)) return true;
  const suffix = getPublicSuffix(host);
  if (suffix === null) return false;
  const label = registrable.slice(0, registrable.length - suffix.length - 1);
  return BRAND_LABELS.has(label);
}
