import type { DedupedLead, ScoredLead, ScoreReason } from '../../schemas/generated.ts';
import { FACTORS, type Factor, type IcpProfile, SENIORITIES, SIZE_BANDS, type SizeBand } from './profile.ts';

export type LeadStatus = 'QUALIFIED' | 'REJECTED' | 'INVALID' | 'DUPLICATE';

/** Email verdicts, best first; each is worth this share of the email factor. */
export const EMAIL_FIT: Record<string, number> = {
  verified_deliverable: 1,
  deliverable: 0.9,
  accept_all: 0.6,
  role_account: 0.4,
  unknown: 0.35,
  disposable: 0.1,
  missing: 0,
  invalid_syntax: 0,
  invalid_domain: 0,
  undeliverable: 0,
};

/** A personal address (gmail, outlook ...) reaches the person, but not at work: worth 80 %. */
const FREE_PROVIDER_FACTOR = 0.8;

export const PHONE_FIT: Record<string, number> = {
  mobile_active: 1,
  mobile_valid: 0.9,
  landline_valid: 0.75,
  voip_valid: 0.6,
  other_valid: 0.5,
  tollfree_valid: 0.3,
  missing: 0,
  invalid: 0,
  disconnected: 0,
};

const INVALID_EMAIL = new Set(['undeliverable', 'invalid_syntax', 'invalid_domain']);

/** Fields whose presence makes a lead workable; completeness is the share present. */
const COMPLETENESS_FIELDS: Array<(l: DedupedLead) => unknown> = [
  (l) => l.lead.first_name && l.lead.last_name,
  (l) => l.lead.title_normalized ?? l.lead.title_raw ?? l.enrichment.person_title,
  (l) => l.lead.company_name ?? l.enrichment.company_name,
  (l) => l.lead.domain ?? l.lead.website,
  (l) => l.lead.phone_e164,
  (l) => l.lead.linkedin_url ?? l.enrichment.person_linkedin,
  (l) => l.lead.country ?? l.enrichment.country,
];

const norm = (s: string) => s.trim().toLowerCase();

/** Position on the seniority ladder (0 = C-level), or -1 for Unknown. */
const rung = (s: string) => SENIORITIES.indexOf(s as (typeof SENIORITIES)[number]);

/**
 * Employee count from enrichment, else from the input's "employees" text ("51-200", "1,000+", "5k"):
 * the lower bound of a range, since that is the number the company has at least.
 */
export function employeeCount(lead: DedupedLead): number | null {
  if (lead.enrichment.employee_count !== null) return lead.enrichment.employee_count;
  const text = lead.lead.employees?.toLowerCase().replace(/,/g, '');
  const m = text ? /(\d+(?:\.\d+)?)\s*(k)?/.exec(text) : null;
  if (!m?.[1]) return null;
  return Math.round(Number(m[1]) * (m[2] ? 1000 : 1));
}

export function sizeBand(count: number): SizeBand {
  const bounds = [10, 50, 200, 500, 1000, 5000, 10000];
  const i = bounds.findIndex((b) => count <= b);
  return SIZE_BANDS[i < 0 ? SIZE_BANDS.length - 1 : i] as SizeBand;
}

/** 1 when the value is a target, 0.5 one step away on an ordered scale, else 0. */
function ladderFit(position: number, targets: number[]): number {
  if (position < 0) return 0;
  if (targets.includes(position)) return 1;
  return targets.some((t) => Math.abs(t - position) === 1) ? 0.5 : 0;
}

/** Share of the targets found: one match is worth 0.6, two or more the whole factor. */
function overlapFit(values: string[], targets: string[]): number {
  const wanted = new Set(targets.map(norm));
  const hits = new Set(values.map(norm).filter((v) => wanted.has(v))).size;
  return hits >= 2 ? 1 : hits === 1 ? 0.6 : 0;
}

/** How well the lead fits each factor, 0..1. Null: the profile has no preference, the factor is left out. */
export function factorFits(lead: DedupedLead, profile: IcpProfile): Record<Factor, number | null> {
  const v = lead.verification;
  const industry = lead.enrichment.industry ?? lead.lead.industry;
  const country = lead.lead.country ?? lead.enrichment.country;
  const count = employeeCount(lead);
  const preferred = <T>(targets: T[], measure: () => number) => (targets.length === 0 ? null : measure());
  return {
    email: (EMAIL_FIT[v.email_status] ?? 0) * (v.email_free_provider ? FREE_PROVIDER_FACTOR : 1),
    phone: PHONE_FIT[v.phone_status] ?? 0,
    completeness: COMPLETENESS_FIELDS.filter((f) => f(lead)).length / COMPLETENESS_FIELDS.length,
    seniority: preferred(profile.seniorities, () =>
      ladderFit(rung(lead.lead.seniority), profile.seniorities.map(rung)),
    ),
    department: preferred(profile.departments, () =>
      (profile.departments as string[]).includes(lead.lead.department) ? 1 : 0,
    ),
    industry: preferred(profile.industries, () => {
      const ind = industry ? norm(industry) : '';
      return ind && profile.industries.some((t) => ind.includes(norm(t))) ? 1 : 0;
    }),
    company_size: preferred(profile.company_size_bands, () =>
      count === null
        ? 0
        : ladderFit(
            SIZE_BANDS.indexOf(sizeBand(count)),
            profile.company_size_bands.map((b) => SIZE_BANDS.indexOf(b)),
          ),
    ),
    country: preferred(profile.countries, () =>
      country && profile.countries.includes(country.toUpperCase()) ? 1 : 0,
    ),
    technologies: preferred(profile.technologies, () =>
      overlapFit(lead.enrichment.technologies, profile.technologies),
    ),
    signals: preferred(profile.signals, () => overlapFit(lead.enrichment.signals, profile.signals)),
  };
}

/**
 * Whether the input each factor measures is known for this lead. A factor whose input is unknown scores
 * its fit on nothing (0, or for an `unknown` email verdict the 0.35 an address that passed the syntax
 * checks keeps): that is no evidence, and the score says so (`coverage`, `missing`).
 * phone and completeness are always known: `missing` is a phone verdict, and completeness is measured.
 * Seniority and department are classified from the lead's own title, so they are known when it has one.
 */
export function factorKnown(lead: DedupedLead): Record<Factor, boolean> {
  const hasTitle = Boolean(lead.lead.title_normalized ?? lead.lead.title_raw);
  return {
    email: lead.verification.email_status !== 'unknown',
    phone: true,
    completeness: true,
    seniority: hasTitle,
    department: hasTitle,
    industry: Boolean(lead.enrichment.industry ?? lead.lead.industry),
    company_size: employeeCount(lead) !== null,
    country: Boolean(lead.lead.country ?? lead.enrichment.country),
    technologies: lead.enrichment.technologies.length > 0,
    signals: lead.enrichment.signals.length > 0,
  };
}

/** The factors that count: a preference in the profile and a weight above 0. */
function activeFactors(fits: Record<Factor, number | null>, profile: IcpProfile): Factor[] {
  return FACTORS.filter((f) => fits[f] !== null && profile.weights[f] > 0);
}

/**
 * How complete the evidence behind a score is: `coverage`, the share of the active weight whose input
 * is known (four decimals), and `missing`, the active factors whose input is not.
 */
export function evidenceOf(
  lead: DedupedLead,
  profile: IcpProfile,
  fits: Record<Factor, number | null> = factorFits(lead, profile),
): { coverage: number; missing: Factor[] } {
  const active = activeFactors(fits, profile);
  const known = factorKnown(lead);
  const total = active.reduce((sum, f) => sum + profile.weights[f], 0);
  const covered = active.filter((f) => known[f]).reduce((sum, f) => sum + profile.weights[f], 0);
  return {
    coverage: total ? Math.round((covered / total) * 10_000) / 10_000 : 0,
    missing: active.filter((f) => !known[f]),
  };
}

/**
 * Whole numbers that sum to the rounded total of `values`, each within 1 of its value (largest remainder
 * method): contributions rounded one by one could add up to 100.01.
 */
function largestRemainder(values: number[]): number[] {
  const floors = values.map(Math.floor);
  let left = Math.round(values.reduce((a, b) => a + b, 0)) - floors.reduce((a, b) => a + b, 0);
  const order = values
    .map((v, i) => ({ i, rest: v - Math.floor(v) }))
    .sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    floors[i] = (floors[i] as number) + 1;
    left--;
  }
  return floors;
}

/**
 * Score 0–100 = Σ weight × fit over the factors the profile has a preference for, the weights rescaled
 * to sum to 100, rounded to hundredths. Contributions are in hundredths too and sum to the score
 * exactly (largest-remainder rounding).
 */
export function scoreOf(
  lead: DedupedLead,
  profile: IcpProfile,
  fits: Record<Factor, number | null> = factorFits(lead, profile),
): { score: number; reasons: ScoreReason[] } {
  const active = activeFactors(fits, profile);
  const totalWeight = active.reduce((sum, f) => sum + profile.weights[f], 0);
  const exact = active.map((f) =>
    totalWeight ? ((profile.weights[f] * (fits[f] as number)) / totalWeight) * 10_000 : 0,
  );
  const cents = largestRemainder(exact).map((c, i) => ({ factor: active[i] as Factor, cents: c }));
  const score = cents.reduce((sum, c) => sum + c.cents, 0) / 100;
  const reasons = cents
    .filter((c) => c.cents > 0)
    .sort((a, b) => b.cents - a.cents || a.factor.localeCompare(b.factor))
    .map((c) => ({ factor: c.factor, contribution: c.cents / 100 }));
  return { score, reasons };
}

/** DUPLICATE first (the survivor carries the person), then INVALID email, then the threshold. */
export function statusOf(lead: DedupedLead, score: number, profile: IcpProfile): LeadStatus {
  if (lead.dedup.is_duplicate) return 'DUPLICATE';
  if (INVALID_EMAIL.has(lead.verification.email_status)) return 'INVALID';
  return score >= profile.qualification_threshold ? 'QUALIFIED' : 'REJECTED';
}

/** Phase 6: the pure scoring function. */
export function scoreLead(deduped: DedupedLead, profile: IcpProfile): ScoredLead {
  const fits = factorFits(deduped, profile);
  const { score, reasons } = scoreOf(deduped, profile, fits);
  const { coverage, missing } = evidenceOf(deduped, profile, fits);
  const status = statusOf(deduped, score, profile);
  return { ...deduped, score: { status, score, reasons, coverage, missing } };
}
