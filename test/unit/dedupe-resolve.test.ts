import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { enrichedLead, generateDedupDataset } from '../../bench/lib/dedup-dataset.ts';
import type { DedupedLead, EnrichedLead, StandardizedFields } from '../../schemas/generated.ts';
import { BatchIndex, memberOf } from '../../services/dedupe/batch-index.ts';
import { candidatePairs } from '../../services/dedupe/candidates.ts';
import { completeness, connectedGroups } from '../../services/dedupe/cluster.ts';
import { compare, prepare } from '../../services/dedupe/compare.ts';
import {
  DEFAULT_POLICY,
  DEFAULT_SETTINGS,
  DedupeConfig,
  historyOptionsFromEnv,
  policyFromEnv,
  settingsFromEnv,
} from '../../services/dedupe/config.ts';
import { estimateModel } from '../../services/dedupe/estimate.ts';
import { toMatchRecord } from '../../services/dedupe/match-record.ts';
import { DEFAULT_MODEL } from '../../services/dedupe/model.ts';
import { resolveBatch } from '../../services/dedupe/resolve.ts';
import { loadConfig } from '../../services/lib/config.ts';

const base: Partial<StandardizedFields> = {
  first_name: 'Robert',
  last_name: 'Miller',
  email: 'robert.miller@initech.com',
  company_name: 'Initech LLC',
  company_key: 'initech',
  domain: 'initech.com',
  title_normalized: 'Director of Engineering',
  country: 'US',
};
const lead = (
  row: number,
  fields: Partial<StandardizedFields>,
  extra: Partial<Parameters<typeof enrichedLead>[0]> = {},
) => enrichedLead({ lead_id: `batch_test:${row}`, row_index: row, lead: { ...base, ...fields }, ...extra });

const byId = (out: DedupedLead[]) => Object.fromEntries(out.map((l) => [l.meta.lead_id, l]));

describe('batch resolution', () => {
  it('keeps the most complete record, fills its gaps from the duplicates and records which', () => {
    const sparse = lead(0, { phone_e164: null, title_normalized: null, linkedin_url: null });
    const rich = lead(1, { first_name: 'Bob', email: 'bob.miller@gmail.com', phone_e164: '+14155550123' });
    const withLinkedin = lead(2, {
      email: null,
      linkedin_url: 'https://linkedin.com/in/rmiller',
      phone_e164: null,
    });
    const other = lead(3, { first_name: 'Alice', last_name: 'Wong', email: 'alice.wong@initech.com' });
    const { leads, stats } = resolveBatch([other, withLinkedin, rich, sparse], [], DEFAULT_SETTINGS);
    const out = byId(leads);
    expect(leads.map((l) => l.meta.row_index)).toEqual([0, 1, 2, 3]);
    expect(completeness(rich)).toBeGreaterThan(completeness(sparse));
    const survivor = out['batch_test:1'] as DedupedLead;
    expect(survivor.dedup).toMatchObject({ is_duplicate: false, survivor_id: null, cluster_size: 3 });
    expect(survivor.dedup.filled_from).toEqual({ linkedin_url: 'batch_test:2' });
    expect(survivor.lead.linkedin_url).toBe('https://linkedin.com/in/rmiller');
    for (const id of ['batch_test:0', 'batch_test:2']) {
      expect(out[id]?.dedup).toMatchObject({
        is_duplicate: true,
        survivor_id: 'batch_test:1',
        cluster_size: 3,
      });
      expect(out[id]?.dedup.confidence).toBeGreaterThanOrEqual(DEFAULT_SETTINGS.matchThreshold);
    }
    expect(out['batch_test:3']?.dedup).toMatchObject({ is_duplicate: false, confidence: 1, cluster_size: 1 });
    expect(stats).toMatchObject({ leads: 4, clusters: 1, duplicates: 2 });
  });

  it('breaks completeness ties by the smallest row index', () => {
    const out = byId(resolveBatch([lead(7, {}), lead(3, {})], [], DEFAULT_SETTINGS).leads);
    expect(out['batch_test:3']?.dedup.is_duplicate).toBe(false);
    expect(out['batch_test:7']?.dedup.survivor_id).toBe('batch_test:3');
  });

  it('never lets an undeliverable email win: the survivor carries contact data that works', () => {
    const dead = lead(
      0,
      { phone_e164: '+14155550123', linkedin_url: 'x' },
      { verification: { email_status: 'undeliverable' } },
    );
    const alive = lead(1, { first_name: 'Bob' });
    const out = byId(resolveBatch([dead, alive], [], DEFAULT_SETTINGS).leads);
    expect(out['batch_test:1']?.dedup.is_duplicate).toBe(false);
    expect(out['batch_test:1']?.dedup.filled_from).toMatchObject({
      phone: 'batch_test:0',
      linkedin_url: 'batch_test:0',
    });
  });

  it("a survivor's confidence is 1 minus its best match outside its cluster", () => {
    // Same surname, company and title, another first name: compared (shared blocks) but not linked.
    const robert = lead(0, {});
    const rachel = lead(1, { first_name: 'Rachel', email: 'rachel.miller@initech.com' });
    const out = resolveBatch([robert, rachel], [], DEFAULT_SETTINGS).leads;
    const p = compare(
      prepare(toMatchRecord(robert)),
      prepare(toMatchRecord(rachel)),
      DEFAULT_MODEL,
    ).probability;
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(DEFAULT_SETTINGS.possibleThreshold);
    for (const l of out) expect(l.dedup).toMatchObject({ is_duplicate: false, confidence: 1 - p });
  });

  it("marks a lead matching an earlier batch as a duplicate of that batch's survivor", () => {
    const earlier = resolveBatch(
      [
        lead(0, {}, { batch_id: 'batch_old', lead_id: 'batch_old:0' }),
        lead(1, { first_name: 'Bob' }, { batch_id: 'batch_old', lead_id: 'batch_old:1' }),
      ],
      [],
      DEFAULT_SETTINGS,
    );
    expect(earlier.historyEntries.map((e) => e.survivorId)).toEqual(['batch_old:0', 'batch_old:0']);
    const now = [
      lead(0, { first_name: 'Bobby', email: null }),
      lead(1, { first_name: 'Zed', last_name: 'Zulu', email: 'z@zz.io' }),
    ];
    const { leads, stats } = resolveBatch(now, earlier.historyEntries, DEFAULT_SETTINGS);
    expect(leads[0]?.dedup).toMatchObject({ is_duplicate: true, survivor_id: 'batch_old:0' });
    expect(leads[1]?.dedup.is_duplicate).toBe(false);
    expect(stats.historyDuplicates).toBe(1);
    // Resolving the same batch again (a redelivery after a crash) ignores its own index entries.
    const again = resolveBatch(
      now,
      [...earlier.historyEntries, ...resolveBatch(now, [], DEFAULT_SETTINGS).historyEntries],
      DEFAULT_SETTINGS,
    );
    expect(again.leads).toEqual(leads);
  });

  it('stream leads (no batch end) resolve one by one against the history, earlier stream leads included', () => {
    const stream = (row: number, fields: Partial<StandardizedFields>) =>
      lead(row, fields, { batch_id: 'stream_acct', lead_id: `stream_acct:${row}` });
    let history = resolveBatch([stream(0, {})], [], DEFAULT_SETTINGS).historyEntries;
    const second = resolveBatch([stream(1, { first_name: 'Rob', email: null })], history, DEFAULT_SETTINGS);
    expect(second.leads[0]?.dedup).toMatchObject({ is_duplicate: true, survivor_id: 'stream_acct:0' });
    history = [...history, ...second.historyEntries];
    // The first lead redelivered is still the survivor: neither its own entry nor its duplicate's counts.
    const again = resolveBatch([stream(0, {})], history, DEFAULT_SETTINGS);
    expect(again.leads[0]?.dedup.is_duplicate).toBe(false);
  });

  it('union-find groups do not depend on link order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(19), fc.nat(19)), { maxLength: 40 }), (links) => {
        const reversed = [...links].reverse().map(([a, b]) => [b, a] as [number, number]);
        expect(connectedGroups(20, reversed)).toEqual(connectedGroups(20, links));
      }),
    );
  });
});

describe('streaming: survivors do not depend on arrival order or redelivery', () => {
  const data = generateDedupDataset({ seed: 5, leads: 400, batchId: 'batch_test' });
  const reference = resolveBatch(data.leads, [], DEFAULT_SETTINGS).leads;

  it('shuffled, partly redelivered input gives exactly the same output', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray(data.leads, { minLength: data.leads.length, maxLength: data.leads.length }),
        fc.array(fc.nat(data.leads.length - 1), { maxLength: 40 }),
        (shuffled, redelivered) => {
          expect(
            resolveBatch(
              [...shuffled, ...redelivered.map((i) => data.leads[i] as EnrichedLead)],
              [],
              DEFAULT_SETTINGS,
            ).leads,
          ).toEqual(reference);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('an index filled lead by lead decides like the batch at once, oversized blocks included', () => {
    // Blocks over 3 members are compared by sorted neighbourhood: arrival-time comparisons must not leak in.
    const small = { ...DEFAULT_SETTINGS, maxBlockSize: 3, blockWindow: 2 };
    const expected = resolveBatch(data.leads, [], small).leads.map((l) => [
      l.meta.lead_id,
      l.dedup.survivor_id,
      l.dedup.confidence,
      l.dedup.cluster_size,
    ]);
    expect(expected.filter(([, survivor]) => survivor !== null).length).toBeGreaterThan(20);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(data.leads, { minLength: data.leads.length, maxLength: data.leads.length }),
        (shuffled) => {
          const index = new BatchIndex(small);
          for (const l of shuffled) index.add(memberOf(l));
          const decided = index
            .decide([])
            .verdicts.map((v) => [v.member.id, v.survivorId, v.confidence, v.clusterSize]);
          expect(decided).toEqual(expected);
        },
      ),
      { numRuns: 10 },
    );
  });

  it('decides the same while yielding to the event loop between its steps', async () => {
    const index = BatchIndex.of(data.leads, DEFAULT_SETTINGS);
    let turns = 0;
    let deciding = true;
    const turn = () => {
      turns++;
      if (deciding) setImmediate(turn);
    };
    setImmediate(turn);
    const yielded = await index.decideYielding([]);
    deciding = false;
    expect(yielded).toEqual(index.decide([]));
    expect(yielded.stats.duplicates).toBeGreaterThan(0);
    // Once after sorting, after the candidate pairs, after each pass over them: other work ran meanwhile.
    expect(turns).toBeGreaterThanOrEqual(4);
  });

  it('a redelivered lead whose content changed replaces the first version', () => {
    const [first, second] = data.leads as [EnrichedLead, EnrichedLead];
    const changed: EnrichedLead = { ...first, lead: { ...second.lead } };
    const index = new BatchIndex(DEFAULT_SETTINGS);
    for (const l of [first, second, changed]) index.add(memberOf(l));
    expect(index.size).toBe(2);
    const expected = resolveBatch([changed, second], [], DEFAULT_SETTINGS).leads;
    expect(index.decide([]).verdicts.map((v) => [v.member.id, v.isDuplicate, v.survivorId])).toEqual(
      expected.map((l) => [l.meta.lead_id, l.dedup.is_duplicate, l.dedup.survivor_id]),
    );
  });
});

describe('quality and estimation on generated data', () => {
  const data = generateDedupDataset({ seed: 11, leads: 3000 });

  it('finds the known duplicates with high precision and recall', () => {
    const out = resolveBatch(data.leads, [], DEFAULT_SETTINGS).leads;
    const entity = (id: string) => data.entityOf.get(id);
    let predicted = 0;
    let correct = 0;
    for (const l of out) {
      if (!l.dedup.is_duplicate) continue;
      predicted++;
      if (entity(l.meta.lead_id) === entity(l.dedup.survivor_id as string)) correct++;
    }
    const dupRows = data.leads.length - new Set(data.entityOf.values()).size;
    expect(correct / predicted).toBeGreaterThan(0.98);
    expect(correct / dupRows).toBeGreaterThan(0.95);
  });

  it('EM separates matches from non-matches without labels', () => {
    const prepared = data.leads.map((l) => prepare(toMatchRecord(l)));
    const pairs = candidatePairs(prepared, DEFAULT_SETTINGS);
    const fitted = estimateModel(
      pairs.map(
        ([i, j]) =>
          compare(
            prepared[i] as ReturnType<typeof prepare>,
            prepared[j] as ReturnType<typeof prepare>,
            DEFAULT_MODEL,
          ).levels,
      ),
      DEFAULT_MODEL,
    );
    const truePairs = pairs.filter(
      ([i, j]) =>
        data.entityOf.get(prepared[i]?.rec.id as string) === data.entityOf.get(prepared[j]?.rec.id as string),
    ).length;
    expect(fitted.prior).toBeGreaterThan((truePairs / pairs.length) * 0.8);
    expect(fitted.prior).toBeLessThan((truePairs / pairs.length) * 1.2);
    expect(fitted.fields.email.exact.m / fitted.fields.email.exact.u).toBeGreaterThan(50);
    expect(fitted.fields.name.differ.m).toBeLessThan(fitted.fields.name.differ.u);
  });
});

describe('configuration', () => {
  const env = {
    KAFKA_BROKERS: 'k:9092',
    SCHEMA_REGISTRY_URL: 'http://r',
    CLICKHOUSE_URL: 'http://c',
    REDIS_URL: 'redis://x',
  };

  it('reads thresholds and bounds from the environment', () => {
    const parsed = loadConfig(DedupeConfig, { ...env, DEDUP_MATCH_THRESHOLD: '0.95', DEDUP_PRIOR: '0.2' });
    const settings = settingsFromEnv(parsed);
    expect(settings.matchThreshold).toBe(0.95);
    expect(settings.model.prior).toBe(0.2);
    expect(parsed.DEDUP_HISTORY_TTL_DAYS).toBe(90);
    expect(historyOptionsFromEnv({ ...parsed, DEDUP_HISTORY_TTL_DAYS: 2 }).ttlMs).toBe(2 * 86_400_000);
  });

  it('reads the open-batch policy: stream windows by count or idleness, expiry after a TTL', () => {
    expect(policyFromEnv(loadConfig(DedupeConfig, env))).toEqual(DEFAULT_POLICY);
    const parsed = loadConfig(DedupeConfig, {
      ...env,
      DEDUP_STREAM_WINDOW_LEADS: '50',
      DEDUP_STREAM_IDLE_MS: '300',
      DEDUP_OPEN_TTL_MS: '2500',
    });
    expect(policyFromEnv(parsed)).toEqual({ streamWindowLeads: 50, streamIdleMs: 300, openTtlMs: 2500 });
    expect(DedupeConfig.safeParse({ ...env, DEDUP_STREAM_WINDOW_LEADS: '0' }).success).toBe(false);
  });

  it('rejects a possible threshold above the match threshold', () => {
    const r = DedupeConfig.safeParse({
      ...env,
      DEDUP_MATCH_THRESHOLD: '0.6',
      DEDUP_POSSIBLE_THRESHOLD: '0.8',
    });
    expect(r.success).toBe(false);
  });
});
