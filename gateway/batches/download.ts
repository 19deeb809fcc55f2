import type { ClickHouseClient } from '@clickhouse/client';
import { stringify } from 'csv-stringify/sync';
import { sql } from '../../services/lib/clickhouse.ts';
import {
  buildLeadObject,
  CSV_COLUMNS,
  csvRow,
  type LeadObject,
  neutralizeCell,
} from '../../services/lib/lead-object.ts';

/** The `leads` columns a lead object is built from (topology/clickhouse/001_initial.sql, 002_*). */
interface StoredLead {
  status: string;
  score: number;
  reasons_json: string;
  /** Null for a lead stored before the column existed. */
  score_coverage: number | null;
  score_missing: string[];
  field_sources_json: string;
  enriched_company_name: string | null;
  company_name: string | null;
  domain: string | null;
  signals: string[];
  technologies: string[];
  full_name: string | null;
  title_normalized: string | null;
  enriched_title: string | null;
  email: string | null;
  email_status: string;
  phone_e164: string | null;
  phone_status: string;
  dedup_confidence: number;
  lead_id: string;
  /** Int64: ClickHouse quotes 64-bit integers in JSON. */
  row_index: string | number;
  is_duplicate: number;
  survivor_id: string | null;
}

function fromStored(r: StoredLead): LeadObject {
  return buildLeadObject({
    status: r.status,
    score: r.score,
    reasons: JSON.parse(r.reasons_json),
    coverage: r.score_coverage,
    missing: r.score_missing,
    enrichedCompanyName: r.enriched_company_name,
    inputCompanyName: r.company_name,
    domain: r.domain,
    signals: r.signals,
    technologies: r.technologies,
    fullName: r.full_name,
    inputTitle: r.title_normalized,
    enrichedTitle: r.enriched_title,
    fieldSources: JSON.parse(r.field_sources_json),
    email: r.email,
    emailStatus: r.email_status,
    phoneE164: r.phone_e164,
    phoneStatus: r.phone_status,
    dedupConfidence: r.dedup_confidence,
    leadId: r.lead_id,
    rowIndex: Number(r.row_index),
    duplicateOf: r.is_duplicate ? r.survivor_id : null,
  });
}

/**
 * The batch's leads in file order, streamed from ClickHouse (FINAL: one row per lead even before
 * ReplacingMergeTree merged redelivered copies), a block of rows at a time, never the whole batch.
 */
export async function* storedLeads(
  ch: ClickHouseClient,
  accountId: string,
  batchId: string,
  includeAll: boolean,
): AsyncGenerator<LeadObject[]> {
  const statusFilter = includeAll ? sql`` : sql`AND status = 'QUALIFIED'`;
  const result = await ch.query({
    query: sql`SELECT status, score, reasons_json, score_coverage, score_missing, field_sources_json,
        enriched_company_name, company_name, domain, signals,
        technologies, full_name, title_normalized, enriched_title, email, email_status, phone_e164,
        phone_status, dedup_confidence, lead_id, row_index, is_duplicate, survivor_id
      FROM leads FINAL
      WHERE account_id = ${accountId} AND batch_id = ${batchId} ${statusFilter}
      ORDER BY row_index, lead_id`.text,
    format: 'JSONEachRow',
  });
  for await (const rows of result.stream<StoredLead>()) {
    yield rows.map((row) => fromStored(row.json()));
  }
}

/** CSV text of one block of lead objects; the header only with the first block. */
export function csvBlock(leads: LeadObject[], withHeader: boolean): string {
  const records = leads.map((o) => {
    const row = csvRow(o);
    return CSV_COLUMNS.map((col) => neutralizeCell(row[col]));
  });
  return stringify(withHeader ? [[...CSV_COLUMNS], ...records] : records);
}
