/**
 * A lead's enrichment is a function of the lead and of the providers' answers, not of the leads that
 * came before it: the same leads in file order, in reverse, all at once, and with the caches in Redis
 * or in the process (embedded mode) must come out the same. Sandbox providers without faults.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Enrichment } from '../../schemas/generated.ts';
import { EnrichConfig } from '../../services/enrich/config.ts';
import { createEnrichContext, type EnrichContext } from '../../services/enrich/context.ts';
import type { EnrichOutcome, LeadInput } from '../../services/enrich/enricher.ts';
import { type RunningSandbox, sandboxEnv, startSandbox } from '../../services/enrich/sandbox/server.ts';
import { loadConfig } from '../../services/lib/config.ts';
import { createRedis } from '../../services/lib/redis.ts';
import { deleteRedisKeys } from '../support/isolated.ts';

let sandbox: RunningSandbox;
let redis: Redis;
const open: EnrichContext[] = [];
const prefixes: string[] = [];

beforeAll(async () => {
  sandbox = await startSandbox();
  redis = createRedis(loadConfig(EnrichConfig).REDIS_URL, 'enrich-order-test');
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  for (const prefix of prefixes) await deleteRedisKeys(redis, prefix);
  redis.disconnect();
  await sandbox.close();
});

/** A fresh deployment: its own caches, in Redis under its own prefix, or in this process. */
function context(name: string, shared: 'redis' | 'in-process'): EnrichContext {
  const prefix = `t_enrich_order_${name}_${process.pid}_${Date.now()}`;
  prefixes.push(prefix);
  const cfg = loadConfig(EnrichConfig, {
    ...process.env,
    ...sandboxEnv(sandbox.url),
    LEEDRUSH_PREFIX: prefix,
  });
  const ctx = createEnrichContext(cfg, shared === 'redis' ? redis : null, { dns: null });
  open.push(ctx);
  return ctx;
}

const DOMAINS = ['orderco.com', 'meridian-labs.io', 'tallgrass.de', 'quillon.co.uk'];
const PEOPLE = ['anna.lee', 'ben.moss', 'carla.diaz', 'dan.fox', 'eve.hart', 'finn.ortiz', 'gina.park'];

/** Several people per company, some carrying part of their company's data themselves. */
const LEADS: LeadInput[] = DOMAINS.flatMap((domain, d) =>
  PEOPLE.map((person, p) => ({
    email: `${person}@${domain}`,
    email_status: p % 3 === 0 ? 'deliverable' : 'unknown',
    first_name: null,
    last_name: null,
    full_name: null,
    title_normalized: p % 2 === 0 ? 'VP of Sales' : null,
    company_name: null,
    company_key: null,
    domain,
    linkedin_url: null,
    phone_e164: null,
    country: null,
    industry: (p + d) % 4 === 0 ? 'Retail' : null,
    employees: null,
  })),
);

/** What a lead ends with, without how it got there (cache level) . */
const result = (e: Enrichment) => ({ ...e, cache_level: '' });

async function oneByOne(ctx: EnrichContext, leads: LeadInput[]): Promise<Map<string, EnrichOutcome>> {
  const out = new Map<string, EnrichOutcome>();
  for (const lead of leads) out.set(lead.email ?? '', await ctx.enricher.enrich(lead));
  return out;
}

const enrichmentOf = (m: Map<string, EnrichOutcome>, email: string) =>
  result(m.get(email)?.enrichment as Enrichment);

describe('enrichment independent of arrival order', () => {
  it('gives every lead the same enrichment in file order, in reverse and all at once', async () => {
    const forward = await oneByOne(context('fwd', 'redis'), LEADS);
    const reverse = await oneByOne(context('rev', 'redis'), [...LEADS].reverse());
    const together = context('all', 'redis');
    const concurrent = await Promise.all(LEADS.map((l) => together.enricher.enrich(l)));

    // The runs took different paths: which lead paid for a company depends on the order.
    const paid = (m: Map<string, EnrichOutcome>) => LEADS.map((l) => m.get(l.email ?? '')?.spent.calls);
    expect(paid(forward)).not.toEqual(paid(reverse));
    const total = (m: Map<string, EnrichOutcome>) => [...m.values()].reduce((n, o) => n + o.spent.calls, 0);
    expect(total(reverse)).toBe(total(forward));

    LEADS.forEach((lead, i) => {
      const email = lead.email ?? '';
      const expected = enrichmentOf(forward, email);
      expect(enrichmentOf(reverse, email), email).toEqual(expected);
      expect(result(concurrent[i]?.enrichment as Enrichment), email).toEqual(expected);
    });
    // Not trivially equal: providers filled company and person fields.
    const filled = [...forward.values()]
      .map((o) => o.enrichment)
      .filter((e) => e.industry && e.employee_count && e.person_linkedin);
    expect(filled.length).toBeGreaterThan(LEADS.length / 2);
  });

  it('gives the same enrichment with the caches and rate limits in the process (embedded mode)', async () => {
    const shared = await oneByOne(context('redis', 'redis'), LEADS);
    const local = context('local', 'in-process');
    const inProcess = await oneByOne(local, [...LEADS].reverse());
    for (const lead of LEADS) {
      const email = lead.email ?? '';
      expect(enrichmentOf(inProcess, email), email).toEqual(enrichmentOf(shared, email));
    }
    const stats = await local.cache.stats();
    expect(stats.l1_cache.total_hits).toBeGreaterThan(0);
    expect(stats.cost_savings.api_calls_saved).toBeGreaterThan(0);
  });
});
