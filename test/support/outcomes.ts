/**
 * How every row of a file ended, read the same way from the two modes: the embedded pipeline's result
 * (`npx leedrush run`) and what the services through Kafka wrote to ClickHouse. Tests that claim "the
 * same file gives the same result" (embedded vs Kafka, a run with faults vs one without) compare these.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PipelineResult, runPipeline } from '../../services/embedded/pipeline.ts';
import { embeddedSettings } from '../../services/embedded/settings.ts';
import { type ClickHouseClient, querySql, sql } from '../../services/lib/clickhouse.ts';
import { provenanceKind } from '../../services/lib/provenance.ts';
import { defaultProfile } from '../../services/score/profile.ts';
import type { PipelineRun, RunProviders } from './pipeline.ts';

/** How a row ended, in terms both modes report. */
export interface Outcome {
  rejected: string | null;
  email_status: string | null;
  status: string | null;
  score: number | null;
  /** score.reasons as JSON. */
  reasons: string | null;
  coverage: number | null;
  cache_level: string | null;
  /** Provenance kinds of the lead's enriched fields (input, dns, provider, sandbox), sorted. */
  kinds: string[];
}

/** Outcomes by row index. */
export type Outcomes = Map<number, Outcome>;

const rejected = (r: string): Outcome => ({
  rejected: r,
  email_status: null,
  status: null,
  score: null,
  reasons: null,
  coverage: null,
  cache_level: null,
  kinds: [],
});
const kindsOf = (fieldSources: Record<string, string>) =>
  [...new Set(Object.values(fieldSources).map(provenanceKind))].sort();

/** `bytes` through the embedded pipeline, with the run's DNS and the default ICP profile. */
export async function embeddedOutcomes(
  run: Pick<PipelineRun, 'uploadDir' | 'dns' | 'zone'>,
  bytes: Buffer,
  providers: RunProviders,
): Promise<{ outcomes: Outcomes; result: PipelineResult }> {
  const path = join(run.uploadDir, 'embedded-leads.csv');
  writeFileSync(path, bytes);
  const result = await runPipeline(path, {
    settings: embeddedSettings({
      DNS_SERVERS: run.dns.address,
      DNS_CANARY: run.zone.zone,
      DNS_TIMEOUT_MS: '500',
      DNS_TRIES: '2',
    }),
    profile: defaultProfile(),
    sandbox: providers === 'sandbox',
  });
  const outcomes: Outcomes = new Map();
  for (const f of result.failures) outcomes.set(f.row_index, rejected(`${f.phase}:${f.reason}`));
  for (const l of result.leads) {
    outcomes.set(l.meta.row_index ?? -1, {
      rejected: null,
      email_status: l.verification.email_status,
      status: l.score.status,
      score: l.score.score,
      reasons: JSON.stringify(l.score.reasons),
      coverage: l.score.coverage,
      cache_level: l.enrichment.cache_level,
      kinds: kindsOf(l.enrichment.field_sources),
    });
  }
  return { outcomes, result };
}

/** A batch's rows as the sink wrote them: `leads` and `rejections`, FINAL (each lead once). */
export async function clickhouseOutcomes(
  ch: ClickHouseClient,
  accountId: string,
  batchId: string,
): Promise<Outcomes> {
  const outcomes: Outcomes = new Map();
  const rejections = await querySql<{ row_index: string; phase: string; reason: string }>(
    ch,
    sql`SELECT row_index, phase, reason FROM rejections FINAL WHERE account_id = ${accountId} AND batch_id = ${batchId}`,
  );
  for (const r of rejections) outcomes.set(Number(r.row_index), rejected(`${r.phase}:${r.reason}`));
  const leads = await querySql<{
    row_index: string;
    email_status: string;
    status: string;
    score: number;
    reasons_json: string;
    score_coverage: number | null;
    cache_level: string;
    field_sources_json: string;
  }>(
    ch,
    sql`SELECT row_index, email_status, status, score, reasons_json, score_coverage, cache_level,
          field_sources_json
        FROM leads FINAL WHERE account_id = ${accountId} AND batch_id = ${batchId}`,
  );
  for (const l of leads) {
    outcomes.set(Number(l.row_index), {
      rejected: null,
      email_status: l.email_status,
      status: l.status,
      score: l.score,
      reasons: l.reasons_json,
      coverage: l.score_coverage,
      cache_level: l.cache_level,
      kinds: kindsOf(JSON.parse(l.field_sources_json)),
    });
  }
  return outcomes;
}

/** Provider calls of a batch by status (enrichment_calls): a failed call leaves fields empty in one mode only. */
export async function enrichmentCallStatuses(
  ch: ClickHouseClient,
  batchId: string,
): Promise<{ status: string; n: number }[]> {
  const rows = await querySql<{ status: string; n: string }>(
    ch,
    sql`SELECT status, count() AS n FROM enrichment_calls WHERE batch_id = ${batchId} GROUP BY status`,
  );
  return rows.map((r) => ({ status: r.status, n: Number(r.n) }));
}

export const rowsWith = (m: Outcomes, status: string): number[] =>
  [...m]
    .filter(([, o]) => o.status === status)
    .map(([row]) => row)
    .sort((a, b) => a - b);

export interface OutcomeDifferences {
  /** Rows whose rejection or email verdict differ. */
  verdicts: { row: number; a: Outcome | undefined; b: Outcome | undefined }[];
  /** Scored rows (in `a`) whose status, score, reasons, coverage or provenance kinds differ. */
  endings: { row: number; a: Outcome | undefined; b: Outcome | undefined }[];
  /** Rows of `a` that were scored. */
  scored: number;
}

/**
 * Scores to 1e-9: ClickHouse 18.16's text parser is not correctly rounded, so a score the sink wrote as
 * 7.94 can read back one unit in the last place off (7.9399999999999995).
 */
const scoreKey = (score: number | null | undefined) => (typeof score === 'number' ? score.toFixed(9) : score);

/** Every row of `a` against the same row of `b`. */
export function compareOutcomes(a: Outcomes, b: Outcomes): OutcomeDifferences {
  const verdict = (o: Outcome | undefined) => JSON.stringify({ r: o?.rejected, e: o?.email_status });
  const ending = (o: Outcome | undefined) =>
    JSON.stringify({ s: o?.status, sc: scoreKey(o?.score), r: o?.reasons, c: o?.coverage, k: o?.kinds });
  const verdicts = [...a]
    .filter(([row, o]) => verdict(o) !== verdict(b.get(row)))
    .map(([row, o]) => ({ row, a: o, b: b.get(row) }));
  const scored = [...a].filter(([, o]) => o.score !== null);
  const endings = scored
    .filter(([row, o]) => ending(o) !== ending(b.get(row)))
    .map(([row, o]) => ({ row, a: o, b: b.get(row) }));
  return { verdicts, endings, scored: scored.length };
}
