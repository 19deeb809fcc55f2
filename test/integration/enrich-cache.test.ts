/**
 * Two enrich instances (separate L1 caches) over the real Redis of the local stack: they share the L2
 * cache, the similarity index, the cache counters and the provider rate limits. Provider calls are
 * counted at the sandbox server.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySimilarity } from '../../services/enrich/cache.ts';
import { EnrichConfig } from '../../services/enrich/config.ts';
import { createEnrichContext, type EnrichContext } from '../../services/enrich/context.ts';
import type { LeadInput } from '../../services/enrich/enricher.ts';
import { knows } from '../../services/enrich/sandbox/data.ts';
import { type RunningSandbox, sandboxEnv, startSandbox } from '../../services/enrich/sandbox/server.ts';
import { loadConfig } from '../../services/lib/config.ts';
import { createRedis } from '../../services/lib/redis.ts';
import { freeTcpPort } from '../support/services.ts';

let sandbox: RunningSandbox;
let redis: Redis;
const open: EnrichContext[] = [];

beforeAll(async () => {
  sandbox = await startSandbox();
  redis = createRedis(loadConfig(EnrichConfig).REDIS_URL, 'enrich-cache-test');
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  redis.disconnect();
  await sandbox.close();
});

/** Two instances of one deployment: same key prefix, each with its own process-local L1. */
function deployment(name: string, overrides: Record<string, string> = {}): [EnrichContext, EnrichContext] {
  const cfg = loadConfig(EnrichConfig, {
    ...process.env,
    ...sandboxEnv(sandbox.url),
    LEEDRUSH_PREFIX: `t_enrich_${name}_${process.pid}_${Date.now()}`,
    ENRICH_RETRY_BASE_MS: '20',
    ...overrides,
  });
  const pair: [EnrichContext, EnrichContext] = [
    createEnrichContext(cfg, redis, { dns: null }),
    createEnrichContext(cfg, redis, { dns: null }),
  ];
  open.push(...pair);
  return pair;
}

const sandboxCalls = () =>
  Object.values(sandbox.state.requests).reduce(
    (n, byEndpoint) => n + Object.values(byEndpoint).reduce((a, b) => a + b, 0),
    0,
  );

/** A lead whose person data is complete, so only its company needs enriching. */
const lead = (email: string, over: Partial<LeadInput> = {}): LeadInput => ({
  email,
  email_status: 'deliverable',
  first_name: null,
  last_name: null,
  full_name: 'Known Person',
  title_normalized: 'VP of Sales',
  company_name: null,
  company_key: null,
  domain: email.split('@')[1] ?? null,
  linkedin_url: `https://www.linkedin.com/in/${email.split('@')[0]}`,
  phone_e164: null,
  country: null,
  industry: null,
  employees: null,
  ...over,
});

const COMPANY_FIELDS = ['company_name', 'industry', 'employee_count', 'country'] as const;

describe('shared L2 cache', () => {
  it('serves a company enriched by one instance to the other from Redis, then from its own L1', async () => {
    const [a, b] = deployment('l2');
    const first = await a.enricher.enrich(lead('anna.lee@sharedco.com'));
    expect(first.enrichment.cache_level).toBe('provider');
    expect(first.spent.calls).toBeGreaterThan(0);
    const afterA = sandboxCalls();

    const second = await b.enricher.enrich(lead('ben.moss@sharedco.com'));
    expect(second.enrichment.cache_level).toBe('l2');
    expect(second.spent).toEqual({ calls: 0, cost_usd: 0 });
    expect(sandboxCalls()).toBe(afterA);
    for (const f of COMPANY_FIELDS) {
      expect(second.enrichment[f]).toEqual(first.enrichment[f]);
      expect(second.enrichment.field_sources[f]).toBe(first.enrichment.field_sources[f]);
    }

    const third = await b.enricher.enrich(lead('carla.diaz@sharedco.com'));
    expect(third.enrichment.cache_level).toBe('l1');
    expect(sandboxCalls()).toBe(afterA);

    // Counters are shared: what A did is visible in B's figures.
    await a.cache.flush();
    const stats = await b.cache.stats();
    expect(stats.l1_cache).toMatchObject({ total_hits: 1, total_misses: 2, hit_rate: 1 / 3 });
    expect(stats.l2_cache).toMatchObject({ total_hits: 1, total_misses: 1, hit_rate: 0.5 });
    expect(stats.l1_cache.avg_latency_ms).toBeGreaterThan(0);
    expect(stats.l2_cache.avg_latency_ms).toBeGreaterThan(0);
    expect(stats.cost_savings.api_calls_saved).toBe(2 * first.spent.calls);
    expect(stats.cost_savings.estimated_savings_usd).toBeCloseTo(2 * first.spent.cost_usd, 9);
    expect(stats.similarity_matches).toEqual({ total: 0, threshold: 0.85 });
  });
});

/** A lead with a free-mail address: no company domain, only the company's name. */
const nameOnly = (email: string, company: string) => lead(email, { company_name: company, domain: null });

describe('similarity matches', () => {
  it('serve a lead without a company domain from a cached company with a similar key, and count it', async () => {
    const [a, b] = deployment('sim');
    const seeded = await a.enricher.enrich(lead('anna.lee@northwind.com', { company_name: 'Northwind' }));
    expect(seeded.enrichment.cache_level).toBe('provider');
    const afterSeed = sandboxCalls();

    // A subdomain is the same company: one entry per registrable domain.
    const sub = await b.enricher.enrich(lead('carla.diaz@eu.northwind.com'));
    expect(sub.enrichment.cache_level).toBe('l2');
    expect(sub.enrichment.industry).toBe(seeded.enrichment.industry);

    // A typo of the name, no domain: similarity 1 − 1/9 ≥ 0.85.
    expect(keySimilarity('northwindd', 'northwind')).toBeGreaterThanOrEqual(0.85);
    const typo = await b.enricher.enrich(nameOnly('ben.moss@gmail.com', 'Northwindd Inc'));
    expect(typo.enrichment.cache_level).toBe('similarity');
    expect(typo.enrichment.industry).toBe(seeded.enrichment.industry);
    expect(sandboxCalls()).toBe(afterSeed);

    // Not similar enough, and no domain to ask about: nothing.
    expect(keySimilarity('northway partners', 'northwind')).toBeLessThan(0.85);
    const other = await b.enricher.enrich(nameOnly('dan.fox@gmail.com', 'Northway Partners'));
    expect(other.enrichment.cache_level).toBe('none');
    expect(other.enrichment.industry).toBeNull();
    expect(sandboxCalls()).toBe(afterSeed);

    // With a domain of its own, a similar name does not borrow another company: its domain is asked.
    const ownDomain = await b.enricher.enrich(
      lead('eve.hart@northwind-group.com', { company_name: 'Northwindd Inc' }),
    );
    expect(ownDomain.enrichment.cache_level).toBe('provider');
    expect(sandboxCalls()).toBeGreaterThan(afterSeed);

    await a.cache.flush();
    const stats = await b.cache.stats();
    expect(stats.similarity_matches.total).toBe(1);
    expect(stats.cost_savings.api_calls_saved).toBe(2 * seeded.spent.calls);
  });

  it('honours a configured threshold', async () => {
    const [a, b] = deployment('simstrict', { ENRICH_SIMILARITY_THRESHOLD: '0.95' });
    await a.enricher.enrich(lead('anna.lee@contoso.com', { company_name: 'Contoso' }));
    const near = await b.enricher.enrich(nameOnly('ben.moss@gmail.com', 'Contosso'));
    expect(keySimilarity('contosso', 'contoso')).toBeLessThan(0.95);
    expect(near.enrichment.cache_level).toBe('none');
    expect((await b.cache.stats()).similarity_matches).toEqual({ total: 0, threshold: 0.95 });
  });
});

/** A domain none of the company providers of the sandbox knows. */
function unknownDomain(stem: string): string {
  for (let i = 0; ; i++) {
    const d = `${stem}${i}.com`;
    if (!knows('clearbit', d) && !knows('apollo', d) && !knows('hunter', d)) return d;
  }
}

const companyCalls = () =>
  (sandbox.state.requests.clearbit.company_find ?? 0) +
  (sandbox.state.requests.apollo.organizations_enrich ?? 0) +
  (sandbox.state.requests.hunter.domain_search ?? 0);

describe('negative entries and concurrent leads', () => {
  it('remembers that no provider knows a company, so it is not asked again', async () => {
    const [a, b] = deployment('negative');
    const domain = unknownDomain('nobodyknows');
    const first = await a.enricher.enrich(lead(`anna.lee@${domain}`));
    expect(first.enrichment.company_name).toBeNull();
    expect(first.spent.calls).toBe(3);
    const before = companyCalls();
    const second = await b.enricher.enrich(lead(`ben.moss@${domain}`));
    expect(second.enrichment.cache_level).toBe('l2');
    expect(companyCalls()).toBe(before);
  });

  it('does not remember "nothing" when a provider failed', async () => {
    const [a] = deployment('negfail', { ENRICH_MAX_RETRIES: '0' });
    const domain = unknownDomain('outage');
    await fetch(`${sandbox.url}/__sandbox/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clearbit: { down: true } }),
    });
    try {
      const first = await a.enricher.enrich(lead(`anna.lee@${domain}`));
      expect(first.failures).toContainEqual(
        expect.objectContaining({ provider: 'clearbit', operation: 'company' }),
      );
    } finally {
      await fetch(`${sandbox.url}/__sandbox/config`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ clearbit: { down: false } }),
      });
    }
    const again = await a.enricher.enrich(lead(`ben.moss@${domain}`));
    expect(again.enrichment.cache_level).toBe('provider');
  });

  it('pays once for a company that many concurrent leads share', async () => {
    const [a] = deployment('concurrent');
    const before = companyCalls();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => a.enricher.enrich(lead(`p${i}.x@crowdco.com`))),
    );
    const paid = outcomes.filter((o) => o.spent.calls > 0);
    expect(paid).toHaveLength(1);
    expect(companyCalls() - before).toBe(paid[0]?.spent.calls);
    expect(new Set(outcomes.map((o) => o.enrichment.company_name)).size).toBe(1);
  });
});

describe('shared rate limit', () => {
  it('holds two instances together to the configured calls per second', async () => {
    const [a, b] = deployment('rate', { ENRICH_RATE_HUNTER: '5', ENRICH_BURST: '5' });
    const before = sandbox.state.requests.hunter.email_verifier ?? 0;
    const verify = (ctx: EnrichContext, i: number) =>
      ctx.adapters.get('hunter')?.verifyEmail?.(`p${i}@ratelimited.com`);
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => verify(i % 2 === 0 ? a : b, i)));
    const elapsed = Date.now() - t0;
    expect(results.every((r) => r?.kind === 'found')).toBe(true);
    expect((sandbox.state.requests.hunter.email_verifier ?? 0) - before).toBe(20);
    // 5 go at once (burst), the other 15 at 5 per second across both instances.
    expect(elapsed).toBeGreaterThanOrEqual(2_800);
    const starts = [...a.calls.drain(), ...b.calls.drain()].map((c) => c.started_at).sort((x, y) => x - y);
    expect(starts).toHaveLength(20);
    for (let i = 0; i + 10 < starts.length; i++) {
      // Never more than burst + one second of refill inside any one-second window.
      expect((starts[i + 10] ?? 0) - (starts[i] ?? 0)).toBeGreaterThanOrEqual(1_000 - 50);
    }
  });
});

describe('a Redis outage', () => {
  it('fails the lead, for the runtime to retry, instead of enriching it with less than a quiet run', async () => {
    // Nothing listens on the port: every command fails as it does while the stack's Redis restarts.
    const down = createRedis(`redis://127.0.0.1:${await freeTcpPort()}`, 'enrich-outage-test', {
      commandTimeout: 300,
      maxRetriesPerRequest: 0,
    });
    const cfg = loadConfig(EnrichConfig, {
      ...process.env,
      ...sandboxEnv(sandbox.url),
      LEEDRUSH_PREFIX: `t_enrich_outage_${process.pid}_${Date.now()}`,
    });
    const ctx = createEnrichContext(cfg, down, { dns: null });
    const before = sandboxCalls();
    try {
      // The keyed read is a miss, but without the shared rate limiter no provider may be asked.
      await expect(ctx.enricher.enrich(lead('anna.lee@fabrikam.com'))).rejects.toThrow();
      // No similar company found is an answer of its own, so an unanswered probe is not taken as one.
      await expect(ctx.enricher.enrich(nameOnly('ben.moss@gmail.com', 'Fabrikam'))).rejects.toThrow();
      expect(sandboxCalls()).toBe(before);
    } finally {
      await ctx.close().catch(() => {});
      down.disconnect();
    }
  });
});
