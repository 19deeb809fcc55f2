/**
 * The company's registrable domain (Public Suffix List, ICANN and private sections: acme.github.io and
 * shop.myshopify.com are businesses of their own): from the website when it has a
 * usable one, else from a corporate email address. Stored in ASCII (punycode) form, the form DNS,
 * enrichment providers and email domains use, so the two sources compare equal.
 */
import { domainToASCII } from 'node:url';
import { parse } from 'tldts';
import { isFreeEmailDomain } from '../lib/free-email-providers.ts';
import { cleanField } from '../lib/text.ts';

const PSL_OPTIONS = { allowPrivateDomains: true };

// A profile URL in the website column names the social network, not the company.
const PROFILE_HOSTS = new Set([
  'linkedin.com',
  'facebook.com',
  'fb.com',
  'twitter.com',
  'x.com',
  'instagram.com',
  'youtube.com',
  'tiktok.com',
  'github.com',
  'crunchbase.com',
  'angel.co',
  'wellfound.com',
  'google.com',
  'bit.ly',
  'linktr.ee',
]);

/** Registrable domain of a website in any form ("https://www.Example.co.uk/about", "WWW.EXAMPLE.COM"). */
export function domainFromWebsite(website: string | null | undefined): string | null {
  const text = cleanField(website);
  if (text === null) return null;
  const parsed = parse(text, PSL_OPTIONS);
  if (parsed.isIp || parsed.hostname === null) return null;
  const ascii = domainToASCII(parsed.hostname);
  if (ascii === '') return null;
  const registrable = ascii === parsed.hostname ? parsed.domain : parse(ascii, PSL_OPTIONS).domain;
  if (registrable === null || PROFILE_HOSTS.has(registrable)) return null;
  return registrable;
}

/** Registrable domain of a standardized (ASCII-domain) email address, unless it is a free provider. */
export function domainFromEmail(email: string | null): string | null {
  if (email === null) return null;
  const at = email.lastIndexOf('@');
  if (at < 0) return null;
  const host = email.slice(at + 1);
  const registrable = parse(host, PSL_OPTIONS).domain;
  if (registrable === null || !registrable.includes('.') || isFreeEmailDomain(host)) return null;
  return registrable;
}

/** The lead's company domain: website first (the company's own statement), then the email. */
export function companyDomain(website: string | null, email: string | null): string | null {
  return domainFromWebsite(website) ?? domainFromEmail(email);
}
