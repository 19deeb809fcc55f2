/**
 * The sandbox's deterministic "database": every answer is derived from a hash of the input, so the same
 * email or domain always gets the same record, across runs and processes. For a stable fraction of
 * inputs a provider does not know the record, omits a field, or reports a value that disagrees with the
 * others — what real providers do, and what makes consensus scores mean something.
 */
import { createHash } from 'node:crypto';
import type { ProviderName } from '../types.ts';

/** A number in [0, 1) fixed by the input and a salt. */
export function unit(input: string, salt: string): number {
  return createHash('sha1').update(`${salt}\u0000${input}`).digest().readUInt32BE(0) / 2 ** 32;
}

const pick = <T>(items: readonly T[], input: string, salt: string): T =>
  items[Math.floor(unit(input, salt) * items.length)] as T;

const INDUSTRIES = [
  'Computer Software',
  'Information Technology & Services',
  'Financial Services',
  'Marketing & Advertising',
  'Hospital & Health Care',
  'Retail',
  'Logistics & Supply Chain',
  'Education Management',
  'Telecommunications',
  'Real Estate',
  'Manufacturing',
  'Insurance',
] as const;
const HEADCOUNTS = [7, 35, 140, 350, 800, 2_400, 7_500, 24_000] as const;
const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'CA', 'NL', 'AU', 'ES', 'SE', 'IN'] as const;
const TECHNOLOGIES = [
  'salesforce',
  'hubspot',
  'google_apps',
  'office_365',
  'slack',
  'zendesk',
  'amazon_web_services',
  'stripe',
  'segment',
  'intercom',
  'marketo',
  'jira',
] as const;
const FUNDING = ['seed', 'series_a', 'series_b', 'series_c', 'series_d'] as const;
const LEGAL = ['Inc', 'LLC', 'Ltd', 'GmbH', ''] as const;
const TITLES = [
  { title: 'Chief Executive Officer', seniority: 'c_suite' },
  { title: 'Chief Technology Officer', seniority: 'c_suite' },
  { title: 'VP of Sales', seniority: 'vp' },
  { title: 'VP of Marketing', seniority: 'vp' },
  { title: 'Director of Engineering', seniority: 'director' },
  { title: 'Head of Operations', seniority: 'head' },
  { title: 'Sales Manager', seniority: 'manager' },
  { title: 'Marketing Manager', seniority: 'manager' },
  { title: 'Senior Software Engineer', seniority: 'senior' },
  { title: 'Account Executive', seniority: 'senior' },
  { title: 'Sales Development Representative', seniority: 'entry' },
] as const;

export interface TrueCompany {
  domain: string;
  /** The name without legal form; providers add their own suffix. */
  name: string;
  legal: string;
  industry: string;
  employees: number;
  country: string;
  tech: string[];
  funding: string | null;
  raised: number;
  growth: number;
  public: boolean;
}

export interface TruePerson {
  email: string;
  first: string;
  last: string;
  title: string;
  seniority: string;
  linkedin: string;
  phone: string;
}

export type Verdict = 'valid' | 'accept_all' | 'invalid';

const titleCase = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function trueCompany(domain: string): TrueCompany {
  const d = domain.toLowerCase();
  const label = d.split('.')[0] ?? d;
  const tech = TECHNOLOGIES.filter((t) => unit(d, `tech:${t}`) < 0.3);
  const fundingIndex = Math.floor(unit(d, 'funding') * (FUNDING.length + 3));
  return {
    domain: d,
    name: label.split(/[-_]/).map(titleCase).join(' '),
    legal: pick(LEGAL, d, 'legal'),
    industry: pick(INDUSTRIES, d, 'industry'),
    employees: pick(HEADCOUNTS, d, 'employees'),
    country: pick(COUNTRIES, d, 'country'),
    tech,
    funding: FUNDING[fundingIndex] ?? null,
    raised: fundingIndex < FUNDING.length ? (fundingIndex + 1) * 7_500_000 : 0,
    growth: Math.round(unit(d, 'growth') * 40) / 100 - 0.1,
    public: unit(d, 'public') < 0.05,
  };
}

export function truePerson(email: string): TruePerson {
  const e = email.toLowerCase();
  const local = e.split('@')[0] ?? e;
  const [first = local, last = ''] = local.split(/[._-]+/);
  const role = pick(TITLES, e, 'title');
  const slug = [first, last].filter(Boolean).join('-');
  return {
    email: e,
    first: titleCase(first),
    last: last ? titleCase(last) : pick(['Miller', 'Garcia', 'Chen', 'Novak', 'Okafor'], e, 'last'),
    title: role.title,
    seniority: role.seniority,
    linkedin: `in/${slug}-${Math.floor(unit(e, 'li') * 0xffff).toString(16)}`,
    phone: `+1415555${String(Math.floor(unit(e, 'phone') * 10_000)).padStart(4, '0')}`,
  };
}

/** Mailbox verdict: local parts starting with invalid/bounce never exist, so tests can ask for them. */
export function trueVerdict(email: string): Verdict {
  const local = email.toLowerCase().split('@')[0] ?? '';
  if (/^(invalid|bounce)/.test(local)) return 'invalid';
  const u = unit(email.toLowerCase(), 'verdict');
  return u < 0.8 ? 'valid' : u < 0.92 ? 'accept_all' : 'invalid';
}

/** Share of records each provider knows, and how often it omits or contradicts a field. */
const KNOWS = { apollo: 0.85, clearbit: 0.78, hunter: 0.82, snov: 0.6 } as const;
const OMITS = 0.12;
const CONTRADICTS = 0.1;

export const knows = (provider: ProviderName, key: string) =>
  unit(key, `knows:${provider}`) < KNOWS[provider];
export const omits = (provider: ProviderName, key: string, field: string) =>
  unit(key, `omit:${provider}:${field}`) < OMITS;
export const contradicts = (provider: ProviderName, key: string, field: string) =>
  unit(key, `contra:${provider}:${field}`) < CONTRADICTS;

/** The value a provider reports for a field: the truth, nothing, or a stable wrong value. */
export function reported<T>(
  provider: ProviderName,
  key: string,
  field: string,
  truth: T,
  alternatives: readonly T[],
): T | null {
  if (omits(provider, key, field)) return null;
  if (!contradicts(provider, key, field)) return truth;
  const others = alternatives.filter((a) => a !== truth);
  return others.length ? pick(others, key, `alt:${provider}:${field}`) : truth;
}

export const ALTERNATIVES = {
  industry: INDUSTRIES,
  employees: HEADCOUNTS,
  country: COUNTRIES,
  title: TITLES.map((t) => t.title),
} as const;
