-- The evidence behind a lead's score (Score.coverage and Score.missing, services/score/score.ts). Where
-- each enriched value came from needs no column: field_sources_json holds the provenance labels
-- (services/lib/provenance.ts), which the API download turns into the lead object's `provenance`.
--
-- One ALTER, alone in its file: 18.16 has no ADD COLUMN IF NOT EXISTS, so a re-run after a failure
-- must start from this statement (topology/migrations.ts). Rows written before it read NULL coverage
-- ("not measured") and no missing factors; the sink sends both columns on every insert.
ALTER TABLE leads
  ADD COLUMN score_coverage Nullable(Float64) AFTER reasons_json,
  ADD COLUMN score_missing Array(String) AFTER score_coverage;
