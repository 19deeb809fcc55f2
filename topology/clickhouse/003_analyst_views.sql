-- Views for analysts (docs/analysts.md says how to use them) and for the ClickHouse panels of the
-- Grafana dashboards. Plain views: nothing is stored twice, every read sees the tables as they are.
--
-- The lead, rejection, batch and usage tables are ReplacingMergeTree, so a redelivered row stays a second
-- row until parts merge. Every view over them therefore reads FINAL, which collapses duplicates on the
-- fly: a count from a view is exact, whatever the merges have done. Views resolve their tables when they
-- are created, in the database the migration runs in. 18.16 rules: one JOIN per SELECT (joins nest), no
-- LowCardinality, no DateTime64.

-- Yield per batch: what became of every row, counted from the result tables (the batch tracker counts
-- the same rows in Redis; the two agree). rows_total = leads + rejections, the rows that finished;
-- quality_yield is qualified / rows_total × 100 like the batch object's. Batch metadata (file, status,
-- times) comes from the batches table; processing_seconds is empty until the batch completed.
CREATE VIEW IF NOT EXISTS batch_yield AS
SELECT
  account_id,
  batch_id,
  filename,
  status,
  created_at,
  started_at,
  completed_at,
  if(isNull(completed_at) OR isNull(started_at), NULL, toInt64(completed_at) - toInt64(started_at))
    AS processing_seconds,
  rows_total,
  rows_qualified,
  rows_rejected,
  rows_invalid,
  rows_duplicate,
  rows_rejected_in_phase,
  if(rows_total = 0, 0, round(rows_qualified / rows_total * 100, 1)) AS quality_yield
FROM (
  -- One row per finished row of the file (a lead or a rejection), summed per batch: a UNION rather
  -- than a join, so a batch whose every row was rejected early still has its line.
  SELECT
    account_id,
    batch_id,
    count() AS rows_total,
    sum(is_qualified) AS rows_qualified,
    sum(is_rejected) AS rows_rejected,
    sum(is_invalid) AS rows_invalid,
    sum(is_duplicate) AS rows_duplicate,
    sum(is_rejection) AS rows_rejected_in_phase
  FROM (
    SELECT
      account_id,
      batch_id,
      toUInt64(status = 'QUALIFIED') AS is_qualified,
      toUInt64(status = 'REJECTED') AS is_rejected,
      toUInt64(status = 'INVALID') AS is_invalid,
      toUInt64(status = 'DUPLICATE') AS is_duplicate,
      toUInt64(0) AS is_rejection
    FROM leads FINAL
    UNION ALL
    SELECT account_id, batch_id, toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(1)
    FROM rejections FINAL
    WHERE reason != 'batch_failed'
  )
  GROUP BY account_id, batch_id
)
ANY LEFT JOIN (
  SELECT account_id, batch_id, filename, status, created_at, started_at, completed_at
  FROM batches FINAL
) USING (account_id, batch_id);

-- Yield per account over all its batches.
CREATE VIEW IF NOT EXISTS account_yield AS
SELECT
  account_id,
  count() AS batches,
  sum(rows_total) AS rows_total,
  sum(rows_qualified) AS rows_qualified,
  sum(rows_rejected) AS rows_rejected,
  sum(rows_invalid) AS rows_invalid,
  sum(rows_duplicate) AS rows_duplicate,
  sum(rows_rejected_in_phase) AS rows_rejected_in_phase,
  -- rows_total and rows_qualified here name the sums above.
  if(rows_total = 0, 0, round(rows_qualified / rows_total * 100, 1)) AS quality_yield
FROM batch_yield
GROUP BY account_id;

-- Why rows left the pipeline early: one row per batch, phase and reason (a whole-batch failure counts
-- once, under phase ingest, reason batch_failed).
CREATE VIEW IF NOT EXISTS rejection_reasons AS
SELECT account_id, batch_id, phase, reason, count() AS rows
FROM rejections FINAL
GROUP BY account_id, batch_id, phase, reason;

-- Email verification outcome per batch: how many leads got each email_status.
CREATE VIEW IF NOT EXISTS email_status_mix AS
SELECT account_id, batch_id, email_status, count() AS leads
FROM leads FINAL
GROUP BY account_id, batch_id, email_status;

-- Phone verification outcome per batch: how many leads got each phone_status.
CREATE VIEW IF NOT EXISTS phone_status_mix AS
SELECT account_id, batch_id, phone_status, count() AS leads
FROM leads FINAL
GROUP BY account_id, batch_id, phone_status;

-- Enrichment provider calls and their cost, per day, account and provider. enrichment_calls is an
-- append-only log (one row per call), so it needs no FINAL. errors: every status that is not an answer.
CREATE VIEW IF NOT EXISTS provider_cost AS
SELECT
  toDate(ts) AS day,
  account_id,
  provider,
  count() AS calls,
  countIf(status IN ('error', 'timeout', 'rate_limited')) AS errors,
  countIf(status = 'not_found') AS not_found,
  sum(cost) AS cost_usd,
  round(avg(latency_ms), 1) AS avg_latency_ms
FROM enrichment_calls
GROUP BY day, account_id, provider;

-- Credit movements per day, account and kind (consume | grant | topup | refund | reset). credits is
-- signed: consumption is negative; credits_net is the signed sum, credits_consumed the consumption as a
-- positive count.
CREATE VIEW IF NOT EXISTS usage_by_day AS
SELECT
  toDate(occurred_at) AS day,
  account_id,
  kind,
  count() AS events,
  sum(credits) AS credits_net,
  sumIf(-credits, kind = 'consume') AS credits_consumed
FROM usage_events FINAL
GROUP BY day, account_id, kind;
