-- The first schema of the analytics database. Runs on ClickHouse 18.16 (the local stack) and on current
-- ClickHouse: plain types, DateTime('UTC') so that literals mean UTC on every server, no LowCardinality,
-- DateTime64, TTL or codecs. Every statement may be re-run (IF NOT EXISTS): ClickHouse has no
-- transactions, so a file that failed half-way is applied again from its first statement.
--
-- No column has a DEFAULT: 18.16 fills a field missing from a JSONEachRow insert with the type's zero
-- value ('' or 0) and ignores DEFAULT (input_format_defaults_for_omitted_fields came later), while
-- current servers apply it. To get the same rows on both, writers send every column.
--
-- Why ReplacingMergeTree: the pipeline delivers at least once, so the sink may insert the same lead,
-- rejection, batch state or usage event more than once. ReplacingMergeTree collapses rows with the same
-- sorting key, keeping the one with the highest version column (the last inserted without one), but only
-- when parts merge, which happens at an unknown later time. Queries that need exact answers therefore read
-- with FINAL, which merges on the fly:
--     SELECT status, count() FROM leads FINAL WHERE account_id = 'acc' AND batch_id = 'b' GROUP BY status
-- Rows only merge inside one partition, so these tables are not partitioned: a partition key computed
-- from a timestamp that a redelivery could change would keep duplicates apart for ever.
-- Append-only logs (enrichment_calls, webhook_deliveries) are plain MergeTree, partitioned by month so old
-- months can be dropped (18.16 has no TTL).

-- One row per lead that reached the end of the pipeline (any status): the lead object of the public API
-- plus everything the phases found. Keyed by tenant first so per-account reads scan only its range.
-- version: milliseconds at which the sink wrote the row; a redelivery writes the same lead again.
CREATE TABLE IF NOT EXISTS leads (
  account_id String,
  batch_id String,
  lead_id String,
  row_index Int64,
  source String,
  received_at DateTime('UTC'),

  status String,
  score Float64,
  reasons_json String,

  email Nullable(String),
  email_display Nullable(String),
  first_name Nullable(String),
  last_name Nullable(String),
  full_name Nullable(String),
  honorific Nullable(String),
  name_suffix Nullable(String),
  title_raw Nullable(String),
  title_normalized Nullable(String),
  seniority String,
  department String,
  phone_e164 Nullable(String),
  phone_raw Nullable(String),
  linkedin_url Nullable(String),
  city Nullable(String),
  country Nullable(String),

  company_name Nullable(String),
  company_key Nullable(String),
  domain Nullable(String),
  website Nullable(String),
  industry Nullable(String),
  employees Nullable(String),
  extras_json String,

  email_status String,
  email_reason String,
  email_free_provider UInt8,
  email_role UInt8,
  email_disposable UInt8,
  email_suggestion Nullable(String),
  mx_hosts Array(String),
  phone_status String,
  phone_line_type Nullable(String),

  enriched_company_name Nullable(String),
  enriched_industry Nullable(String),
  enriched_employee_count Nullable(Int64),
  enriched_country Nullable(String),
  signals Array(String),
  technologies Array(String),
  enriched_title Nullable(String),
  enriched_linkedin Nullable(String),
  field_sources_json String,
  enrichment_confidence Float64,
  multi_source UInt8,
  cache_level String,

  is_duplicate UInt8,
  survivor_id Nullable(String),
  dedup_confidence Float64,
  cluster_size UInt32,

  scored_at DateTime('UTC'),
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (account_id, batch_id, lead_id);

-- One row per rejected row or lead, with the row as read so nothing is lost. The key holds lead_id
-- (which already names its batch); account_id and batch_id lead it for per-tenant, per-batch reads.
CREATE TABLE IF NOT EXISTS rejections (
  account_id String,
  batch_id String,
  lead_id String,
  row_index Nullable(Int64),
  line_number Nullable(Int64),
  phase String,
  reason String,
  detail String,
  original_json String,
  rejected_at DateTime('UTC'),
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (account_id, batch_id, lead_id);

-- Batch history: every state change inserts a full row with a higher version (milliseconds of the
-- change); FINAL returns the latest state of each batch.
CREATE TABLE IF NOT EXISTS batches (
  account_id String,
  batch_id String,
  status String,
  filename String,
  file_path String,
  source String,
  rows_total UInt64,
  rows_processed UInt64,
  rows_qualified UInt64,
  rows_failed UInt64,
  rows_duplicate UInt64,
  quality_yield Float64,
  credits_charged UInt64,
  error_reason Nullable(String),
  created_at DateTime('UTC'),
  started_at Nullable(DateTime('UTC')),
  completed_at Nullable(DateTime('UTC')),
  updated_at DateTime('UTC'),
  version UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (account_id, batch_id);

-- Every credit movement (usage.events). event_id is the idempotency key; an event belongs to one account,
-- so keying by (account_id, event_id) collapses exactly the same rows as event_id alone while letting
-- billing read one account's range.
CREATE TABLE IF NOT EXISTS usage_events (
  account_id String,
  event_id String,
  kind String,
  credits Int64,
  balance_after Int64,
  batch_id Nullable(String),
  lead_id Nullable(String),
  reference Nullable(String),
  occurred_at DateTime('UTC')
) ENGINE = ReplacingMergeTree()
ORDER BY (account_id, event_id);

-- One row per call to an enrichment provider (or cache answer), for cost and latency analysis.
-- status: ok | not_found | error | timeout | rate_limited; http_status 0 when no response came.
CREATE TABLE IF NOT EXISTS enrichment_calls (
  ts DateTime('UTC'),
  provider String,
  endpoint String,
  account_id String,
  batch_id String,
  lead_id String,
  status String,
  http_status UInt16,
  latency_ms UInt32,
  cost Float64,
  cache_level String
) ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (provider, ts);

-- One row per webhook delivery attempt. status_code 0 when no response came (timeout, refused).
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  ts DateTime('UTC'),
  delivery_id String,
  endpoint_id String,
  account_id String,
  event_id String,
  event String,
  attempt UInt16,
  status_code UInt16,
  success UInt8,
  error String,
  latency_ms UInt32
) ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (account_id, endpoint_id, ts);
