/**
 * ClickHouse rows of the `leads` and `rejections` tables (topology/clickhouse/001_initial.sql, and
 * 002_field_provenance.sql for the score's evidence). Every
 * column is sent: ClickHouse 18.16 gives an omitted JSONEachRow field the type's zero value, whatever
 * the DDL says, so a missing field would silently differ between server versions.
 */
import type { LeadRejection, ScoredLead } from '../../schemas/generated.ts';
import { formatDateTime } from '../lib/clickhouse.ts';

const dateTime = (ms: number): string => formatDateTime(new Date(ms));
const flag = (b: boolean): number => (b ? 1 : 0);

/**
 * One `leads` row. `scoredAt` is the broker timestamp of the leads.scored record (when score produced
 * it, the same on every redelivery); `version` the write time in milliseconds, so a redelivered lead
 * replaces its earlier copy. Throws SqlLiteralError for a timestamp outside DateTime's range.
 */
export function leadRow(s: ScoredLead, scoredAt: number, version: number) {
  const { meta, lead, verification: v, enrichment: e, dedup, score } = s;
  return {
    account_id: meta.account_id,
    batch_id: meta.batch_id,
    lead_id: meta.lead_id,
    row_index: meta.row_index,
    source: meta.source,
    received_at: dateTime(meta.received_at),

    status: score.status,
    score: score.score,
    reasons_json: JSON.stringify(score.reasons),
    score_coverage: score.coverage,
    score_missing: score.missing,

    email: lead.email,
    email_display: lead.email_display,
    first_name: lead.first_name,
    last_name: lead.last_name,
    full_name: lead.full_name,
    honorific: lead.honorific,
    name_suffix: lead.name_suffix,
    title_raw: lead.title_raw,
    title_normalized: lead.title_normalized,
    seniority: lead.seniority,
    department: lead.department,
    phone_e164: lead.phone_e164,
    phone_raw: lead.phone_raw,
    linkedin_url: lead.linkedin_url,
    city: lead.city,
    country: lead.country,

    company_name: lead.company_name,
    company_key: lead.company_key,
    domain: lead.domain,
    website: lead.website,
    industry: lead.industry,
    employees: lead.employees,
    extras_json: JSON.stringify(lead.extras),

    email_status: v.email_status,
    email_reason: v.email_reason,
    email_free_provider: flag(v.email_free_provider),
    email_role: flag(v.email_role),
    email_disposable: flag(v.email_disposable),
    email_suggestion: v.email_suggestion,
    mx_hosts: v.mx_hosts,
    phone_status: v.phone_status,
    phone_line_type: v.phone_line_type,

    enriched_company_name: e.company_name,
    enriched_industry: e.industry,
    enriched_employee_count: e.employee_count,
    enriched_country: e.country,
    signals: e.signals,
    technologies: e.technologies,
    enriched_title: e.person_title,
    enriched_linkedin: e.person_linkedin,
    field_sources_json: JSON.stringify(e.field_sources),
    enrichment_confidence: e.confidence,
    multi_source: flag(e.multi_source),
    cache_level: e.cache_level,

    is_duplicate: flag(dedup.is_duplicate),
    survivor_id: dedup.survivor_id,
    dedup_confidence: dedup.confidence,
    cluster_size: dedup.cluster_size,

    scored_at: dateTime(scoredAt),
    version,
  };
}
export type LeadRow = ReturnType<typeof leadRow>;

/** One `rejections` row: the row as read travels as JSON, so nothing of it is lost. */
export function rejectionRow(r: LeadRejection, version: number) {
  return {
    account_id: r.account_id,
    batch_id: r.batch_id,
    lead_id: r.lead_id,
    row_index: r.row_index,
    line_number: r.line_number,
    phase: r.phase,
    reason: r.reason,
    detail: r.detail,
    original_json: JSON.stringify(r.original),
    rejected_at: dateTime(r.rejected_at),
    version,
  };
}
export type RejectionRow = ReturnType<typeof rejectionRow>;
