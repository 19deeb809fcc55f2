import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../services/enrich/breaker.ts';
import { BufferedCallLog, type ProviderCall } from '../../services/enrich/call-log.ts';
import { lookupKeys } from '../../services/enrich/eligibility.ts';
import { parseRetryAfter } from '../../services/enrich/http.ts';
import { countryCode, headcount, linkedinUrl } from '../../services/enrich/providers/adapter.ts';
import { mapOrganization, mapPersonMatch } from '../../services/enrich/providers/apollo.ts';
import { mapCombined } from '../../services/enrich/providers/clearbit.ts';
import { mapDomainSearch, mapVerifier } from '../../services/enrich/providers/hunter.ts';
import { mapProfile, mapVerification } from '../../services/enrich/providers/snov.ts';
import { answerFields } from '../../services/enrich/types.ts';

// Payloads follow the providers' documented response examples (abridged).
describe('Apollo mapping', () => {
  it('maps a people/match answer with its organization', () => {
    const answer = mapPersonMatch({
      person: {
        id: '587cf802f65125cad923a266',
        first_name: 'Tim',
        last_name: 'Zheng',
        name: 'Tim Zheng',
        linkedin_url: 'http://www.linkedin.com/in/tim-zheng-677ba010',
        title: 'Founder & CEO',
        email_status: 'verified',
        email: 'tim@apollo.io',
        seniority: 'founder',
        country: 'United States',
        organization: {
          name: 'Apollo.io',
          primary_domain: 'apollo.io',
          industry: 'information technology & services',
          estimated_num_employees: 1600,
          country: 'United States',
          technology_names: ['Salesforce', 'Gmail'],
          latest_funding_stage: 'Series D',
          organization_headcount_six_month_growth: 0.18,
        },
      },
    });
    expect(answer).not.toBeNull();
    expect(answerFields(answer ?? { provider: 'apollo', person: null, company: null, email: null })).toEqual({
      email: 'deliverable',
      name: 'Tim Zheng',
      title: 'Founder & CEO',
      seniority: 'C-level',
      linkedin: 'https://www.linkedin.com/in/tim-zheng-677ba010',
      company: 'Apollo.io',
      domain: 'apollo.io',
      industry: 'information technology & services',
      employee_count: 1600,
      country: 'US',
      technologies: ['Salesforce', 'Gmail'],
      signals: ['Series D', 'Hiring'],
    });
  });

  it('treats person: null as no match', () => {
    expect(mapPersonMatch({ person: null })).toBeNull();
  });

  it('marks public companies and leaves unknown funding stages as reported', () => {
    const c = mapOrganization({
      name: 'X',
      latest_funding_stage: 'Venture (Round not Specified)',
      publicly_traded_symbol: 'XYZ',
    });
    expect(c.signals).toEqual(['Venture (Round not Specified)', 'Public']);
  });
});

describe('Clearbit mapping', () => {
  it('maps a combined answer', () => {
    const answer = mapCombined({
      person: {
        name: { fullName: 'Alex MacCaw', givenName: 'Alex', familyName: 'MacCaw' },
        employment: {
          domain: 'clearbit.com',
          name: 'Clearbit',
          title: 'CEO',
          role: 'leadership',
          seniority: 'executive',
        },
        linkedin: { handle: 'in/alex-maccaw-ab592978' },
        geo: { countryCode: 'US' },
      },
      company: {
        name: 'Clearbit',
        domain: 'clearbit.com',
        category: { industry: 'Internet Software & Services' },
        metrics: { employees: 250, raised: 17000000 },
        geo: { countryCode: 'US' },
        tech: ['google_apps', 'salesforce'],
        type: 'private',
      },
    });
    expect(answer?.person?.linkedin).toBe('https://www.linkedin.com/in/alex-maccaw-ab592978');
    expect(answer?.person?.seniority).toBe('C-level');
    expect(answer?.company).toEqual({
      name: 'Clearbit',
      domain: 'clearbit.com',
      industry: 'Internet Software & Services',
      employee_count: 250,
      country: 'US',
      technologies: ['Google Apps', 'Salesforce'],
      signals: ['Raised $17M'],
    });
  });

  it('keeps a company-only answer', () => {
    expect(mapCombined({ person: null, company: { name: 'Acme' } })?.company?.name).toBe('Acme');
    expect(mapCombined({ person: null, company: null })).toBeNull();
  });
});

describe('Hunter mapping', () => {
  it('maps verifier statuses to deliverability, score to 0..1', () => {
    const v = (status: string) => mapVerifier({ data: { email: 'A@x.com', status, score: 91 } })?.email;
    expect(v('valid')).toEqual({ email: 'a@x.com', deliverability: 'deliverable', score: 0.91 });
    expect(v('invalid')?.deliverability).toBe('undeliverable');
    expect(v('accept_all')?.deliverability).toBe('risky');
    expect(v('no-such-status')).toBeUndefined();
  });

  it('maps a domain search, picking the lead among the listed people', () => {
    const answer = mapDomainSearch(
      {
        data: {
          domain: 'stripe.com',
          organization: 'Stripe',
          industry: 'Financial Services',
          headcount: '1001-5000',
          country: 'US',
          technologies: ['stripe'],
          emails: [
            {
              value: 'patrick@stripe.com',
              first_name: 'Patrick',
              last_name: 'Collison',
              position: 'CEO',
              linkedin: null,
            },
          ],
        },
      },
      'Patrick@stripe.com',
    );
    expect(answer?.company?.employee_count).toBe(3001);
    expect(answer?.person).toMatchObject({ first_name: 'Patrick', title: 'CEO' });
    expect(
      mapDomainSearch({ data: { domain: 'stripe.com', emails: [] } }, 'x@stripe.com')?.person,
    ).toBeNull();
  });
});

describe('Snov mapping', () => {
  it('maps verification results', () => {
    const entry = (result: Record<string, unknown>) => ({
      data: { isValidFormat: true },
      result,
      status: { identifier: 'complete' },
    });
    expect(mapVerification('a@x.com', entry({ smtpStatus: 'valid' }))?.email?.deliverability).toBe(
      'deliverable',
    );
    expect(mapVerification('a@x.com', entry({ smtpStatus: 'not_valid' }))?.email?.deliverability).toBe(
      'undeliverable',
    );
    expect(
      mapVerification('a@x.com', entry({ isCatchall: true, smtpStatus: 'valid' }))?.email?.deliverability,
    ).toBe('risky');
    expect(mapVerification('a@x.com', entry({ hasMXRecords: false }))?.email?.deliverability).toBe(
      'undeliverable',
    );
  });

  it('maps a profile and its current job', () => {
    const answer = mapProfile({
      success: true,
      name: 'Lizi Hamer',
      firstName: 'Lizi',
      lastName: 'Hamer',
      country: 'United Kingdom',
      social: [{ link: 'https://www.linkedin.com/in/lizihamer', type: 'linkedIn' }],
      currentJobs: [
        {
          companyName: 'Octagon',
          position: 'Senior Account Executive',
          site: 'http://www.octagon.com',
          size: '1-10',
          industry: 'Marketing',
        },
      ],
    });
    expect(answer?.person).toMatchObject({
      full_name: 'Lizi Hamer',
      title: 'Senior Account Executive',
      country: 'GB',
    });
    expect(answer?.person?.linkedin).toBe('https://www.linkedin.com/in/lizihamer');
    expect(answer?.company).toMatchObject({ name: 'Octagon', domain: 'octagon.com', employee_count: 6 });
    expect(mapProfile({ success: false, message: 'not found' })).toBeNull();
  });
});

describe('shared parsing', () => {
  it('reads headcount ranges as their midpoint', () => {
    expect(headcount('11-50')).toBe(31);
    expect(headcount('10K+')).toBe(10000);
    expect(headcount('1k-5k')).toBe(3000);
    expect(headcount(42)).toBe(42);
    expect(headcount('lots')).toBeNull();
  });

  it('canonicalises LinkedIn URLs and countries', () => {
    expect(linkedinUrl('in/Jane-Doe')).toBe('https://www.linkedin.com/in/jane-doe');
    expect(linkedinUrl('https://uk.linkedin.com/in/jane?trk=x')).toBe('https://www.linkedin.com/in/jane');
    expect(linkedinUrl('https://www.linkedin.com/company/acme')).toBeNull();
    expect(countryCode('Germany')).toBe('DE');
    expect(countryCode('gb')).toBe('GB');
    expect(countryCode('Atlantis')).toBeNull();
  });

  it('parses Retry-After as seconds or HTTP date, capped', () => {
    const now = Date.parse('2026-03-19T11:00:00Z');
    expect(parseRetryAfter('3', now, 60_000)).toBe(3000);
    expect(parseRetryAfter('Thu, 19 Mar 2026 11:00:05 GMT', now, 60_000)).toBe(5000);
    expect(parseRetryAfter('Thu, 19 Mar 2026 10:59:00 GMT', now, 60_000)).toBe(0);
    expect(parseRetryAfter('86400', now, 60_000)).toBe(60_000);
    expect(parseRetryAfter('soon', now, 60_000)).toBeNull();
    expect(parseRetryAfter(null, now, 60_000)).toBeNull();
  });
});

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures, lets one probe through after the cool-down, closes on success', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, now: () => now });
    b.onFailure();
    b.onFailure();
    b.onSuccess();
    b.onFailure();
    b.onFailure();
    expect(b.state).toBe('closed');
    b.onFailure();
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    now = 1000;
    expect(b.state).toBe('half_open');
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false);
    b.onSuccess();
    expect(b.state).toBe('closed');
  });

  it('reopens at once when the probe fails', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 500, now: () => now });
    b.onFailure();
    now = 600;
    expect(b.tryAcquire()).toBe(true);
    b.onFailure();
    expect(b.state).toBe('open');
    now = 1000;
    expect(b.tryAcquire()).toBe(false);
  });
});

describe('lookupKeys', () => {
  const lead = {
    email: 'x@acme.com',
    email_status: 'deliverable',
    domain: 'acme.com',
    company_key: 'acme',
    linkedin: null,
  };
  it('keeps an invalid email away from paid lookups, yet still uses the other keys', () => {
    expect(lookupKeys({ ...lead, email_status: 'invalid_syntax' })).toEqual({
      email: null,
      domain: 'acme.com',
      companyKey: 'acme',
      paid: true,
    });
  });
  it('sends nothing to paid providers when an invalid email is all there is', () => {
    expect(lookupKeys({ ...lead, email_status: 'undeliverable', domain: null, company_key: null }).paid).toBe(
      false,
    );
  });
  it('never uses a free-mail domain as a company domain', () => {
    expect(lookupKeys({ ...lead, email: 'x@gmail.com', domain: 'gmail.com' }).domain).toBeNull();
  });
});

describe('BufferedCallLog', () => {
  const call = (n: number): ProviderCall => ({
    provider: 'hunter',
    endpoint: 'email_verifier',
    started_at: n,
    latency_ms: 1,
    status: 200,
    cost_usd: 0.01,
    cache_level: 'provider',
    error: '',
  });
  it('drains what it holds, oldest first, and drops (and counts) the oldest beyond capacity', () => {
    const log = new BufferedCallLog(3);
    for (const n of [1, 2, 3, 4, 5, 6, 7]) log.record(call(n));
    expect(log.dropped).toBe(4);
    expect(log.size).toBe(3);
    expect(log.drain().map((c) => c.started_at)).toEqual([5, 6, 7]);
    expect(log.size).toBe(0);
    log.record(call(8));
    expect(log.drain().map((c) => c.started_at)).toEqual([8]);
  });
});
