import type { ProviderHttp } from '../http.ts';
import {
  type CompanyData,
  emptyCompany,
  emptyPerson,
  type PersonData,
  type ProviderAnswer,
} from '../types.ts';
import {
  countryCode,
  type Json,
  type Lookup,
  linkedinUrl,
  num,
  obj,
  type PersonQuery,
  type ProviderAdapter,
  str,
  strs,
  techName,
  toLookup,
} from './adapter.ts';

/**
 * Clearbit: Combined API (`GET /v2/combined/find?email=` on the person host, person + company) and
 * Company API (`GET /v2/companies/find?domain=` on the company host), secret key as a Bearer token.
 * The streaming host holds the connection instead of answering 202; a 202 that still comes back means
 * the lookup was queued and is treated as "nothing yet", not as a failure.
 */
export class ClearbitAdapter implements ProviderAdapter {
  readonly name = 'clearbit';
  readonly operations = ['person', 'company'] as const;

  constructor(
    readonly http: ProviderHttp,
    private readonly personUrl: string,
    private readonly companyUrl: string,
    private readonly apiKey: string,
  ) {}

  person(q: PersonQuery): Promise<Lookup> | null {
    return q.email ? this.#combined(q.email, q) : null;
  }

  async #combined(email: string, q: PersonQuery): Promise<Lookup> {
    const params = new URLSearchParams({ email });
    if (q.first_name) params.set('given_name', q.first_name);
    if (q.last_name) params.set('family_name', q.last_name);
    if (q.company) params.set('company', q.company);
    if (q.domain) params.set('company_domain', q.domain);
    const res = await this.http.request({
      endpoint: 'combined_find',
      method: 'GET',
      url: `${this.personUrl}/v2/combined/find?${params}`,
      headers: { authorization: `Bearer ${this.apiKey}` },
    });
    return toLookup(res, mapCombined);
  }

  async company(domain: string): Promise<Lookup> {
    const res = await this.http.request({
      endpoint: 'company_find',
      method: 'GET',
      url: `${this.companyUrl}/v2/companies/find?domain=${encodeURIComponent(domain)}`,
      headers: { authorization: `Bearer ${this.apiKey}` },
    });
    return toLookup(res, (body) => {
      const c = obj(body);
      return c ? { provider: 'clearbit', person: null, company: mapCompany(c), email: null } : null;
    });
  }
}

export function mapCombined(body: unknown): ProviderAnswer | null {
  const b = obj(body);
  const p = obj(b?.person);
  const c = obj(b?.company);
  if (!p && !c) return null;
  return {
    provider: 'clearbit',
    person: p ? mapPerson(p) : null,
    company: c ? mapCompany(c) : null,
    email: null,
  };
}

const SENIORITY: Record<string, string> = {
  executive: 'C-level',
  director: 'Director',
  manager: 'Manager',
  senior: 'Senior',
  junior: 'Entry',
};

function mapPerson(p: Json): PersonData {
  const person = emptyPerson();
  const name = obj(p.name);
  person.full_name = str(name?.fullName);
  person.first_name = str(name?.givenName);
  person.last_name = str(name?.familyName);
  const employment = obj(p.employment);
  person.title = str(employment?.title);
  const seniority = str(employment?.seniority);
  person.seniority = seniority ? (SENIORITY[seniority] ?? null) : null;
  person.linkedin = linkedinUrl(obj(p.linkedin)?.handle);
  person.country = countryCode(obj(p.geo)?.countryCode);
  return person;
}

export function mapCompany(c: Json): CompanyData {
  const company = emptyCompany();
  company.name = str(c.name);
  company.domain = str(c.domain)?.toLowerCase() ?? null;
  company.industry = str(obj(c.category)?.industry);
  const metrics = obj(c.metrics);
  company.employee_count = num(metrics?.employees);
  company.country = countryCode(obj(c.geo)?.countryCode);
  company.technologies = strs(c.tech).map(techName);
  if (str(c.type) === 'public') company.signals.push('Public');
  const raised = num(metrics?.raised);
  if (raised !== null && raised > 0) company.signals.push(`Raised $${formatMoney(raised)}`);
  return company;
}

function formatMoney(usd: number): string {
  if (usd >= 1e9) return `${(usd / 1e9).toFixed(1).replace(/\.0$/, '')}B`;
  if (usd >= 1e6) return `${(usd / 1e6).toFixed(1).replace(/\.0$/, '')}M`;
  return `${Math.round(usd / 1e3)}K`;
}
