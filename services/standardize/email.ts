/**
 * Email standardisation. Policy: the WHOLE address is lower-cased. RFC 5321 lets the local part be
 * case-sensitive, but virtually every real provider treats it case-insensitively, and one canonical form
 * is what dedupe and the API need. Syntax is not judged here (verify does that): a value that is not an
 * address is kept as given, lower-cased, so verify can report it.
 */
import { domainToASCII, domainToUnicode } from 'node:url';
import { cleanField } from '../lib/text.ts';

export interface StandardEmail {
  /** Lower-cased, domain in ASCII (punycode) form: what DNS and SMTP use. */
  email: string;
  /** Same address with the domain in Unicode, for display. */
  display: string;
}

const MAILTO = /^mailto:/i;
// "Jane Doe <jane@x.com>", '"Doe, Jane" <jane@x.com>': the address is inside the last angle brackets.
const BRACKETED = /<([^<>]*)>[^<>]*$/;
// Several addresses in one cell ("a@x.com; b@y.com"): the first one is the lead's.
const LIST_SEPARATOR = /[;,\s]+/;
// Addresses written to dodge scrapers, "jane(at)acme.com", "jane [at] acme [dot] com": only the bracketed
// forms, which are unambiguous ("jane at acme" in plain words is left for verify to judge).
const OBFUSCATED_AT = /\s*[([{]\s*at\s*[)\]}]\s*/gi;
const OBFUSCATED_DOT = /\s*[([{]\s*dot\s*[)\]}]\s*/gi;
const URL_DELIMITER = /[/\\?#]/;
const WRAPPING = /^["'([{<]+|["')\]}>.;,:]+$/g;

export function standardizeEmail(raw: string | null | undefined): StandardEmail | null {
  let text = cleanField(raw);
  if (text === null) return null;
  const bracketed = BRACKETED.exec(text);
  if (bracketed?.[1] !== undefined) text = bracketed[1];
  if (!text.includes('@')) text = text.replace(OBFUSCATED_AT, '@').replace(OBFUSCATED_DOT, '.');
  const first = text.split(LIST_SEPARATOR).find((part) => part.includes('@')) ?? text;
  let address = first.toLowerCase();
  // Quotes, brackets, a mailto: scheme and its ?subject=... query, in any nesting: peel until stable.
  for (let previous = ''; previous !== address; ) {
    previous = address;
    address = address.replace(MAILTO, '').replace(WRAPPING, '').trim();
    const query = address.indexOf('?');
    if (query > 0 && query > address.indexOf('@') && address.includes('@')) address = address.slice(0, query);
  }
  if (cleanField(address) === null) return null;
  const at = address.lastIndexOf('@');
  if (at < 0) return { email: address, display: address };
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).replace(/\.$/, '');
  // domainTo* parse a URL host, cutting "x/y" at the slash: such a domain is kept as written, so verify
  // can report it (and a second pass gives the same).
  if (URL_DELIMITER.test(domain)) return { email: `${local}@${domain}`, display: `${local}@${domain}` };
  // domainToASCII returns '' for a domain it cannot convert: keep the text so verify can report it.
  const ascii = domainToASCII(domain) || domain;
  const unicode = domainToUnicode(ascii) || domain;
  return { email: `${local}@${ascii}`, display: `${local}@${unicode}` };
}

/** The domain part of a standardized address, or null when it has none. */
export function emailDomain(email: string): string | null {
  const at = email.lastIndexOf('@');
  return at < 0 || at === email.length - 1 ? null : email.slice(at + 1);
}
