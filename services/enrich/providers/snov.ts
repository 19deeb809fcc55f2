import type { ProviderHttp, ProviderResponse, Spent } from '../http.ts';
import { sleep } from '../rate-limit.ts';
import { type Deliverability, emptyCompany, emptyPerson, type ProviderAnswer } from '../types.ts';
import {
  addSpent,
  countryCode,
  headcount,
  type Json,
  type Lookup,
  linkedinUrl,
  obj,
  type PersonQuery,
  type ProviderAdapter,
  str,
  toLookup,
} from './adapter.ts';

/** How often, and how far apart, a queued verification is polled before it counts as pending. */
const STATUS_POLLS = 3;
const STATUS_POLL_MS = 300;

/**
 * Snov.io: OAuth client-credentials token (`POST /v1/oauth/access_token`), then Bearer calls. Email
 * verification is two steps — `add-emails-to-verification` queues, `get-emails-verification-status`
 * reads (status `in_progress` until done) — and `get-profile-by-email` returns person + current jobs.
 */
export class SnovAdapter implements ProviderAdapter {
  readonly name = 'snov';
  readonly operations = ['person', 'email'] as const;
  #token: { value: string; expiresAt: number } | null = null;

  constructor(
    readonly http: ProviderHttp,
    private readonly baseUrl: string,
    private readonly clientId: string,
    private readonly clientSecret: string,
  ) {}

  async verifyEmail(email: string): Promise<Lookup> {
    const queued = await this.#call('add_verification', '/v1/add-emails-to-verification', {
      'emails[]': [email],
    });
    if (!queued.ok) return toLookup(queued, () => null);
    let spent: Spent = { calls: queued.calls, cost_usd: queued.cost_usd };
    for (let poll = 0; poll < STATUS_POLLS; poll++) {
      const res = await this.#call('verification_status', '/v1/get-emails-verification-status', {
        'emails[]': [email],
      });
      const entry = res.ok ? obj(obj(res.body)?.[email]) : null;
      if (!res.ok || str(obj(entry?.status)?.identifier) !== 'in_progress') {
        return toLookup(res, () => mapVerification(email, entry), spent);
      }
      spent = addSpent(spent, res);
      await sleep(STATUS_POLL_MS);
    }
    return { kind: 'pending', spent };
  }

  person(q: PersonQuery): Promise<Lookup> | null {
    return q.email ? this.#profile(q.email) : null;
  }

  async #profile(email: string): Promise<Lookup> {
    const res = await this.#call('profile_by_email', '/v1/get-profile-by-email', { email });
    return toLookup(res, mapProfile);
  }

  /** A POST with the current token; one refresh when the token was revoked or expired early. */
  async #call(
    endpoint: string,
    path: string,
    form: Record<string, string | string[]>,
  ): Promise<ProviderResponse> {
    let spent: Spent = { calls: 0, cost_usd: 0 };
    for (let attempt = 0; ; attempt++) {
      const token = await this.#accessToken(attempt > 0);
      if (!token.ok) return { ...token.res, ...addSpent(spent, token.res) };
      const res = await this.http.request({
        endpoint,
        method: 'POST',
        url: `${this.baseUrl}${path}`,
        headers: { authorization: `Bearer ${token.value}` },
        body: { form },
      });
      spent = addSpent(spent, res);
      if (res.ok || res.reason !== 'auth' || attempt > 0) return { ...res, ...spent };
    }
  }

  async #accessToken(
    refresh: boolean,
  ): Promise<{ ok: true; value: string } | { ok: false; res: ProviderResponse }> {
    if (!refresh && this.#token && this.#token.expiresAt > Date.now())
      return { ok: true, value: this.#token.value };
    const res = await this.http.request({
      endpoint: 'token',
      method: 'POST',
      url: `${this.baseUrl}/v1/oauth/access_token`,
      body: {
        form: {
          grant_type: 'client_credentials',
          client_id: this.clientId,
          client_secret: this.clientSecret,
        },
      },
      billed: false,
    });
    if (!res.ok) return { ok: false, res };
    const body = obj(res.body);
    const value = str(body?.access_token);
    if (!value) return { ok: false, res: { ...res, ok: false, reason: 'auth', detail: 'no access_token' } };
    const ttl = typeof body?.expires_in === 'number' ? body.expires_in : 3600;
    // Renew a minute early so a token never expires between our check and the provider's.
    this.#token = { value, expiresAt: Date.now() + Math.max(0, ttl - 60) * 1000 };
    return { ok: true, value };
  }
}

const SMTP: Record<string, Deliverability> = {
  valid: 'deliverable',
  not_valid: 'undeliverable',
  unknown: 'risky',
};

export function mapVerification(email: string, entry: Json | null): ProviderAnswer | null {
  const data = obj(entry?.data);
  const result = obj(entry?.result);
  if (!data && !result) return null;
  let deliverability: Deliverability | undefined;
  if (data?.isValidFormat === false || result?.isDomainExists === false || result?.hasMXRecords === false) {
    deliverability = 'undeliverable';
  } else if (result?.isCatchall === true) {
    deliverability = 'risky';
  } else {
    const smtp = str(result?.smtpStatus) ?? str(data?.smtpStatus);
    deliverability = smtp ? SMTP[smtp] : undefined;
  }
  if (!deliverability) return null;
  return {
    provider: 'snov',
    person: null,
    company: null,
    email: { email: email.toLowerCase(), deliverability, score: null },
  };
}

export function mapProfile(body: unknown): ProviderAnswer | null {
  const b = obj(body);
  if (!b || b.success === false) return null;
  const person = emptyPerson();
  person.full_name = str(b.name);
  person.first_name = str(b.firstName);
  person.last_name = str(b.lastName);
  person.country = countryCode(b.country);
  const social = Array.isArray(b.social) ? b.social.map(obj) : [];
  person.linkedin = linkedinUrl(social.find((s) => str(s?.type)?.toLowerCase() === 'linkedin')?.link);
  const job = Array.isArray(b.currentJobs) ? obj(b.currentJobs[0]) : null;
  let company = null;
  if (job) {
    person.title = str(job.position);
    company = emptyCompany();
    company.name = str(job.companyName);
    company.domain = domainOf(str(job.site));
    company.industry = str(job.industry);
    company.employee_count = headcount(job.size);
    company.country = countryCode(job.country);
  }
  return { provider: 'snov', person, company, email: null };
}

function domainOf(site: string | null): string | null {
  if (!site) return null;
  try {
    return new URL(site.includes('://') ? site : `https://${site}`).hostname.replace(/^www\./, '');
  } catch {
    return null;
  }
}
