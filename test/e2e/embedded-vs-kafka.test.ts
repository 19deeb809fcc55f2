import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clickhouseOutcomes,
  compareOutcomes,
  embeddedOutcomes,
  enrichmentCallStatuses,
  type Outcomes,
  rowsWith,
} from '../support/outcomes.ts';
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

async function embedded(run: PipelineRun, providers: RunProviders): Promise<Outcomes> {
  const { outcomes, result } = await embeddedOutcomes(run, bytes, providers);
  expect(result.dns.reachable).toBe(true);
  expect(result.enrichment.mode.kind).toBe(providers);
  if (providers === 'sandbox') expect(result.enrichment.spend.calls).toBeGreaterThan(0);
  else expect(result.enrichment.spend).toEqual({ calls: 0, cost_usd: 0 });
  return outcomes;
}

async function kafka(run: PipelineRun, providers: RunProviders): Promise<Outcomes> {
  const { config, tracker, ch, pipeline, uploadDir } = run;
  const { batch } = await submitUpload(config, tracker, {
    uploadDir,
    accountId: ACCOUNT,
    filename: 'leads.csv',
    bytes,
  });
  const done = await waitForAnnounced(tracker, ACCOUNT, batch.batch_id, 300_000);
  expect(done.status, pipeline.output()).toBe('completed');
  const calls = await enrichmentCallStatuses(ch, batch.batch_id);
  expect(calls.filter((c) => c.status !== 'ok' && c.status !== 'not_found')).toEqual([]);
  const callCount = calls.reduce((n, c) => n + c.n, 0);
  if (providers === 'sandbox') expect(callCount).toBeGreaterThan(0);
  else expect(callCount).toBe(0);
  return clickhouseOutcomes(ch, ACCOUNT, batch.batch_id);
}

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
      const embeddedRows = await embedded(run, providers);
      const kafkaRows = await kafka(run, providers);
      expect([...embeddedRows.keys()].sort((a, b) => a - b)).toEqual([...Array(ROWS).keys()]);
      expect([...kafkaRows.keys()].sort((a, b) => a - b)).toEqual([...Array(ROWS).keys()]);

      const differ = compareOutcomes(embeddedRows, kafkaRows);
      expect(differ.verdicts.length, JSON.stringify(differ.verdicts.slice(0, 10), null, 1)).toBe(0);
      expect([...embeddedRows.values()].filter((o) => o.rejected).length).toBeGreaterThan(ROWS / 100);
      expect(rowsWith(kafkaRows, 'INVALID')).toEqual(rowsWith(embeddedRows, 'INVALID'));
      expect(rowsWith(kafkaRows, 'INVALID').length).toBeGreaterThan(0);
      const dupE = rowsWith(embeddedRows, 'DUPLICATE');
      const dupK = rowsWith(kafkaRows, 'DUPLICATE');
      expect(dupK.length).toBeGreaterThan(ROWS / 25);

      // Past verification: same status, score, reasons, coverage and provenance for every scored row.
      const bySimilarity = [...embeddedRows, ...kafkaRows].filter(([, o]) => o.cache_level === 'similarity');
      expect(bySimilarity.map(([row]) => row)).toEqual([]);
      const scored = [...embeddedRows].filter(([, e]) => e.score !== null);
      expect(differ.endings.length, JSON.stringify(differ.endings.slice(0, 5), null, 1)).toBe(0);
      expect(scored.length).toBeGreaterThan(ROWS * 0.85);
      expect(dupE).toEqual(dupK);
      // The scores really vary (enrichment feeds them): equality above is not equality of constants.
      expect(new Set(scored.map(([, e]) => e.score)).size).toBeGreaterThan(20);
      expect(rowsWith(kafkaRows, 'QUALIFIED').length).toBeGreaterThan(0);
      expect(rowsWith(kafkaRows, 'REJECTED').length).toBeGreaterThan(0);
      // Sandbox values are labelled as such in both; without the sandbox none exists in either.
      const sandboxed = [...embeddedRows, ...kafkaRows].filter(([, o]) => o.kinds.includes('sandbox'));
      if (providers === 'sandbox') expect(sandboxed.length).toBeGreaterThan(scored.length / 2);
      else expect(sandboxed.map(([row]) => row)).toEqual([]);
      const qualified = rowsWith(kafkaRows, 'QUALIFIED').length;
      console.log(
        `embedded vs kafka (${providers}): ${scored.length} scored rows equal in status, score, reasons and coverage; qualified ${qualified}, duplicates ${dupE.length}`,
      );
    }, 420_000);
  },
);
