import type { EnrichedLead, Enrichment, VerifiedLead } from '../../schemas/generated.ts';
import { knows, trueCompany, truePerson } from '../enrich/sandbox/data.ts';
import { TOPICS } from '../lib/names.ts';
import { definePhase } from '../runtime/phase.ts';
import { ok } from '../runtime/result.ts';

/** How embedded mode names this source in field_sources and in its summary. */
export const SANDBOX_SOURCE = 'sandbox';

/** The sandbox's funding stages as the buying signals providers report (apollo's wording). */
const FUNDING_SIGNAL: Record<string, string> = {
  seed: 'Funding',
  series_a: 'Series A',
  series_b: 'Series B',
  series_c: 'Series C',
  series_d: 'Series D',
};
/** Yearly headcount growth from which a company counts as hiring (apollo's rule). */
const HIRING_GROWTH = 0.1;
/** Confidence of a sandbox answer: one source, no consensus. */
const SANDBOX_CONFIDENCE = 0.7;

/**
 * Enrichment from the sandbox's deterministic data, called in-process (no HTTP, no Redis): the company
 * of the lead's domain and the person of a work address, each only when the sandbox "knows" it, as a
 * real provider finds only part of its lookups. Used when no provider is configured.
 */
export function sandboxEnrichment({ lead, verification }: VerifiedLead): Enrichment {
  const sources: Record<string, string> = {};
  const found = <T>(field: string, value: T | null): T | null => {
    if (value !== null) sources[field] = SANDBOX_SOURCE;
    return value;
  };
  const domain = lead.domain;
  const company = domain && knows('apollo', domain) ? trueCompany(domain) : null;
  const email = lead.email;
  const workEmail = email && !verification.email_free_provider ? email : null;
  const person = workEmail && knows('apollo', workEmail) ? truePerson(workEmail) : null;
  const signals = company
    ? [
        ...(company.funding ? [FUNDING_SIGNAL[company.funding] ?? company.funding] : []),
        ...(company.growth >= HIRING_GROWTH ? ['Hiring'] : []),
        ...(company.public ? ['Public'] : []),
      ]
    : [];
  // Values the lead carries win (as the enricher's input reliability makes them): only gaps are filled.
  return {
    company_name: found(
      'company_name',
      company && !lead.company_name ? [company.name, company.legal].filter(Boolean).join(' ') : null,
    ),
    industry: found('industry', lead.industry ? null : (company?.industry ?? null)),
    employee_count: found('employee_count', lead.employees ? null : (company?.employees ?? null)),
    country: found('country', lead.country ? null : (company?.country ?? null)),
    signals: found('signals', signals.length ? signals : null) ?? [],
    technologies: found('technologies', company?.tech.length ? company.tech : null) ?? [],
    person_title: found('person_title', lead.title_normalized ? null : (person?.title ?? null)),
    person_linkedin: found(
      'person_linkedin',
      person && !lead.linkedin_url ? `https://www.linkedin.com/${person.linkedin}` : null,
    ),
    field_sources: sources,
    confidence: Object.keys(sources).length ? SANDBOX_CONFIDENCE : 0,
    multi_source: false,
    cache_level: 'none',
  };
}

/** Phase 4 of the embedded chain: leads.verified → leads.enriched with the sandbox data. */
export const sandboxEnrichPhase = definePhase<VerifiedLead, EnrichedLead>({
  name: 'enrich',
  input: { topic: TOPICS.verified, record: 'VerifiedLead' },
  output: { topic: TOPICS.enriched, record: 'EnrichedLead' },
  phase: (input) => ok({ ...input, enrichment: sandboxEnrichment(input) }),
});
