import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { enrichedLead } from '../../bench/lib/dedup-dataset.ts';
import type { DedupedLead } from '../../schemas/generated.ts';
import {
  DEPARTMENTS,
  defaultProfile,
  FACTORS,
  type IcpProfile,
  parseProfile,
  SENIORITIES,
} from '../../services/score/profile.ts';
import { EMAIL_FIT, employeeCount, PHONE_FIT, scoreLead, sizeBand } from '../../services/score/score.ts';

const EMAIL_ORDER = [
  'verified_deliverable',
  'deliverable',
  'accept_all',
  'role_account',
  'unknown',
  'disposable',
  'missing',
  'invalid_syntax',
  'invalid_domain',
  'undeliverable',
];
const PHONE_ORDER = [
  'mobile_active',
  'mobile_valid',
  'landline_valid',
  'voip_valid',
  'other_valid',
  'tollfree_valid',
  'missing',
  'invalid',
  'disconnected',
];

function deduped(
  overrides: {
    seniority?: string;
    department?: string;
    email_status?: string;
    phone_status?: string;
    free?: boolean;
    employees?: number | null;
    industry?: string | null;
    country?: string | null;
    signals?: string[];
    technologies?: string[];
    duplicate?: boolean;
    sparse?: boolean;
  } = {},
): DedupedLead {
  const base = enrichedLead({
    lead_id: 'b:1',
    lead: overrides.sparse
      ? { email: 'x@y.com' }
      : {
          email: 'sarah@techflow.com',
          first_name: 'Sarah',
          last_name: 'Miller',
          title_normalized: 'VP of Sales',
          seniority: overrides.seniority ?? 'VP',
          department: overrides.department ?? 'Sales',
          company_name: 'TechFlow Systems',
          domain: 'techflow.com',
          phone_e164: '+14155550199',
          linkedin_url: 'https://linkedin.com/in/sarahmiller',
          country: overrides.country === undefined ? 'US' : overrides.country,
        },
    verification: {
      email_status: overrides.email_status ?? 'verified_deliverable',
      email_free_provider: overrides.free ?? false,
      phone_status: overrides.phone_status ?? 'mobile_active',
    },
    enrichment: {
      industry: overrides.industry === undefined ? 'Computer Software' : overrides.industry,
      employee_count: overrides.employees === undefined ? 250 : overrides.employees,
      signals: overrides.signals ?? ['Series B', 'Hiring'],
      technologies: overrides.technologies ?? ['AWS', 'Salesforce'],
    },
  });
  return {
    ...base,
    dedup: {
      is_duplicate: overrides.duplicate ?? false,
      survivor_id: overrides.duplicate ? 'b:0' : null,
      confidence: 0.99,
      cluster_size: overrides.duplicate ? 2 : 1,
      filled_from: {},
    },
  };
}

const profile = defaultProfile();
const sumOf = (l: ReturnType<typeof scoreLead>) => l.score.reasons.reduce((a, r) => a + r.contribution, 0);

describe('profile', () => {
  it('fills every omitted field with the default B2B profile', () => {
    const parsed = parseProfile({ qualification_threshold: 70, weights: { email: 40 } });
    if (!parsed.ok) throw new Error(parsed.problems.join());
    expect(parsed.profile.qualification_threshold).toBe(70);
    expect(parsed.profile.weights).toMatchObject({ email: 40, phone: profile.weights.phone });
    expect(parsed.profile.seniorities).toEqual(profile.seniorities);
  });

  it('refuses unknown fields, unknown enum values, bad country codes and all-zero weights, naming each', () => {
    const parsed = parseProfile({
      seniority: ['VP'],
      departments: ['Sales', 'Astrology'],
      countries: ['USA'],
      weights: Object.fromEntries(FACTORS.map((f) => [f, 0])),
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    const text = parsed.problems.join('\n');
    expect(text).toMatch(/seniority/);
    expect(text).toMatch(/departments\.1/);
    expect(text).toMatch(/countries\.0: an ISO 3166-1 alpha-2 code/);
    expect(text).toMatch(/weights: at least one weight/);
  });

  it('upper-cases country codes', () => {
    const parsed = parseProfile({ countries: ['us', 'De'] });
    expect(parsed.ok && parsed.profile.countries).toEqual(['US', 'DE']);
  });
});

describe('scoreLead', () => {
  it('golden: an ideal lead qualifies with its reasons, best first, summing to the score', () => {
    const scored = scoreLead(deduped(), profile);
    // industries and countries are empty in the default profile: those factors are left out, and the
    // remaining weights (email 30, phone 10, completeness 10, seniority 15, department 10, size 10,
    // signals 5 = 90) are rescaled to 100. Every fit is 1.
    expect(scored.score).toEqual({
      status: 'QUALIFIED',
      score: 100,
      reasons: [
        { factor: 'email', contribution: 33.33 },
        { factor: 'seniority', contribution: 16.67 },
        { factor: 'company_size', contribution: 11.11 },
        { factor: 'completeness', contribution: 11.11 },
        { factor: 'department', contribution: 11.11 },
        { factor: 'phone', contribution: 11.11 },
        { factor: 'signals', contribution: 5.56 },
      ],
      coverage: 1,
      missing: [],
    });
  });

  it('golden: an HR manager at an unknown-size company with a personal deliverable email is rejected', () => {
    const scored = scoreLead(
      deduped({
        seniority: 'Senior',
        department: 'HR',
        employees: null,
        free: true,
        email_status: 'deliverable',
        phone_status: 'missing',
        signals: [],
      }),
      profile,
    );
    // email 30 × 0.9 × 0.8 = 21.6, completeness 10 (the number is there, unverified), seniority 15 × 0.5
    // (one rung below Manager), HR and size 0: (21.6 + 10 + 7.5) / 90 × 100 = 43.44
    expect(scored.score.score).toBe(43.44);
    expect(scored.score.status).toBe('REJECTED');
    expect(scored.score.reasons.map((r) => r.factor)).toEqual(['email', 'completeness', 'seniority']);
    // Size and signals are unknown, not bad: 15 of the 90 active weight had no input.
    expect(scored.score.coverage).toBe(0.8333);
    expect(scored.score.missing).toEqual(['company_size', 'signals']);
  });

  it('evidence: names every active factor without input, and unknowns never add to the score', () => {
    // What a lead looks like enriched from nothing but its file: no size, no signals, no industry,
    // and an email DNS could not check.
    const bare = deduped({ employees: null, signals: [], email_status: 'unknown' });
    const scored = scoreLead(bare, profile);
    // Active: email 30, phone 10, completeness 10, seniority 15, department 10, size 10, signals 5 = 90;
    // known: phone, completeness, seniority, department = 45.
    expect(scored.score.coverage).toBe(0.5);
    expect(scored.score.missing).toEqual(['email', 'company_size', 'signals']);
    expect(scored.score.reasons.map((r) => r.factor)).not.toContain('company_size');
    expect(scored.score.reasons.map((r) => r.factor)).not.toContain('signals');
    // Knowing more can only raise the score: each unknown scored 0 (email its 0.35 floor).
    const known = scoreLead(
      deduped({ employees: 250, signals: ['Hiring'], email_status: 'unknown' }),
      profile,
    );
    expect(known.score.score).toBeGreaterThan(scored.score.score);
    expect(known.score.missing).toEqual(['email']);
    // Without a title, seniority and department are unknown too; a profile without preferences for a
    // factor leaves it out of the coverage altogether.
    const sparse = scoreLead(deduped({ sparse: true, signals: [], employees: null }), profile);
    expect(sparse.score.missing).toEqual(['seniority', 'department', 'company_size', 'signals']);
    expect(sparse.score.status).toBe('REJECTED');
    const noSignals = scoreLead(bare, { ...profile, signals: [] });
    expect(noSignals.score.missing).toEqual(['email', 'company_size']);
  });

  it('status rules: duplicate first, then invalid email, then the threshold', () => {
    expect(scoreLead(deduped({ duplicate: true, email_status: 'undeliverable' }), profile).score.status).toBe(
      'DUPLICATE',
    );
    for (const s of ['undeliverable', 'invalid_syntax', 'invalid_domain']) {
      expect(scoreLead(deduped({ email_status: s }), profile).score.status, s).toBe('INVALID');
    }
    for (const s of ['missing', 'disposable', 'unknown', 'accept_all', 'role_account']) {
      expect(['QUALIFIED', 'REJECTED'], s).toContain(
        scoreLead(deduped({ email_status: s }), profile).score.status,
      );
    }
    const lead = deduped({ department: 'Legal' });
    const { score } = scoreLead(lead, profile).score;
    expect(scoreLead(lead, { ...profile, qualification_threshold: score }).score.status).toBe('QUALIFIED');
    expect(scoreLead(lead, { ...profile, qualification_threshold: score + 0.01 }).score.status).toBe(
      'REJECTED',
    );
  });

  it('targets count: industries, countries and technologies add when the profile asks for them', () => {
    const targeted: IcpProfile = {
      ...profile,
      industries: ['software'],
      countries: ['DE'],
      technologies: ['aws'],
      weights: { ...profile.weights, technologies: 5 },
    };
    const scored = scoreLead(deduped(), targeted);
    const factors = Object.fromEntries(scored.score.reasons.map((r) => [r.factor, r.contribution]));
    expect(factors.industry).toBeGreaterThan(0);
    expect(factors.technologies).toBeGreaterThan(0);
    expect(factors.country).toBeUndefined();
    expect(scored.score.score).toBeLessThan(100);
  });

  it('reads employee counts from text and puts them in bands', () => {
    const fromText = (employees: string) =>
      employeeCount({ ...deduped({ employees: null }), lead: { ...deduped().lead, employees } });
    expect(fromText('51-200')).toBe(51);
    expect(fromText('1,000+')).toBe(1000);
    expect(fromText('5k')).toBe(5000);
    expect(fromText('n/a')).toBeNull();
    expect([10, 11, 200, 201, 10000, 10001].map(sizeBand)).toEqual([
      '1-10',
      '11-50',
      '51-200',
      '201-500',
      '5001-10000',
      '10001+',
    ]);
  });
});

describe('scoreLead properties', () => {
  const anyLead = fc.record({
    seniority: fc.constantFrom(...SENIORITIES, 'Unknown'),
    department: fc.constantFrom(...DEPARTMENTS),
    email_status: fc.constantFrom(...EMAIL_ORDER),
    phone_status: fc.constantFrom(...PHONE_ORDER),
    free: fc.boolean(),
    employees: fc.option(fc.integer({ min: 1, max: 100_000 })),
    industry: fc.option(fc.constantFrom('Software', 'Retail', 'Healthcare')),
    country: fc.option(fc.constantFrom('US', 'DE', 'FR')),
    signals: fc.subarray(['Hiring', 'Funding', 'Series B', 'Layoffs']),
    technologies: fc.subarray(['AWS', 'Salesforce', 'HubSpot']),
    duplicate: fc.boolean(),
    sparse: fc.boolean(),
  });
  const anyProfile = fc.record({
    weights: fc.record(Object.fromEntries(FACTORS.map((f) => [f, fc.integer({ min: 0, max: 100 })]))),
    industries: fc.subarray(['software', 'retail']),
    countries: fc.subarray(['US', 'DE']),
    technologies: fc.subarray(['AWS', 'HubSpot']),
    qualification_threshold: fc.integer({ min: 0, max: 100 }),
  });
  const toProfile = (p: unknown): IcpProfile | null => {
    const parsed = parseProfile(p);
    return parsed.ok ? parsed.profile : null;
  };

  it('stays within 0–100 and its reasons sum to the score', () => {
    fc.assert(
      fc.property(anyLead, anyProfile, (l, p) => {
        const prof = toProfile(p);
        if (!prof) return;
        const scored = scoreLead(deduped(l), prof);
        expect(scored.score.score).toBeGreaterThanOrEqual(0);
        expect(scored.score.score).toBeLessThanOrEqual(100);
        expect(sumOf(scored)).toBeCloseTo(scored.score.score, 9);
        for (const r of scored.score.reasons) expect(r.contribution).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });

  it('a better email or phone status never lowers the score', () => {
    const better = (order: string[], fit: Record<string, number>) => {
      for (let i = 0; i + 1 < order.length; i++)
        expect(fit[order[i] as string]).toBeGreaterThanOrEqual(fit[order[i + 1] as string] as number);
    };
    better(EMAIL_ORDER, EMAIL_FIT);
    better(PHONE_ORDER, PHONE_FIT);
    fc.assert(
      fc.property(
        anyLead,
        anyProfile,
        fc.nat(EMAIL_ORDER.length - 2),
        fc.nat(PHONE_ORDER.length - 2),
        (l, p, e, ph) => {
          const prof = toProfile(p);
          if (!prof) return;
          const worse = scoreLead(
            deduped({ ...l, email_status: EMAIL_ORDER[e + 1], phone_status: PHONE_ORDER[ph + 1] }),
            prof,
          );
          const betterEmail = scoreLead(
            deduped({ ...l, email_status: EMAIL_ORDER[e], phone_status: PHONE_ORDER[ph + 1] }),
            prof,
          );
          const betterBoth = scoreLead(
            deduped({ ...l, email_status: EMAIL_ORDER[e], phone_status: PHONE_ORDER[ph] }),
            prof,
          );
          expect(betterEmail.score.score).toBeGreaterThanOrEqual(worse.score.score);
          expect(betterBoth.score.score).toBeGreaterThanOrEqual(betterEmail.score.score);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('changes nothing but the score: the lead, verification, enrichment and dedup pass through', () => {
    fc.assert(
      fc.property(anyLead, (l) => {
        const input = deduped(l);
        const { score, ...rest } = scoreLead(input, profile);
        expect(rest).toEqual(input);
        expect(['QUALIFIED', 'REJECTED', 'INVALID', 'DUPLICATE']).toContain(score.status);
      }),
      { numRuns: 100 },
    );
  });
});
