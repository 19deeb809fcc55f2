import { type Deliverability, emptyCompany, emptyPerson, type ProviderAnswer } from '../types.ts';
import {
  countryCode,
  headcount,
  type Json,
  KeyedAdapter,
  type Lookup,
  linkedinUrl,
  num,
  obj,
  type ProviderAdapter,
  str,
  strs,
  toLookup,
} from './adapter.ts';

/**
 * Hunter.io: Email Verifier (`GET /v2/email-verifier?email=`) and Domain Search
 * (`GET /v2/domain-search?domain=`), key in the `api_key` query parameter. The verifier answers 202
 * while a slow SMTP check is still running; that is "pending", not a failure.
 */
export class HunterAdapter extends KeyedAdapter implements ProviderAdapter {
  readonly name = 'hunter';
  readonly operations = ['email', 'company'] as const;

  async verifyEmail(email: string): Promise<Lookup> {
    const params = new URLSearchParams({ email, api_key: this.apiKey });
    const res = await this.http.request({
      endpoint: 'email_verifier',
      method: 'GET',
      url: `${this.baseUrl}/v2/email-verifier?${params}`,
    });
    return toLookup(res, mapVerifier);
  }

  /** Domain Search also lists known people at the domain; `email` picks the lead among them. */
  async company(domain: string, email?: string): Promise<Lookup> {
    const params = new URLSearchParams({ domain, api_key: this.apiKey, limit: '10' });
    const res = await this.http.request({
      endpoint: 'domain_search',
      method: 'GET',
      url: `${this.baseUrl}/v2/domain-search?${params}`,
    });
    return toLookup(res, (body) => mapDomainSearch(body, email));
  }
}

/** Hunter's `status` (the current field; `result` is deprecated) mapped to our three verdicts. */
const STATUS: Record<string, Deliverability> = {
  valid: 'deliverable',
  webmail: 'deliverable',
  invalid: 'undeliverable',
  disposable: 'undeliverable',
  accept_all: 'risky',
  unknown: 'risky',
};

export function mapVerifier(body: unknown): ProviderAnswer | null {
  const d = obj(obj(body)?.data);
  const email = str(d?.email);
  const status = str(d?.status);
  const deliverability = status ? STATUS[status] : undefined;
  if (!d || !email || !deliverability) return null;
  const score = num(d.score);
  return {
    provider: 'hunter',
    person: null,
    company: null,
    email: { email: email.toLowerCase(), deliverability, score: score === null ? null : score / 100 },
  };
}

export function mapDomainSearch(body: unknown, email?: string): ProviderAnswer | null {
  const d = obj(obj(body)?.data);
  if (!d) return null;
  const company = emptyCompany();
  company.name = str(d.organization);
  company.domain = str(d.domain)?.toLowerCase() ?? null;
  company.industry = str(d.industry);
  company.employee_count = headcount(d.headcount);
  company.country = countryCode(d.country);
  company.technologies = strs(d.technologies);
  const emails = Array.isArray(d.emails) ? d.emails.map(obj).filter((e): e is Json => e !== null) : [];
  const match = email ? emails.find((e) => str(e.value)?.toLowerCase() === email.toLowerCase()) : undefined;
  let person = null;
  if (match) {
    person = emptyPerson();
    person.first_name = str(match.first_name);
    person.last_name = str(match.last_name);
    person.title = str(match.position);
    person.linkedin = linkedinUrl(match.linkedin);
    person.phone = str(match.phone_number);
  }
  return { provider: 'hunter', person, company, email: null };
}
