import type { ScoredLead } from '../../schemas/generated.ts';
import { formatPhoneForDisplay } from './phone-display.ts';

/** What a lead object is made of, whether it comes from a scored record or a stored row. */
export interface LeadFacts {
  status: string;
  score: number;
  reasons: Array<{ factor: string; contribution: number }>;
  /** Score.coverage (null for a lead scored before it was measured) and Score.missing. */
  coverage: number | null;
  missing: string[];
  /** The company name and title as enrichment left them (the input's own value when it had one). */
  enrichedCompanyName: string | null;
  inputCompanyName: string | null;
  domain: string | null;
  signals: string[];
  technologies: string[];
  fullName: string | null;
  inputTitle: string | null;
  enrichedTitle: string | null;
  /** Enrichment.field_sources: enrichment field name → provenance label (provenance.ts). */
  fieldSources: Record<string, string>;
  email: string | null;
  emailStatus: string;
  phoneE164: string | null;
  phoneStatus: string;
  dedupConfidence: number;
  leadId: string;
  rowIndex: number;
  duplicateOf: string | null;
}

/**
 * The lead object of the public API (API.md). The documented fields come first and keep their names;
 * `lead_id`, `row_index`, `reasons` and `duplicate_of` are additions that let a client join results back
 * to its file and see why a lead scored as it did. `provenance` names where each value that enrichment
 * can supply came from (provenance.ts: input, dns, a provider, or sandbox:<provider>; null when empty),
 * and `evidence` how much of the score's input was known and which factors had none.
 */
export function buildLeadObject(f: LeadFacts) {
  const companyName = f.enrichedCompanyName ?? f.inputCompanyName;
  const title = f.inputTitle ?? f.enrichedTitle;
  const sourceOf = (field: string, present: boolean) => (present ? (f.fieldSources[field] ?? null) : null);
  return {
    status: f.status,
    score: f.score,
    account: { name: companyName, domain: f.domain, signals: f.signals, technologies: f.technologies },
    contact: {
      full_name: f.fullName,
      title_normalized: title,
      email: f.email,
      email_status: f.emailStatus,
      phone: f.phoneE164 ? formatPhoneForDisplay(f.phoneE164) : null,
      phone_status: f.phoneStatus,
    },
    dedup_confidence: f.dedupConfidence,
    lead_id: f.leadId,
    row_index: f.rowIndex,
    reasons: f.reasons,
    duplicate_of: f.duplicateOf,
    provenance: {
      company_name:
        f.enrichedCompanyName !== null
          ? sourceOf('company_name', true)
          : f.inputCompanyName !== null
            ? 'input'
            : null,
      title_normalized: f.inputTitle !== null ? 'input' : sourceOf('person_title', f.enrichedTitle !== null),
      signals: sourceOf('signals', f.signals.length > 0),
      technologies: sourceOf('technologies', f.technologies.length > 0),
    },
    evidence: { coverage: f.coverage, missing: f.missing },
  };
}

/** The lead object of a scored lead, as the sink and the embedded mode produce it. */
export function leadObject(s: ScoredLead) {
  const { lead, verification, enrichment, dedup, score } = s;
  return buildLeadObject({
    status: score.status,
    score: score.score,
    reasons: score.reasons,
    coverage: score.coverage,
    missing: score.missing,
    enrichedCompanyName: enrichment.company_name,
    inputCompanyName: lead.company_name,
    domain: lead.domain,
    signals: enrichment.signals,
    technologies: enrichment.technologies,
    fullName: lead.full_name,
    inputTitle: lead.title_normalized,
    enrichedTitle: enrichment.person_title,
    fieldSources: enrichment.field_sources,
    email: lead.email,
    emailStatus: verification.email_status,
    phoneE164: lead.phone_e164,
    phoneStatus: verification.phone_status,
    dedupConfidence: dedup.confidence,
    leadId: s.meta.lead_id,
    rowIndex: s.meta.row_index,
    duplicateOf: dedup.is_duplicate ? dedup.survivor_id : null,
  });
}
export type LeadObject = ReturnType<typeof buildLeadObject>;

/** CSV columns of a download, in order: the lead object flattened. */
export const CSV_COLUMNS = [
  'status',
  'score',
  'full_name',
  'title_normalized',
  'email',
  'email_status',
  'phone',
  'phone_status',
  'company_name',
  'company_domain',
  'signals',
  'technologies',
  'dedup_confidence',
  'lead_id',
  'row_index',
  'duplicate_of',
  'company_name_source',
  'title_normalized_source',
  'signals_source',
  'technologies_source',
  'evidence_coverage',
  'evidence_missing',
] as const;

export function csvRow(o: LeadObject): Record<(typeof CSV_COLUMNS)[number], string> {
  const text = (v: string | number | null) => (v === null ? '' : String(v));
  return {
    status: o.status,
    score: text(o.score),
    full_name: text(o.contact.full_name),
    title_normalized: text(o.contact.title_normalized),
    email: text(o.contact.email),
    email_status: o.contact.email_status,
    phone: text(o.contact.phone),
    phone_status: o.contact.phone_status,
    company_name: text(o.account.name),
    company_domain: text(o.account.domain),
    signals: o.account.signals.join('; '),
    technologies: o.account.technologies.join('; '),
    dedup_confidence: text(o.dedup_confidence),
    lead_id: o.lead_id,
    row_index: text(o.row_index),
    duplicate_of: text(o.duplicate_of),
    company_name_source: text(o.provenance.company_name),
    title_normalized_source: text(o.provenance.title_normalized),
    signals_source: text(o.provenance.signals),
    technologies_source: text(o.provenance.technologies),
    evidence_coverage: text(o.evidence.coverage),
    evidence_missing: o.evidence.missing.join('; '),
  };
}

/**
 * A cell a spreadsheet would run as a formula (=, +, -, @, tab, carriage return first) is prefixed
 * with an apostrophe, as OWASP recommends for CSV injection; the value stays readable.
 */
export function neutralizeCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
