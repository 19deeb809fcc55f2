// Generated from schemas/*.avsc by schemas/generate-types.ts. Do not edit.

/** One lead as any producer sends it (topic leads.raw). Only account_id is required. */
export interface RawLead {
  account_id: string;
  /** Absent: the lead joins the account's open stream batch. */
  batch_id: null | string;
  /** 0-based position in the uploaded file; null for direct producers. */
  row_index: null | number;
  /** csv | json | ndjson | api | kafka */
  source: string;
  received_at: number;
  email: null | string;
  first_name: null | string;
  last_name: null | string;
  full_name: null | string;
  title: null | string;
  company: null | string;
  website: null | string;
  phone: null | string;
  country: null | string;
  city: null | string;
  linkedin_url: null | string;
  industry: null | string;
  employees: null | string;
  /** Columns the header mapping did not recognise, by original header. */
  extras: Record<string, string>;
}

/** Topic leads.standardized. */
export interface StandardizedLead {
  meta: LeadMeta;
  lead: StandardizedFields;
}

/** Identity and provenance of a lead, carried unchanged from standardize to score. */
export interface LeadMeta {
  /** Stable id: <batch_id>:<row_index>, or a hash of the raw record's topic/partition/offset for direct producers. */
  lead_id: string;
  account_id: string;
  batch_id: string;
  row_index: number;
  /** csv | json | ndjson | api | kafka */
  source: string;
  received_at: number;
}

/** Every lead field after phase 2. Null means the input had no usable value. */
export interface StandardizedFields {
  /** Lower-cased, ASCII (punycode) domain. */
  email: null | string;
  /** Unicode form for display. */
  email_display: null | string;
  first_name: null | string;
  last_name: null | string;
  full_name: null | string;
  honorific: null | string;
  name_suffix: null | string;
  title_raw: null | string;
  title_normalized: null | string;
  /** C-level | VP | Director | Manager | Senior | Entry | Unknown */
  seniority: string;
  /** Sales | Marketing | Engineering | Product | Finance | HR | Operations | IT | Legal | Executive | Other */
  department: string;
  company_name: null | string;
  /** Matching key: lower-case, no legal suffix, no punctuation. */
  company_key: null | string;
  /** Registrable domain (Public Suffix List). */
  domain: null | string;
  website: null | string;
  /** ISO 3166-1 alpha-2. */
  country: null | string;
  phone_e164: null | string;
  phone_raw: null | string;
  linkedin_url: null | string;
  city: null | string;
  industry: null | string;
  employees: null | string;
  extras: Record<string, string>;
}

/** Topic leads.verified. */
export interface VerifiedLead {
  meta: LeadMeta;
  lead: StandardizedFields;
  verification: Verification;
}

/** Phase 3 verdicts. Verification annotates; it never drops a lead. */
export interface Verification {
  /** verified_deliverable | deliverable | accept_all | disposable | role_account | invalid_syntax | invalid_domain | undeliverable | unknown | missing */
  email_status: string;
  email_reason: string;
  email_free_provider: boolean;
  email_role: boolean;
  email_disposable: boolean;
  email_suggestion: null | string;
  mx_hosts: Array<string>;
  /** mobile_valid | landline_valid | voip_valid | tollfree_valid | other_valid | mobile_active | disconnected | invalid | missing */
  phone_status: string;
  phone_line_type: null | string;
}

/** Topic leads.enriched. */
export interface EnrichedLead {
  meta: LeadMeta;
  lead: StandardizedFields;
  verification: Verification;
  enrichment: Enrichment;
}

/** Phase 4 output. Every enriched field records the source it came from. */
export interface Enrichment {
  company_name: null | string;
  industry: null | string;
  employee_count: null | number;
  country: null | string;
  signals: Array<string>;
  technologies: Array<string>;
  person_title: null | string;
  person_linkedin: null | string;
  /** field name -> where its value came from: input | dns | apollo_io | clearbit | hunter_io | snov_io | sandbox:<provider> (invented by the provider sandbox); see services/lib/provenance.ts */
  field_sources: Record<string, string>;
  confidence: number;
  multi_source: boolean;
  /** l1 | l2 | similarity | predictive | provider | none */
  cache_level: string;
}

/** Topic leads.deduped. */
export interface DedupedLead {
  meta: LeadMeta;
  lead: StandardizedFields;
  verification: Verification;
  enrichment: Enrichment;
  dedup: Dedup;
}

export interface Dedup {
  is_duplicate: boolean;
  /** For a duplicate: the lead_id of its cluster's survivor. */
  survivor_id: null | string;
  /** Survivor: 1 - best match probability. Duplicate: the match probability. */
  confidence: number;
  cluster_size: number;
  /** Survivor only: field it took from a duplicate -> that duplicate's lead_id. */
  filled_from: Record<string, string>;
}

/** Topic leads.scored: everything the lead object of the public API needs. */
export interface ScoredLead {
  meta: LeadMeta;
  lead: StandardizedFields;
  verification: Verification;
  enrichment: Enrichment;
  dedup: Dedup;
  score: Score;
}

export interface Score {
  /** QUALIFIED | REJECTED | INVALID | DUPLICATE */
  status: string;
  score: number;
  reasons: Array<ScoreReason>;
  /** Evidence: the share (0..1) of the profile's active weight whose input was known; null when scored before coverage was measured. */
  coverage: null | number;
  /** Active factors whose input was unknown (they contributed nothing), in factor order. */
  missing: Array<string>;
}

export interface ScoreReason {
  factor: string;
  contribution: number;
}

/** Topic leads.failed: a row or lead that failed validation in some phase. Counted, stored, never retried. */
export interface LeadRejection {
  lead_id: string;
  account_id: string;
  batch_id: string;
  row_index: null | number;
  /** 1-based line in the uploaded file where the row starts, when known. */
  line_number: null | number;
  /** ingest | standardize | verify | enrich | dedupe | score */
  phase: string;
  /** Machine-readable code, e.g. unreadable_row, missing_email. */
  reason: string;
  detail: string;
  /** The row as read, by column name (or raw_line for unreadable rows). */
  original: Record<string, string>;
  rejected_at: number;
}

/** Topic batches.requests: the gateway asks ingest to read an uploaded file or API-pushed leads. */
export interface BatchRequest {
  batch_id: string;
  account_id: string;
  /** Logical path inside the account's upload store. */
  file_path: string;
  filename: string;
  /** csv | json | ndjson */
  format: string;
  rows_total: number;
  /** csv | json | ndjson | api */
  source: string;
  requested_at: number;
}

/** Topic usage.events: every credit movement, so balances can be audited and rebuilt. */
export interface UsageEvent {
  /** Idempotency key: the same movement always has the same id. */
  event_id: string;
  account_id: string;
  /** consume | grant | topup | refund | reset */
  kind: string;
  /** Signed: negative for consumption. */
  credits: number;
  balance_after: number;
  batch_id: null | string;
  lead_id: null | string;
  /** Stripe object id for payments. */
  reference: null | string;
  occurred_at: number;
}

/** Topic webhooks.outbox: an event to deliver to every endpoint of the account subscribed to it. */
export interface WebhookEvent {
  /** Delivered at most once successfully per endpoint. */
  event_id: string;
  account_id: string;
  /** batch.completed | batch.failed | lead.qualified | credits.low | credits.exhausted | subscription.upgraded | topup.completed */
  event: string;
  batch_id: null | string;
  /** The event's data object as JSON, exactly as sent in the body. */
  data_json: string;
  occurred_at: number;
}
