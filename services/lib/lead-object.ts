import type { ScoredLead } from '../../schemas/generated.ts';
import { formatPhoneForDisplay } from './phone-display.ts';

/**
 * The lead object of the public API (API.md), from a scored lead. The documented fields come first and
 * keep their names; `lead_id`, `row_index`, `reasons` and `duplicate_of` are additions that let a client
 * join results back to its file and see why a lead scored as it did.
 */
export function leadObject(s: ScoredLead) {
  const { lead, verification, enrichment, dedup, score } = s;
  return {
    status: score.status,
    score: score.score,
    account: {
      name: enrichment.company_name ?? lead.company_name,
      domain: lead.domain,
      signals: enrichment.signals,
      technologies: enrichment.technologies,
    },
    contact: {
      full_name: lead.full_name,
      title_normalized: lead.title_normalized ?? enrichment.person_title,
      email: lead.email,
      email_status: verification.email_status,
      phone: lead.phone_e164 ? formatPhoneForDisplay(lead.phone_e164) : null,
      phone_status: verification.phone_status,
    },
    dedup_confidence: dedup.confidence,
    lead_id: s.meta.lead_id,
    row_index: s.meta.row_index,
    reasons: score.reasons,
    duplicate_of: dedup.is_duplicate ? dedup.survivor_id : null,
  };
}
export type LeadObject = ReturnType<typeof leadObject>;

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
  };
}

/**
 * A cell a spreadsheet would run as a formula (=, +, -, @, tab, carriage return first) is prefixed
 * with an apostrophe, as OWASP recommends for CSV injection; the value stays readable.
 */
export function neutralizeCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
