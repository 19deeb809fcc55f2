/**
 * Multi-source validation over HTTP against the sandbox: every provider is asked about one email and
 * the agreement scores follow the documented formula (services/enrich/consensus.ts) for fields the
 * providers agree on, disagree on, and are silent about. Which email shows which case is read from the
 * sandbox's deterministic data.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnrichConfig, reliabilities } from '../../services/enrich/config.ts';
import { createEnrichContext, type EnrichContext } from '../../services/enrich/context.ts';
import { contradicts, knows, omits, truePerson, trueVerdict } from '../../services/enrich/sandbox/data.ts';
import { type RunningSandbox, sandboxEnv, startSandbox } from '../../services/enrich/sandbox/server.ts';
import { clearbitQueued } from '../../services/enrich/sandbox/shapes.ts';
import type { ProviderName } from '../../services/enrich/types.ts';
import { loadConfig } from '../../services/lib/config.ts';
import { createRedis } from '../../services/lib/redis.ts';

let sandbox: RunningSandbox;
let redis: Redis;
let ctx: EnrichContext;
let W: Record<ProviderName, number>;

beforeAll(async () => {
  sandbox = await startSandbox();
  const cfg = loadConfig(EnrichConfig, {
    ...process.env,
    ...sandboxEnv(sandbox.url),
    LEEDRUSH_PREFIX: `t_enrich_multi_${process.pid}_${Date.now()}`,
  });
  W = reliabilities(cfg);
  redis = createRedis(cfg.REDIS_URL, 'enrich-multisource-test');
  ctx = createEnrichContext(cfg, redis, { dns: null });
});

afterAll(async () => {
  await ctx.close();
  redis.disconnect();
  await sandbox.close();
});

const PERSON_PROVIDERS = ['apollo', 'clearbit', 'snov'] as const;
/** Whether a provider reports the person's true title. */
const titleTrue = (p: ProviderName, email: string) =>
  knows(p, email) && !omits(p, email, 'title') && !contradicts(p, email, 'title');

/** The first sandbox email (valid mailbox, not queued by Clearbit) for which `pred` holds. */
function findEmail(tag: string, pred: (email: string) => boolean): string {
  for (let i = 0; i < 10_000; i++) {
    const email = `pat.lee${i}@${tag}${i}.com`;
    if (trueVerdict(email) === 'valid' && !clearbitQueued(email) && pred(email)) return email;
  }
  throw new Error(`no sandbox email for ${tag}`);
}

const total = () =>
  Object.values(sandbox.state.requests).reduce((n, e) => n + Object.values(e).reduce((a, b) => a + b, 0), 0);

describe('multi-source validation', () => {
  it('scores a title all three person sources agree on as 1.0 from 3 sources', async () => {
    const email = findEmail('agree', (e) => PERSON_PROVIDERS.every((p) => titleTrue(p, e)));
    const r = await ctx.enricher.multiSource(email);
    expect(r.lead.title).toBe(truePerson(email).title);
    expect(r.consensus.title).toEqual({ agreement_score: 1, sources: 3 });
    // Hunter, Snov and Apollo all verify the mailbox as deliverable.
    expect(r.consensus.email).toEqual({ agreement_score: 1, sources: 3 });
    expect(r.lead.email).toBe(email);
  });

  it('scores a disagreement by the weighted share of the majority and marks the dissenter', async () => {
    const email = findEmail(
      'disagree',
      (e) =>
        titleTrue('apollo', e) &&
        titleTrue('snov', e) &&
        knows('clearbit', e) &&
        !omits('clearbit', e, 'title') &&
        contradicts('clearbit', e, 'title'),
    );
    const r = await ctx.enricher.multiSource(email);
    expect(r.lead.title).toBe(truePerson(email).title);
    expect(r.consensus.title?.sources).toBe(2);
    expect(r.consensus.title?.agreement_score).toBeCloseTo(
      (W.apollo + W.snov) / (W.apollo + W.clearbit + W.snov),
      12,
    );
    expect(r.sources['sandbox:clearbit']?.agreement).toBe(false);
    expect(r.sources['sandbox:clearbit']?.fields_provided).toContain('title');
  });

  it('leaves a silent source out of the score', async () => {
    const email = findEmail(
      'silent',
      (e) => titleTrue('apollo', e) && titleTrue('snov', e) && !knows('clearbit', e),
    );
    const r = await ctx.enricher.multiSource(email);
    expect(r.consensus.title).toEqual({ agreement_score: 1, sources: 2 });
    expect(r.sources['sandbox:clearbit']?.fields_provided ?? []).not.toContain('title');
    expect(r.validation.coverage).toBeCloseTo(
      ['email', 'name', 'title', 'company', 'phone', 'linkedin'].filter((f) => {
        const c = r.consensus[f];
        return c !== undefined && c.sources > 0;
      }).length / 6,
      12,
    );
    expect(r.validation.confidence_score).toBeGreaterThan(0);
    expect(r.validation.confidence_score).toBeLessThanOrEqual(1);
  });

  it('serves an answer missing a failed provider, but does not cache it', async () => {
    const email = findEmail('outage', () => true);
    const fault = (down: boolean) =>
      fetch(`${sandbox.url}/__sandbox/config`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ hunter: { down } }),
      });
    await fault(true);
    try {
      const during = await ctx.enricher.multiSource(email);
      expect(Object.keys(during.sources)).not.toContain('sandbox:hunter_io');
    } finally {
      await fault(false);
    }
    const after = await ctx.enricher.multiSource(email);
    expect(Object.keys(after.sources)).toContain('sandbox:hunter_io');
  });

  it('answers a repeated request from the cache without asking any provider', async () => {
    const email = findEmail('repeat', () => true);
    const first = await ctx.enricher.multiSource(email);
    const calls = total();
    const again = await ctx.enricher.multiSource(email.toUpperCase());
    expect(again).toEqual(first);
    expect(total()).toBe(calls);
  });

  it('without the sandbox opt-in or a real key, asks no provider and names no source', async () => {
    // The stack's .stack/env may still carry the sandbox keys: they are not keys without ENRICH_SANDBOX.
    const cfg = loadConfig(EnrichConfig, {
      ...process.env,
      ENRICH_SANDBOX: 'false',
      APOLLO_BASE_URL: sandbox.url,
      APOLLO_API_KEY: 'sandbox-apollo-key',
      LEEDRUSH_PREFIX: `t_enrich_multi_none_${process.pid}_${Date.now()}`,
    });
    const bare = createEnrichContext(cfg, redis, { dns: null });
    try {
      expect(bare.mode).toEqual({ kind: 'none' });
      const before = total();
      const r = await bare.enricher.multiSource(findEmail('nokeys', () => true));
      expect(r.sources).toEqual({});
      expect(r.validation.coverage).toBe(0);
      expect(total()).toBe(before);
    } finally {
      await bare.close();
    }
  });
});
