/**
 * Provider-shaped JSON built from the sandbox's deterministic records: the same fields, nesting and
 * spelling as the real APIs return, with each provider's own gaps and contradictions.
 */
import {
  ALTERNATIVES,
  knows,
  reported,
  type TrueCompany,
  type TruePerson,
  trueCompany,
  truePerson,
  trueVerdict,
  unit,
} from './data.ts';

const domainOfEmail = (email: string) => email.toLowerCase().split('@')[1] ?? '';
const titled = (c: TrueCompany, suffix: string) => (suffix ? `${c.name} ${suffix}` : c.name);

const COUNTRY_NAMES: Record<string, string> = {
  US: 'United States',
  GB: 'United Kingdom',
  DE: 'Germany',
  FR: 'France',
  CA: 'Canada',
  NL: 'Netherlands',
  AU: 'Australia',
  ES: 'Spain',
  SE: 'Sweden',
  IN: 'India',
};

const TECH_NAMES: Record<string, string> = {
  salesforce: 'Salesforce',
  hubspot: 'HubSpot',
  google_apps: 'Google Apps',
  office_365: 'Office 365',
  slack: 'Slack',
  zendesk: 'Zendesk',
  amazon_web_services: 'Amazon Web Services',
  stripe: 'Stripe',
  segment: 'Segment',
  intercom: 'Intercom',
  marketo: 'Marketo',
  jira: 'Jira',
};

function range(n: number): string {
  const bounds = [1, 11, 51, 201, 501, 1001, 5001, 10001];
  for (let i = bounds.length - 1; i >= 0; i--) {
    const lo = bounds[i] ?? 1;
    if (n >= lo) return i === bounds.length - 1 ? '10K+' : `${lo}-${(bounds[i + 1] ?? 1) - 1}`;
  }
  return '1-10';
}

// ---- Apollo ----------------------------------------------------------------------------------------

export function apolloOrganization(domain: string): Record<string, unknown> | null {
  if (!knows('apollo', domain)) return null;
  const c = trueCompany(domain);
  return {
    id: `org_${Math.floor(unit(domain, 'id') * 1e12).toString(16)}`,
    name: titled(c, c.legal),
    website_url: `http://www.${c.domain}`,
    primary_domain: c.domain,
    industry: reported('apollo', domain, 'industry', c.industry, ALTERNATIVES.industry),
    estimated_num_employees: reported('apollo', domain, 'employees', c.employees, ALTERNATIVES.employees),
    country:
      COUNTRY_NAMES[reported('apollo', domain, 'country', c.country, ALTERNATIVES.country) ?? ''] ?? null,
    technology_names: c.tech.map((t) => TECH_NAMES[t] ?? t),
    latest_funding_stage: c.funding
      ? c.funding.replace('_', ' ').replace(/\b\w/g, (x) => x.toUpperCase())
      : null,
    publicly_traded_symbol: c.public ? c.name.slice(0, 4).toUpperCase() : null,
    organization_headcount_six_month_growth: c.growth,
  };
}

export function apolloPerson(email: string): Record<string, unknown> | null {
  if (!knows('apollo', email.toLowerCase())) return null;
  const p = truePerson(email);
  const verdict = trueVerdict(email);
  return {
    id: `per_${Math.floor(unit(p.email, 'id') * 1e12).toString(16)}`,
    first_name: p.first,
    last_name: p.last,
    name: `${p.first} ${p.last}`,
    title: reported('apollo', p.email, 'title', p.title, ALTERNATIVES.title),
    seniority: p.seniority,
    linkedin_url: `http://www.linkedin.com/${p.linkedin}`,
    email: p.email,
    email_status: verdict === 'valid' ? 'verified' : verdict === 'accept_all' ? 'guessed' : 'unavailable',
    country: COUNTRY_NAMES[trueCompany(domainOfEmail(email)).country] ?? null,
    organization: apolloOrganization(domainOfEmail(email)),
  };
}

// ---- Clearbit --------------------------------------------------------------------------------------

const CLEARBIT_SENIORITY: Record<string, string> = {
  c_suite: 'executive',
  vp: 'executive',
  director: 'director',
  head: 'director',
  manager: 'manager',
  senior: 'senior',
  entry: 'junior',
};

export function clearbitCompany(domain: string): Record<string, unknown> | null {
  if (!knows('clearbit', domain)) return null;
  const c = trueCompany(domain);
  const employees = reported('clearbit', domain, 'employees', c.employees, ALTERNATIVES.employees);
  return {
    id: `cb_${Math.floor(unit(domain, 'cbid') * 1e12).toString(16)}`,
    name: c.name,
    legalName: titled(c, c.legal),
    domain: c.domain,
    category: { industry: reported('clearbit', domain, 'industry', c.industry, ALTERNATIVES.industry) },
    metrics: {
      employees,
      employeesRange: employees === null ? null : range(employees),
      raised: c.raised || null,
    },
    geo: { countryCode: reported('clearbit', domain, 'country', c.country, ALTERNATIVES.country) },
    tech: c.tech,
    type: c.public ? 'public' : 'private',
  };
}

export function clearbitPerson(email: string): Record<string, unknown> | null {
  const key = email.toLowerCase();
  if (!knows('clearbit', key)) return null;
  const p = truePerson(email);
  const linkedin = reported('clearbit', key, 'linkedin', p.linkedin, []);
  return {
    id: `cbp_${Math.floor(unit(key, 'cbid') * 1e12).toString(16)}`,
    name: { fullName: `${p.first} ${p.last}`, givenName: p.first, familyName: p.last },
    email: p.email,
    employment: {
      domain: domainOfEmail(email),
      name: trueCompany(domainOfEmail(email)).name,
      title: reported('clearbit', key, 'title', p.title, ALTERNATIVES.title),
      seniority: CLEARBIT_SENIORITY[p.seniority] ?? null,
    },
    linkedin: { handle: linkedin },
    geo: { countryCode: trueCompany(domainOfEmail(email)).country },
  };
}

/** A stable few emails are "not indexed yet": the non-streaming API answers 202 for them. */
export const clearbitQueued = (email: string) => unit(email.toLowerCase(), 'queued') < 0.03;

// ---- Hunter ----------------------------------------------------------------------------------------

export function hunterVerifier(email: string): Record<string, unknown> {
  const verdict = trueVerdict(email);
  const status = verdict === 'valid' ? 'valid' : verdict === 'accept_all' ? 'accept_all' : 'invalid';
  const score = verdict === 'valid' ? 91 : verdict === 'accept_all' ? 68 : 12;
  return {
    data: {
      status,
      result: verdict === 'valid' ? 'deliverable' : verdict === 'accept_all' ? 'risky' : 'undeliverable',
      score,
      email: email.toLowerCase(),
      regexp: true,
      gibberish: false,
      disposable: false,
      webmail: false,
      mx_records: true,
      smtp_server: true,
      smtp_check: verdict !== 'invalid',
      accept_all: verdict === 'accept_all',
      block: false,
      sources: [],
    },
    meta: { params: { email } },
  };
}

export function hunterDomainSearch(domain: string): Record<string, unknown> {
  const c = trueCompany(domain);
  const known = knows('hunter', domain);
  const emails = known
    ? [0, 1, 2].map((i) => {
        const first = ['anna', 'ben', 'carla'][i] ?? 'x';
        const last = ['lee', 'moss', 'diaz'][i] ?? 'y';
        const p = truePerson(`${first}.${last}@${c.domain}`);
        return {
          value: p.email,
          type: 'personal',
          confidence: 90 - i * 5,
          first_name: p.first,
          last_name: p.last,
          position: p.title,
          seniority: null,
          department: null,
          linkedin: `https://www.linkedin.com/${p.linkedin}`,
          twitter: null,
          phone_number: null,
          verification: { date: null, status: null },
          sources: [],
        };
      })
    : [];
  const employees = reported('hunter', domain, 'employees', c.employees, ALTERNATIVES.employees);
  return {
    data: {
      domain: c.domain,
      disposable: false,
      webmail: false,
      accept_all: false,
      pattern: '{first}.{last}',
      organization: known ? c.name : null,
      industry: known ? reported('hunter', domain, 'industry', c.industry, ALTERNATIVES.industry) : null,
      headcount: known && employees !== null ? range(employees) : null,
      country: known ? c.country : null,
      technologies: known ? c.tech.map((t) => TECH_NAMES[t] ?? t) : [],
      emails,
      linked_domains: [],
    },
    meta: { results: emails.length, limit: 10, offset: 0, params: { domain } },
  };
}

// ---- Snov ------------------------------------------------------------------------------------------

export function snovVerification(email: string): Record<string, unknown> {
  const verdict = trueVerdict(email);
  const key = email.toLowerCase();
  return {
    data: {
      email: key,
      domain: domainOfEmail(email),
      isValidFormat: true,
      isDisposable: false,
      isWebmail: false,
      isGibberish: false,
    },
    result: {
      isDomainExists: true,
      hasMXRecords: true,
      isCatchall: verdict === 'accept_all',
      smtpStatus: verdict === 'invalid' ? 'not_valid' : verdict === 'valid' ? 'valid' : 'unknown',
    },
    status: { identifier: 'complete', description: 'Email verification is complete' },
  };
}

export function snovProfile(email: string): Record<string, unknown> {
  const key = email.toLowerCase();
  if (!knows('snov', key)) return { success: false, message: 'Profile not found' };
  const p = truePerson(email);
  const c = trueCompany(domainOfEmail(email));
  const linkedin = reported('snov', key, 'linkedin', p.linkedin, []);
  const employees = reported('snov', key, 'employees', c.employees, ALTERNATIVES.employees);
  return {
    success: true,
    id: `snv_${Math.floor(unit(key, 'snid') * 1e12).toString(16)}`,
    source: 'linkedIn',
    name: `${p.first} ${p.last}`,
    firstName: p.first,
    lastName: p.last,
    industry: c.industry,
    country: COUNTRY_NAMES[c.country] ?? null,
    locality: null,
    social: linkedin ? [{ link: `https://www.linkedin.com/${linkedin}`, type: 'linkedIn' }] : [],
    currentJobs: [
      {
        companyName: titled(c, c.legal),
        position: reported('snov', key, 'title', p.title, ALTERNATIVES.title),
        socialLink: null,
        site: `http://${c.domain}`,
        locality: null,
        country: COUNTRY_NAMES[c.country] ?? null,
        size: employees === null ? null : range(employees),
        industry: reported('snov', key, 'industry', c.industry, ALTERNATIVES.industry),
        companyType: 'Privately Held',
      },
    ],
    previousJobs: [],
  };
}

export type { TrueCompany, TruePerson };
