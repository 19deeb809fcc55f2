/**
 * The provider call layer over real HTTP against the sandbox server: Retry-After, 5xx bursts,
 * timeouts, auth errors, a provider that is down (circuit opens, the waterfall moves on) — with the
 * real Redis of the local stack holding the shared rate limit.
 */
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EnrichConfig } from '../../services/enrich/config.ts';
import { createEnrichContext, type EnrichContext } from '../../services/enrich/context.ts';
import type { LeadInput } from '../../services/enrich/enricher.ts';
import { knows } from '../../services/enrich/sandbox/data.ts';
import {
  type FaultPatch,
  type RunningSandbox,
  SANDBOX_KEYS,
  sandboxEnv,
  startSandbox,
} from '../../services/enrich/sandbox/server.ts';
import type { ProviderName } from '../../services/enrich/types.ts';
import { loadConfig } from '../../services/lib/config.ts';
import { createRedis } from '../../services/lib/redis.ts';

let sandbox: RunningSandbox;
let redis: Redis;
const contexts: EnrichContext[] = [];
let run = 0;

beforeAll(async () => {
  sandbox = await startSandbox();
  redis = createRedis(loadConfig(EnrichConfig).REDIS_URL, 'enrich-providers-test');
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
  await fetch(`${sandbox.url}/__sandbox/reset`, { method: 'POST' });
});

afterAll(async () => {
  redis.disconnect();
  await sandbox.close();
});

/** A fresh instance (own breakers, own key prefix) with fast retry settings. */
function instance(overrides: Record<string, string> = {}): EnrichContext {
  const cfg = loadConfig(EnrichConfig, {
    ...process.env,
    ...sandboxEnv(sandbox.url),
    LEEDRUSH_PREFIX: `t_enrich_prov_${process.pid}_${Date.now()}_${run++}`,
    ENRICH_TIMEOUT_MS: '1000',
    ENRICH_MAX_RETRIES: '3',
    ENRICH_RETRY_BASE_MS: '20',
    ENRICH_RATE_APOLLO: '1000',
    ENRICH_RATE_CLEARBIT: '1000',
    ENRICH_RATE_HUNTER: '1000',
    ENRICH_RATE_SNOV: '1000',
    ...overrides,
  });
  const ctx = createEnrichContext(cfg, redis, { dns: null });
  contexts.push(ctx);
  return ctx;
}

async function faults(patch: FaultPatch): Promise<void> {
  const res = await fetch(`${sandbox.url}/__sandbox/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(patch),
  });
  expect(res.status).toBe(200);
}

/** A domain the sandbox's provider has a record for (the sandbox leaves a stable share unknown). */
function knownDomain(provider: ProviderName, stem: string): string {
  for (let i = 0; ; i++) if (knows(provider, `${stem}${i}.com`)) return `${stem}${i}.com`;
}

const requests = (provider: 'apollo' | 'clearbit' | 'hunter' | 'snov', endpoint: string) =>
  sandbox.state.requests[provider][endpoint] ?? 0;

function hunter(ctx: EnrichContext) {
  const a = ctx.adapters.get('hunter');
  if (!a?.verifyEmail) throw new Error('hunter adapter missing');
  return a as Required<Pick<typeof a, 'verifyEmail' | 'http'>> & typeof a;
}

describe('retries', () => {
  it('honours Retry-After in seconds on 429', async () => {
    const ctx = instance();
    await faults({ hunter: { throttle_next: 2, retry_after_s: 1 } });
    const t0 = Date.now();
    const lookup = await hunter(ctx).verifyEmail('anna.lee@retry-seconds.com');
    const elapsed = Date.now() - t0;
    expect(lookup.kind).toBe('found');
    expect(elapsed).toBeGreaterThanOrEqual(2000);
    expect(requests('hunter', 'email_verifier')).toBe(3);
    const log = ctx.calls.drain();
    expect(log.map((c) => c.status)).toEqual([429, 429, 200]);
    // Only the answered call is billed.
    expect(log.map((c) => c.cost_usd)).toEqual([0, 0, 0.01]);
    expect(lookup.spent).toEqual({ calls: 3, cost_usd: 0.01 });
  });

  it('honours Retry-After given as an HTTP date', async () => {
    const ctx = instance();
    await faults({ hunter: { throttle_next: 1, retry_after_s: 2, retry_after_date: true } });
    const t0 = Date.now();
    const lookup = await hunter(ctx).verifyEmail('anna.lee@retry-date.com');
    // The date has one-second resolution, so the wait is between 1 and 2 seconds.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(lookup.kind).toBe('found');
    expect(requests('hunter', 'email_verifier')).toBe(2);
  });

  it('rides out a burst of 5xx and succeeds, leaving the circuit closed', async () => {
    const ctx = instance();
    await faults({ clearbit: { fail_next: 3 } });
    const lookup = await ctx.adapters.get('clearbit')?.company?.(knownDomain('clearbit', 'burst'));
    expect(lookup?.kind).toBe('found');
    expect(requests('clearbit', 'company_find')).toBe(4);
    expect(ctx.calls.drain().map((c) => c.status)).toEqual([503, 503, 503, 200]);
    expect(ctx.adapters.get('clearbit')?.http.breaker.state).toBe('closed');
  });

  it('gives up after the configured retries when the burst outlasts them', async () => {
    const ctx = instance({ ENRICH_MAX_RETRIES: '2' });
    await faults({ clearbit: { fail_next: 5 } });
    const lookup = await ctx.adapters.get('clearbit')?.company?.('longburst.com');
    expect(lookup).toMatchObject({
      kind: 'failed',
      reason: 'server_error',
      spent: { calls: 3, cost_usd: 0 },
    });
    expect(requests('clearbit', 'company_find')).toBe(3);
  });

  it('times out a slow provider per attempt and retries', async () => {
    const ctx = instance({ ENRICH_TIMEOUT_MS: '200', ENRICH_MAX_RETRIES: '1' });
    await faults({ apollo: { latency_ms: 1500 } });
    const t0 = Date.now();
    const lookup = await ctx.adapters.get('apollo')?.company?.('slow.com');
    const elapsed = Date.now() - t0;
    expect(lookup).toMatchObject({ kind: 'failed', reason: 'timeout' });
    expect(elapsed).toBeLessThan(1500);
    expect(requests('apollo', 'organizations_enrich')).toBe(2);
    expect(ctx.calls.drain().map((c) => [c.status, c.error])).toEqual([
      [0, 'timeout'],
      [0, 'timeout'],
    ]);
  });

  it('does not retry an authentication failure', async () => {
    // A key the sandbox does not accept, as a live provider (the sandbox opt-in sets its own keys).
    const ctx = instance({
      ENRICH_SANDBOX: 'false',
      HUNTER_BASE_URL: sandbox.url,
      HUNTER_API_KEY: 'wrong-key',
    });
    const lookup = await hunter(ctx).verifyEmail('anna.lee@auth.com');
    expect(lookup).toMatchObject({ kind: 'failed', reason: 'auth' });
    expect(requests('hunter', 'email_verifier')).toBe(1);
  });
});

describe('sandbox authentication', () => {
  it('answers 401 without the key, as the real APIs do, and 200 with it', async () => {
    const u = sandbox.url;
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${u}${path}`, { headers });
    expect((await get('/api/v1/organizations/enrich?domain=a.com')).status).toBe(401);
    expect(
      (await get('/api/v1/organizations/enrich?domain=a.com', { 'x-api-key': SANDBOX_KEYS.apollo })).status,
    ).toBe(200);
    expect((await get('/v2/companies/find?domain=a.com')).status).toBe(401);
    const basic = `Basic ${Buffer.from(`${SANDBOX_KEYS.clearbit}:`).toString('base64')}`;
    expect([200, 404]).toContain(
      (await get('/v2/companies/find?domain=a.com', { authorization: basic })).status,
    );
    expect((await get('/v2/domain-search?domain=a.com&api_key=nope')).status).toBe(401);
    expect((await get(`/v2/domain-search?domain=a.com&api_key=${SANDBOX_KEYS.hunter}`)).status).toBe(200);
    const token = await fetch(`${u}/v1/oauth/access_token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'x', client_secret: 'y' }),
    });
    expect(token.status).toBe(401);
    const profile = await fetch(`${u}/v1/get-profile-by-email`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-issued' },
      body: new URLSearchParams({ email: 'a@b.com' }),
    });
    expect(profile.status).toBe(401);
  });

  it('changes only the fault fields a configuration names', async () => {
    await faults({ snov: { latency_ms: 5 } });
    await faults({ snov: { throttle_next: 2 } });
    expect(sandbox.state.faults.snov).toMatchObject({ latency_ms: 5, throttle_next: 2, down: false });
  });

  it('rejects a malformed fault configuration', async () => {
    const res = await fetch(`${sandbox.url}/__sandbox/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hunter: { error_rate: 2 } }),
    });
    expect(res.status).toBe(400);
    const unknown = await fetch(`${sandbox.url}/__sandbox/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hunter: { latncy_ms: 5 } }),
    });
    expect(unknown.status).toBe(400);
  });
});

describe('Snov OAuth', () => {
  it('fetches one client-credentials token and reuses it across calls', async () => {
    const ctx = instance();
    const snov = ctx.adapters.get('snov');
    const a = await snov?.verifyEmail?.('anna.lee@snov-token.com');
    const b = await snov?.person?.({ email: 'ben.moss@snov-token.com' });
    expect(a?.kind).toBe('found');
    expect(['found', 'not_found']).toContain(b?.kind);
    expect(requests('snov', 'token')).toBe(1);
    expect(requests('snov', 'add_verification')).toBe(1);
    expect(requests('snov', 'verification_status')).toBe(1);
  });
});

const lead = (email: string, over: Partial<LeadInput> = {}): LeadInput => ({
  email,
  email_status: 'unknown',
  first_name: null,
  last_name: null,
  full_name: null,
  title_normalized: null,
  company_name: null,
  company_key: null,
  domain: email.split('@')[1] ?? null,
  linkedin_url: null,
  phone_e164: null,
  country: null,
  industry: null,
  employees: null,
  ...over,
});

describe('a provider that is down', () => {
  it('opens its circuit; the waterfall moves on and the lead completes with what the others know', async () => {
    const ctx = instance({
      ENRICH_MAX_RETRIES: '1',
      ENRICH_BREAKER_FAILURES: '2',
      ENRICH_BREAKER_COOLDOWN_MS: '60000',
    });
    await faults({ apollo: { down: true } });
    const first = await ctx.enricher.enrich(lead('anna.lee@down-one.com'));
    expect(first.failures).toContainEqual(
      expect.objectContaining({ provider: 'apollo', operation: 'person', reason: 'server_error' }),
    );
    // Two consecutive failed Apollo requests (this lead's person and company lookups, or the next lead's).
    if (ctx.adapters.get('apollo')?.http.breaker.state !== 'open') {
      await ctx.enricher.enrich(lead('ben.moss@down-two.com'));
    }
    expect(ctx.adapters.get('apollo')?.http.breaker.state).toBe('open');
    expect(requests('apollo', 'people_match') + requests('apollo', 'organizations_enrich')).toBe(4);
    const apolloCalls = requests('apollo', 'people_match') + requests('apollo', 'organizations_enrich');

    const third = await ctx.enricher.enrich(lead('carla.diaz@down-three.com'));
    expect(third.failures).toContainEqual(
      expect.objectContaining({ provider: 'apollo', reason: 'circuit_open' }),
    );
    // The open circuit answers at once: nothing more reached Apollo.
    expect(requests('apollo', 'people_match') + requests('apollo', 'organizations_enrich')).toBe(apolloCalls);
    // The others filled the lead: every field names a provider other than Apollo.
    const e = third.enrichment;
    expect(e.company_name).not.toBeNull();
    // Sandbox answers, labelled as such with the provider whose shape they came in.
    expect(e.field_sources.company_name).toMatch(/^sandbox:(clearbit|hunter_io|snov_io)$/);
    expect(Object.values(e.field_sources)).not.toContain('sandbox:apollo_io');
    expect(e.field_sources.email_status).toBe('sandbox:hunter_io');
    expect(e.cache_level).toBe('provider');
  });
});

describe('leads with nothing to match on', () => {
  it('are never sent to a paid provider', async () => {
    const ctx = instance();
    const outcome = await ctx.enricher.enrich(
      lead('not-an-email', { email_status: 'invalid_syntax', domain: null, full_name: 'Jane Doe' }),
    );
    expect(outcome.unmatchable).toBe(true);
    expect(outcome.spent).toEqual({ calls: 0, cost_usd: 0 });
    expect(outcome.enrichment.field_sources).toEqual({ person_name: 'input', email_status: 'input' });
    expect(ctx.calls.size).toBe(0);
    const total = Object.values(sandbox.state.requests).reduce(
      (n, byEndpoint) => n + Object.values(byEndpoint).reduce((a, b) => a + b, 0),
      0,
    );
    expect(total).toBe(0);
  });
});
