import emailProviders from 'email-providers/all.json' with { type: 'json' };
import type { EnrichedLead } from '../../schemas/generated.ts';

/**
 * The compact view of a lead that blocking and comparison work on. It is also what the history index
 * stores per lead, so it holds only short folded strings ('' = missing) and no derived data.
 */
export interface MatchRecord {
  /** lead_id */
  id: string;
  /** For a historical lead: the survivor it was resolved to (its own id when it survived). */
  survivorId: string;
  /** Folded first-name field, words kept apart ("john andrew"); compare.ts picks the given name. */
  first: string;
  /** Folded surname as one token. */
  last: string;
  email: string;
  /** Company domain: the lead's registrable domain, else its email domain unless that is free mail. */
  domain: string;
  company: string;
  phone: string;
  title: string;
  linkedin: string;
  country: string;
}

const FREE_MAIL = new Set<string>(emailProviders as string[]);

export function isFreeMailDomain(domain: string): boolean {
  return FREE_MAIL.has(domain);
}

/** Lower case, accents stripped, every run of non-alphanumerics turned into one space. */
export function fold(value: string | null | undefined): string {
  if (!value) return '';
  return value
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/ß/g, 'ss')
    .replace(/[æÆ]/g, 'ae')
    .replace(/[øØ]/g, 'o')
    .replace(/[łŁ]/g, 'l')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** Surnames compare as one token: "Van der Berg" = "Vanderberg", "O'Brien" = "OBrien". */
function foldName(value: string | null | undefined): string {
  return fold(value).replace(/ /g, '');
}

function splitFullName(full: string): { first: string; last: string } {
  const tokens = fold(full).split(' ').filter(Boolean);
  if (tokens.length < 2) return { first: '', last: tokens[0] ?? '' };
  return { first: tokens[0] ?? '', last: tokens[tokens.length - 1] ?? '' };
}

function emailDomain(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 0 ? '' : email.slice(at + 1);
}

function companyDomain(lead: EnrichedLead['lead']): string {
  const own = (lead.domain ?? '').toLowerCase();
  if (own && !isFreeMailDomain(own)) return own;
  const fromEmail = emailDomain((lead.email ?? '').toLowerCase());
  return fromEmail && !isFreeMailDomain(fromEmail) ? fromEmail : '';
}

/** The company's matching key, folded again so that a key built with other rules still lines up. */
function companyKey(lead: EnrichedLead['lead']): string {
  return fold(lead.company_key ?? lead.company_name).replace(/ /g, '');
}

/** LinkedIn profile handle: the path after /in/, which survives scheme, host and trailing-slash noise. */
function linkedinHandle(url: string | null): string {
  if (!url) return '';
  const m = /linkedin\.com\/in\/([^/?#]+)/i.exec(url);
  return (m?.[1] ?? url).toLowerCase();
}

export function toMatchRecord(lead: EnrichedLead, survivorId = lead.meta.lead_id): MatchRecord {
  const f = lead.lead;
  let first = fold(f.first_name);
  let last = foldName(f.last_name);
  if (!first && !last && f.full_name) {
    const split = splitFullName(f.full_name);
    first = fold(split.first);
    last = foldName(split.last);
  }
  return {
    id: lead.meta.lead_id,
    survivorId,
    first,
    last,
    email: (f.email ?? '').toLowerCase(),
    domain: companyDomain(f),
    company: companyKey(f),
    phone: f.phone_e164 ?? '',
    title: fold(f.title_normalized ?? f.title_raw),
    linkedin: linkedinHandle(f.linkedin_url ?? lead.enrichment.person_linkedin),
    country: (f.country ?? lead.enrichment.country ?? '').toUpperCase(),
  };
}
