import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../services/embedded/pipeline.ts';
import { embeddedSettings } from '../../services/embedded/settings.ts';
import { querySql, sql } from '../../services/lib/clickhouse.ts';
import { provenanceKind } from '../../services/lib/provenance.ts';
import { defaultProfile } from '../../services/score/profile.ts';
import {
  messyLeadCsv,
  type PipelineRun,
  type RunProviders,
  startPipelineRun,
  submitUpload,
  waitForAnnounced,
} from '../support/pipeline.ts';

// One file, two ways: `npx leedrush run` (the embedded pipeline, one process) and the services through
// Kafka. Same DNS (one dnsmasq), same default ICP profile, same reader, standardizer and verifier, and
// the same Enricher, in both provider modes:
// - sandbox: over the same deterministic sandbox providers (embedded mode starts its own sandbox
//   in-process with --sandbox; the services opt into the run's own sandbox server with ENRICH_SANDBOX;
//   neither has any fault injected, no latency, no rate limit that could refuse a call);
// - none: no provider key and no sandbox, the default: input values and DNS technographics only.
// Every row must end the same way: the same rejection (phase, reason), or the same email verdict,
// status, score, score reasons and evidence coverage.
//
// A lead without a company domain (free-mail address, no website) can get its company only from a
// company with a similar name cached before its batch was received (services/enrich/cache.ts): both runs
// start with empty caches, so no row of either is served that way, and none depends on arrival order.
const ROWS = 3_000;
const ACCOUNT = 'acct_e2e_equivalence';
const bytes = messyLeadCsv(ROWS, 7);

/** How a row ended, in terms both modes report. */
interface Outcome {
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

async function embeddedOutcomes(run: PipelineRun, providers: RunProviders): Promise<Map<number, Outcome>> {
  const { uploadDir, dns, zone } = run;
  const path = join(uploadDir, 'leads.csv');
  writeFileSync(path, bytes);
  const result = await runPipeline(path, {
    settings: embeddedSettings({
      DNS_SERVERS: dns.address,
      DNS_CANARY: zone.zone,
      DNS_TIMEOUT_MS: '500',
      DNS_TRIES: '2',
    }),
    profile: defaultProfile(),
    sandbox: providers === 'sandbox',
  });
  expect(result.dns.reachable).toBe(true);
  const out = new Map<number, Outcome>();
  for (const f of result.failures) out.set(f.row_index, rejected(`${f.phase}:${f.reason}`));
  for (const l of result.leads) {
    out.set(l.meta.row_index ?? -1, {
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
  expect(result.enrichment.mode.kind).toBe(providers);
  if (providers === 'sandbox') expect(result.enrichment.spend.calls).toBeGreaterThan(0);
  else expect(result.enrichment.spend).toEqual({ calls: 0, cost_usd: 0 });
  return out;
}

async function kafkaOutcomes(run: PipelineRun, providers: RunProviders): Promise<Map<number, Outcome>> {
  const { config, tracker, ch, pipeline, uploadDir } = run;
  const { batch } = await submitUpload(config, tracker, {
    uploadDir,
    accountId: ACCOUNT,
    filename: 'leads.csv',
    bytes,
  });
  const done = await waitForAnnounced(tracker, ACCOUNT, batch.batch_id, 300_000);
  expect(done.status, pipeline.output()).toBe('completed');
  const id = batch.batch_id;
  const out = new Map<number, Outcome>();
  const rejections = await querySql<{ row_index: string; phase: string; reason: string }>(
    ch,
    sql`SELECT row_index, phase, reason FROM rejections FINAL WHERE account_id = ${ACCOUNT} AND batch_id = ${id}`,
  );
  for (const r of rejections) out.set(Number(r.row_index), rejected(`${r.phase}:${r.reason}`));
  // No provider call of the run failed (a failure would leave fields empty in one mode only).
  const calls = await querySql<{ status: string; n: string }>(
    ch,
    sql`SELECT status, count() AS n FROM enrichment_calls WHERE batch_id = ${id} GROUP BY status`,
  );
  expect(calls.filter((c) => c.status !== 'ok' && c.status !== 'not_found')).toEqual([]);
  const callCount = calls.reduce((n, c) => n + Number(c.n), 0);
  if (providers === 'sandbox') expect(callCount).toBeGreaterThan(0);
  else expect(callCount).toBe(0);
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
        FROM leads FINAL WHERE account_id = ${ACCOUNT} AND batch_id = ${id}`,
  );
  for (const l of leads) {
    out.set(Number(l.row_index), {
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
  return out;
}

const rowsWith = (m: Map<number, Outcome>, status: string) =>
  [...m]
    .filter(([, o]) => o.status === status)
    .map(([row]) => row)
    .sort((a, b) => a - b);

describe.each<RunProviders>(['sandbox', 'none'])(
  'embedded pipeline and the services through Kafka, providers: %s',
  (providers) => {
    let run: PipelineRun | undefined;
    beforeAll(async () => {
      run = await startPipelineRun(`e2e_equivalence_${providers}`, bytes, { providers });
    }, 240_000);
    afterAll(() => run?.close(), 120_000);

    it('end every row the same way: same rejection or email verdict, and same status, score, reasons and coverage', async () => {
      if (!run) throw new Error('pipeline not started');
      const embedded = await embeddedOutcomes(run, providers);
      const kafka = await kafkaOutcomes(run, providers);
      expect([...embedded.keys()].sort((a, b) => a - b)).toEqual([...Array(ROWS).keys()]);
      expect([...kafka.keys()].sort((a, b) => a - b)).toEqual([...Array(ROWS).keys()]);

      const verdict = (o: Outcome | undefined) => ({ rejected: o?.rejected, email_status: o?.email_status });
      const differ = [...embedded].filter(
        ([row, e]) => JSON.stringify(verdict(e)) !== JSON.stringify(verdict(kafka.get(row))),
      );
      const sample = differ.slice(0, 10).map(([row, e]) => ({ row, embedded: e, kafka: kafka.get(row) }));
      expect(differ.length, JSON.stringify(sample, null, 1)).toBe(0);
      expect([...embedded.values()].filter((o) => o.rejected).length).toBeGreaterThan(ROWS / 100);
      expect(rowsWith(kafka, 'INVALID')).toEqual(rowsWith(embedded, 'INVALID'));
      expect(rowsWith(kafka, 'INVALID').length).toBeGreaterThan(0);
      const dupE = rowsWith(embedded, 'DUPLICATE');
      const dupK = rowsWith(kafka, 'DUPLICATE');
      expect(dupK.length).toBeGreaterThan(ROWS / 25);

      // Past verification: same status, score and reasons for every scored row.
      const bySimilarity = [...embedded, ...kafka].filter(([, o]) => o.cache_level === 'similarity');
      expect(bySimilarity.map(([row]) => row)).toEqual([]);
      const scored = [...embedded].filter(([, e]) => e.score !== null);
      const ending = (o: Outcome | undefined) => ({
        status: o?.status,
        score: o?.score,
        reasons: o?.reasons,
        coverage: o?.coverage,
        kinds: o?.kinds,
      });
      const endsDiffer = scored.filter(
        ([row, e]) => JSON.stringify(ending(e)) !== JSON.stringify(ending(kafka.get(row))),
      );
      const endSample = endsDiffer
        .slice(0, 5)
        .map(([row, e]) => ({ row, embedded: e, kafka: kafka.get(row) }));
      expect(endsDiffer.length, JSON.stringify(endSample, null, 1)).toBe(0);
      expect(scored.length).toBeGreaterThan(ROWS * 0.85);
      expect(dupE).toEqual(dupK);
      // The scores really vary (enrichment feeds them): equality above is not equality of constants.
      expect(new Set(scored.map(([, e]) => e.score)).size).toBeGreaterThan(20);
      expect(rowsWith(kafka, 'QUALIFIED').length).toBeGreaterThan(0);
      expect(rowsWith(kafka, 'REJECTED').length).toBeGreaterThan(0);
      // Sandbox values are labelled as such in both; without the sandbox none exists in either.
      const sandboxed = [...embedded, ...kafka].filter(([, o]) => o.kinds.includes('sandbox'));
      if (providers === 'sandbox') expect(sandboxed.length).toBeGreaterThan(scored.length / 2);
      else expect(sandboxed.map(([row]) => row)).toEqual([]);
      const qualified = rowsWith(kafka, 'QUALIFIED').length;
      console.log(
        `embedded vs kafka (${providers}): ${scored.length} scored rows equal in status, score, reasons and coverage; qualified ${qualified}, duplicates ${dupE.length}`,
      );
    }, 420_000);
  },
);
