/**
 * The /api/v1 endpoints report what the test itself caused: cache lookups made through an
 * EnrichmentCache on the gateway's keyspace, predictive events written through the shared counters,
 * and multi-source validations run by the gateway against the provider sandbox, with a real DNS
 * server (dnsmasq) answering for the test domains.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnrichmentCache } from '../../services/enrich/cache.ts';
import { reliabilities } from '../../services/enrich/config.ts';
import { PredictiveCounters } from '../../services/enrich/predictive/counters.ts';
import { PatternDetector } from '../../services/enrich/predictive/patterns.ts';
import { contradicts, knows, omits, truePerson, trueVerdict } from '../../services/enrich/sandbox/data.ts';
import { type RunningSandbox, sandboxEnv, startSandbox } from '../../services/enrich/sandbox/server.ts';
import { clearbitQueued } from '../../services/enrich/sandbox/shapes.ts';
import type { ProviderName } from '../../services/enrich/types.ts';
import { type DnsServer, startDnsServer } from '../support/dns-server.ts';
import { testGateway } from '../support/gateway.ts';

const ZONE = 'leedrush.test';
/** The person sources among the providers multi-source asks (Hunter, Clearbit, Snov). */
const PERSON_PROVIDERS = ['clearbit', 'snov'] as const;
const titleTrue = (p: ProviderName, email: string) =>
  knows(p, email) && !omits(p, email, 'title') && !contradicts(p, email, 'title');

/** The first sandbox email (valid mailbox, not queued by Clearbit) under the test zone for which `pred` holds. */
function findEmail(tag: string, pred: (email: string) => boolean): string {
  for (let i = 0; i < 10_000; i++) {
    const email = `pat.lee${i}@${tag}${i}.${ZONE}`;
    if (trueVerdict(email) === 'valid' && !clearbitQueued(email) && pred(email)) return email;
  }
  throw new Error(`no sandbox email for ${tag}`);
}

const agreeing = findEmail('agree', (e) => PERSON_PROVIDERS.every((p) => titleTrue(p, e)));
const disagreeing = findEmail(
  'disagree',
  (e) =>
    titleTrue('clearbit', e) &&
    knows('snov', e) &&
    !omits('snov', e, 'title') &&
    contradicts('snov', e, 'title'),
);
const repeated = findEmail('repeat', () => true);
const slow = findEmail('slow', () => true);
/** A domain the DNS server has no record of: verify says invalid_domain, no provider is asked. */
const deadDomain = `pat@nowhere.${ZONE}`;

let sandbox: RunningSandbox;
let dns: DnsServer;
let gw: Awaited<ReturnType<typeof testGateway>>;
let token: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  const domains = [agreeing, disagreeing, repeated, slow].map((e) => e.split('@')[1] ?? '');
  dns = await startDnsServer({
    zone: ZONE,
    ttlS: 300,
    mx: domains.map((domain) => ({ domain, host: `mx.${ZONE}`, preference: 10 })),
    a: [{ name: `mx.${ZONE}`, address: '127.0.0.1' }],
  });
  gw = await testGateway('advanced', {
    ...sandboxEnv(sandbox.url),
    DNS_SERVERS: dns.address,
    ENRICH_SIMILARITY_THRESHOLD: '0.8',
  });
  ({ token } = await gw.signUp());
});

afterAll(async () => {
  await gw?.deps.advanced.close();
  await gw?.close();
  await dns?.stop();
  await sandbox?.close();
});

type Json = Record<string, unknown>;
const get = async (path: string) => {
  const res = await gw.json('GET', path, undefined, token);
  return { status: res.status, body: (await res.json()) as Json };
};
const providerRequests = () =>
  Object.values(sandbox.state.requests).reduce((n, e) => n + Object.values(e).reduce((a, b) => a + b, 0), 0);

describe('GET /api/v1/cache/stats', () => {
  it('reports exactly the hits, misses, similarity matches and savings of the lookups made', async () => {
    const opts = {
      origin: 'sandbox' as const,
      l1Max: 100,
      l1MaxBytes: 1024 * 1024,
      l1TtlMs: 60_000,
      l2TtlS: 60,
      similarityThreshold: 0.8,
      statsFlushMs: 60_000,
    };
    const writer = new EnrichmentCache(gw.deps.redis, gw.deps.key, opts);
    const reader = new EnrichmentCache(gw.deps.redis, gw.deps.key, opts);
    const record = {
      fields: { company: 'Acmecorp' },
      sources: { company: 'clearbit' },
      calls: 2,
      cost_usd: 0.13,
    };
    await writer.setCompany('acmecorp.com', { ...record, company_key: 'acmecorp', stored_at: Date.now() });

    expect((await writer.getCompany('acmecorp.com', 'acmecorp'))?.level).toBe('l1');
    expect((await reader.getCompany('acmecorp.com', 'acmecorp'))?.level).toBe('l2');
    expect(await reader.getCompany('nothing-here.com', null)).toBeNull();
    // "acmecorpx" is 8/9 ≈ 0.89 similar to "acmecorp": above the configured 0.8.
    expect((await reader.getCompany('acmecorpx.io', 'acmecorpx'))?.level).toBe('similarity');
    await writer.close();
    await reader.close();

    const { status, body } = await get('/v1/cache/stats');
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['cost_savings', 'l1_cache', 'l2_cache', 'similarity_matches']);
    // L1: the writer's hit; misses: the reader's three first lookups. L2 is asked only after those misses.
    expect(body.l1_cache).toMatchObject({ total_hits: 1, total_misses: 3, hit_rate: 0.25 });
    expect(body.l2_cache).toMatchObject({ total_hits: 1, total_misses: 2, hit_rate: 1 / 3 });
    for (const level of [body.l1_cache, body.l2_cache] as Json[]) {
      expect(Object.keys(level).sort()).toEqual(['avg_latency_ms', 'hit_rate', 'total_hits', 'total_misses']);
      expect(level.avg_latency_ms).toBeGreaterThan(0);
    }
    expect(body.similarity_matches).toEqual({ total: 1, threshold: 0.8 });
    // Three hits, each saving the record's 2 calls and $0.13.
    expect((body.cost_savings as Json).api_calls_saved).toBe(6);
    expect((body.cost_savings as Json).estimated_savings_usd).toBeCloseTo(0.39, 9);
  });
});

describe('GET /api/v1/enrichment/predictive', () => {
  it('reports the patterns, predictions, queue and lead figures written through the counters', async () => {
    const counters = new PredictiveCounters(gw.deps.redis, gw.deps.key);
    const detector = new PatternDetector();
    // b.com twice in a row (sequential), two hosts of d.com (domain pattern), c.com a third time (company batch).
    const rows = ['a.com', 'b.com', 'b.com', 'c.com', 'x.com', 'c.com', 'eu.d.com', 'us.d.com', 'c.com'];
    const predictions = rows.flatMap((domain, row_index) =>
      detector.observe({ batch_id: 'b1', row_index, domain, company_key: null }),
    );
    for (const p of predictions) await counters.predicted(p.pattern);
    // Every prediction but the last is taken up; one of those fails, the others are pre-enriched.
    const taken = predictions.slice(0, -1);
    for (const [i] of taken.entries()) {
      await counters.started();
      await counters.finished(i !== 0);
    }
    await counters.lead(40, { preEnriched: false, calledProvider: true });
    await counters.lead(60, { preEnriched: false, calledProvider: true });
    await counters.lead(2, { preEnriched: true, calledProvider: false });
    await counters.lead(2, { preEnriched: true, calledProvider: false });

    const { status, body } = await get('/v1/enrichment/predictive');
    expect(status).toBe(200);
    expect(detector.counts).toEqual({ company_batch: 1, sequential: 1, domain_pattern: 1 });
    const pre = taken.length - 1;
    expect(body).toEqual({
      patterns_detected: {
        company_batches: detector.counts.company_batch,
        sequential_patterns: detector.counts.sequential,
        domain_patterns: detector.counts.domain_pattern,
      },
      predictions: {
        total_generated: predictions.length,
        pre_enriched: pre,
        success_rate: pre / predictions.length,
      },
      performance: {
        avg_prediction_accuracy: 2 / pre,
        zero_latency_requests: 2,
        // Observed 104 ms; without pre-enrichment the two zero-latency leads would have taken the
        // provider mean (50 ms) instead of what they took.
        throughput_increase: expect.closeTo((104 + 2 * 50) / 104 - 1, 9),
      },
      background_queue: { pending: 1, processing: 0, completed: taken.length },
    });
  });
});

describe('GET /api/v1/validation/multi-source', () => {
  const W = () => reliabilities(gw.config);

  it('answers the consensus of providers that agree, with every source named', async () => {
    const { status, body } = await get(`/v1/validation/multi-source?email=${encodeURIComponent(agreeing)}`);
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['consensus', 'lead', 'sources', 'validation']);
    const lead = body.lead as Json;
    expect(lead.email).toBe(agreeing);
    expect(lead.title).toBe(truePerson(agreeing).title);
    expect(Object.keys(lead).sort()).toEqual(['company', 'email', 'linkedin', 'name', 'phone', 'title']);
    const consensus = body.consensus as Record<string, Json>;
    expect(consensus.title).toEqual({ agreement_score: 1, sources: 2 });
    expect(Object.keys(consensus).sort()).toEqual(['company', 'email', 'linkedin', 'name', 'phone', 'title']);
    // API.md's three sources, labelled sandbox (the gateway opted in); Apollo is not asked here.
    const sources = body.sources as Record<string, Json>;
    expect(Object.keys(sources).sort()).toEqual(['sandbox:clearbit', 'sandbox:hunter_io', 'sandbox:snov_io']);
    for (const [name, source] of Object.entries(sources)) {
      expect(Object.keys(source).sort(), name).toEqual(['agreement', 'confidence', 'fields_provided']);
      expect(source.confidence, name).toBeGreaterThan(0);
    }
    // Every source that reports the mailbox reports the true verdict: full agreement among them.
    const emailSources = Object.values(sources).filter((s) =>
      (s.fields_provided as string[]).includes('email'),
    );
    expect(emailSources.length).toBeGreaterThanOrEqual(2);
    expect(consensus.email).toEqual({ agreement_score: 1, sources: emailSources.length });
    const v = body.validation as Json;
    expect(Object.keys(v).sort()).toEqual(['confidence_score', 'coverage', 'data_quality']);
  });

  it('scores a disagreement by the weighted share of the winning value and marks the dissenter', async () => {
    const { body } = await get(`/v1/validation/multi-source?email=${encodeURIComponent(disagreeing)}`);
    const w = W();
    const title = (body.consensus as Record<string, Json>).title;
    // Clearbit (reliability 0.95) outweighs Snov (0.8): its title wins with its share of the weight.
    expect(title).toEqual({
      agreement_score: expect.closeTo(w.clearbit / (w.clearbit + w.snov), 12),
      sources: 1,
    });
    expect((body.sources as Record<string, Json>)['sandbox:snov_io']?.agreement).toBe(false);
    expect((body.sources as Record<string, Json>)['sandbox:snov_io']?.fields_provided).toContain('title');
    expect((body.lead as Json).title).toBe(truePerson(disagreeing).title);
  });

  it('serves a repeated email from the cache: no provider call, counted as an L1 hit that saved the calls', async () => {
    const before = (await get('/v1/cache/stats')).body;
    const callsBefore = providerRequests();
    const first = await get(`/v1/validation/multi-source?email=${encodeURIComponent(repeated)}`);
    const calls = providerRequests() - callsBefore;
    expect(calls).toBeGreaterThan(0);
    const again = await get(
      `/v1/validation/multi-source?email=${encodeURIComponent(` ${repeated.toUpperCase()} `)}`,
    );
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(providerRequests() - callsBefore).toBe(calls);

    const after = (await get('/v1/cache/stats')).body;
    const d = (section: string, field: string) =>
      ((after[section] as Json)[field] as number) - ((before[section] as Json)[field] as number);
    expect(d('l1_cache', 'total_hits')).toBe(1);
    expect(d('l1_cache', 'total_misses')).toBe(1);
    expect(d('l2_cache', 'total_misses')).toBe(1);
    // The sandbox counts token requests too, which are free and not billed calls: at most that many.
    expect(d('cost_savings', 'api_calls_saved')).toBeGreaterThan(0);
    expect(d('cost_savings', 'api_calls_saved')).toBeLessThanOrEqual(calls);
  });

  it('asks no provider about an address whose domain does not exist (verify runs first)', async () => {
    const callsBefore = providerRequests();
    const { status, body } = await get(`/v1/validation/multi-source?email=${encodeURIComponent(deadDomain)}`);
    expect(status).toBe(200);
    expect(providerRequests()).toBe(callsBefore);
    expect(body.sources).toEqual({});
    expect((body.consensus as Record<string, Json>).email).toEqual({ agreement_score: 0, sources: 0 });
    expect(await dns.queries(`nowhere.${ZONE}`)).toBeGreaterThan(0);
  });

  it('answers 400 for a missing or malformed email', async () => {
    for (const query of ['', '?email=', '?email=not-an-email', '?email=a%40']) {
      const { status, body } = await get(`/v1/validation/multi-source${query}`);
      expect(status, query).toBe(400);
      expect(body.detail).toMatch(/email/);
    }
  });

  it('answers 401 without a token', async () => {
    for (const path of [
      '/v1/cache/stats',
      '/v1/enrichment/predictive',
      `/v1/validation/multi-source?email=${agreeing}`,
    ]) {
      expect((await gw.json('GET', path)).status).toBe(401);
    }
  });

  it('answers 504 when the providers take longer than MULTI_SOURCE_TIMEOUT_MS', async () => {
    const hurried = await testGateway('advanced-504', {
      ...sandboxEnv(sandbox.url),
      DNS_SERVERS: dns.address,
      MULTI_SOURCE_TIMEOUT_MS: '200',
    });
    const fault = (latency_ms: number) =>
      fetch(`${sandbox.url}/__sandbox/config`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ snov: { latency_ms } }),
      });
    try {
      const user = await hurried.signUp();
      await fault(2_000);
      const res = await hurried.json(
        'GET',
        `/v1/validation/multi-source?email=${slow}`,
        undefined,
        user.token,
      );
      expect(res.status).toBe(504);
      expect(((await res.json()) as Json).detail).toMatch(/in time/);
    } finally {
      await fault(0);
      await hurried.deps.advanced.close();
      await hurried.close();
    }
  });
});
