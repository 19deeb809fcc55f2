import {
  type CompanyData,
  type Deliverability,
  emptyCompany,
  emptyPerson,
  type ProviderAnswer,
} from '../types.ts';
import {
  countryCode,
  headcount,
  type Json,
  KeyedAdapter,
  type Lookup,
  linkedinUrl,
  num,
  obj,
  type PersonQuery,
  type ProviderAdapter,
  str,
  strs,
  toLookup,
} from './adapter.ts';

/**
 * Apollo.io: People Enrichment (`POST /api/v1/people/match`) and Organization Enrichment
 * (`GET /api/v1/organizations/enrich?domain=`), authenticated with the `X-Api-Key` header.
 * A 200 with `person: null` means no match.
 */
export class ApolloAdapter extends KeyedAdapter implements ProviderAdapter {
  readonly name = 'apollo';
  readonly operations = ['person', 'company'] as const;

  #headers() {
    return { 'x-api-key': this.apiKey, 'cache-control': 'no-cache' };
  }

  person(q: PersonQuery): Promise<Lookup> | null {
    return q.email || q.linkedin ? this.#match(q) : null;
  }

  async #match(q: PersonQuery): Promise<Lookup> {
    const res = await this.http.request({
      endpoint: 'people_match',
      method: 'POST',
      url: `${this.baseUrl}/api/v1/people/match`,
      headers: this.#headers(),
      body: {
        json: {
          email: q.email ?? undefined,
          linkedin_url: q.linkedin ?? undefined,
          first_name: q.first_name ?? undefined,
          last_name: q.last_name ?? undefined,
          domain: q.domain ?? undefined,
          organization_name: q.company ?? undefined,
          reveal_personal_emails: false,
        },
      },
    });
    return toLookup(res, mapPersonMatch);
  }

  async company(domain: string): Promise<Lookup> {
    const res = await this.http.request({
      endpoint: 'organizations_enrich',
      method: 'GET',
      url: `${this.baseUrl}/api/v1/organizations/enrich?domain=${encodeURIComponent(domain)}`,
      headers: this.#headers(),
    });
    return toLookup(res, (body) => {
      const org = obj(obj(body)?.organization);
      return org ? { provider: 'apollo', person: null, company: mapOrganization(org), email: null } : null;
    });
  }
}

const SENIORITY: Record<string, string> = {
  c_suite: 'C-level',
  owner: 'C-level',
  founder: 'C-level',
  partner: 'C-level',
  vp: 'VP',
  head: 'Director',
  director: 'Director',
  manager: 'Manager',
  senior: 'Senior',
  entry: 'Entry',
  intern: 'Entry',
};

/** Apollo's email_status: "verified" is checked; guessed/extrapolated addresses are only likely. */
const EMAIL_STATUS: Record<string, Deliverability> = {
  verified: 'deliverable',
  guessed: 'risky',
  extrapolated: 'risky',
  unverified: 'risky',
  likely_to_engage: 'risky',
  bounced: 'undeliverable',
  invalid: 'undeliverable',
};

export function mapPersonMatch(body: unknown): ProviderAnswer | null {
  const p = obj(obj(body)?.person);
  if (!p) return null;
  const person = emptyPerson();
  person.first_name = str(p.first_name);
  person.last_name = str(p.last_name);
  person.full_name = str(p.name);
  person.title = str(p.title);
  const seniority = str(p.seniority);
  person.seniority = seniority ? (SENIORITY[seniority] ?? null) : null;
  person.linkedin = linkedinUrl(p.linkedin_url);
  person.country = countryCode(p.country);
  const org = obj(p.organization);
  const email = str(p.email);
  const status = str(p.email_status);
  const deliverability = status ? EMAIL_STATUS[status] : undefined;
  return {
    provider: 'apollo',
    person,
    company: org ? mapOrganization(org) : null,
    email: email && deliverability ? { email: email.toLowerCase(), deliverability, score: null } : null,
  };
}

const FUNDING: Record<string, string> = {
  seed: 'Seed',
  angel: 'Angel',
  series_a: 'Series A',
  series_b: 'Series B',
  series_c: 'Series C',
  series_d: 'Series D',
  series_e: 'Series E',
  ipo: 'Public',
};

export function mapOrganization(org: Json): CompanyData {
  const company = emptyCompany();
  company.name = str(org.name);
  company.domain = str(org.primary_domain)?.toLowerCase() ?? null;
  company.industry = str(org.industry);
  company.employee_count = headcount(org.estimated_num_employees);
  company.country = countryCode(org.country);
  company.technologies = strs(org.technology_names);
  const stage = str(org.latest_funding_stage);
  if (stage) company.signals.push(FUNDING[stage.toLowerCase().replace(/\s+/g, '_')] ?? stage);
  if (str(org.publicly_traded_symbol) && !company.signals.includes('Public')) company.signals.push('Public');
  // Headcount growth over six months is Apollo's hiring indicator.
  const growth = num(org.organization_headcount_six_month_growth);
  if (growth !== null && growth >= 0.1) company.signals.push('Hiring');
  return company;
}
