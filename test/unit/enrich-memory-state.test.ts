import { afterEach, describe, expect, it, vi } from 'vitest';
import { EnrichmentCache, MemoryCacheStore } from '../../services/enrich/cache.ts';
import { MemoryTokenBuckets, RateLimiter } from '../../services/enrich/rate-limit.ts';

// Embedded mode's stand-ins for Redis: the same contracts the Redis implementations keep.

afterEach(() => {
  vi.useRealTimers();
});

describe('MemoryCacheStore', () => {
  it('returns an entry until its TTL has passed', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const store = new MemoryCacheStore();
    await store.set('company:acme.com', 'x', 10);
    expect(await store.get('company:acme.com')).toBe('x');
    vi.setSystemTime(1_000_000 + 9_999);
    expect(await store.get('company:acme.com')).toBe('x');
    vi.setSystemTime(1_000_000 + 10_000);
    expect(await store.get('company:acme.com')).toBeNull();
    expect(await store.get('company:other.com')).toBeNull();
  });

  it('ranges an index bucket by score, then member, within bounds and up to the limit, as ZRANGEBYSCORE does', async () => {
    const store = new MemoryCacheStore();
    const add = (member: string, score: number) =>
      store.set(`e:${member}`, '', 60, { bucket: 'ac', score, member });
    await add('acmes\tz.com', 5);
    await add('acme\tb.com', 4);
    await add('acme\ta.com', 4);
    await add('acmecorp\tc.com', 8);
    await add('acme\ta.com', 4);
    expect(await store.range('ac', 4, 5, 10)).toEqual(['acme\ta.com', 'acme\tb.com', 'acmes\tz.com']);
    expect(await store.range('ac', 4, Number.POSITIVE_INFINITY, 2)).toEqual(['acme\ta.com', 'acme\tb.com']);
    expect(await store.range('zz', 0, 100, 10)).toEqual([]);
  });

  it('adds counters up', async () => {
    const store = new MemoryCacheStore();
    await store.addCounters([
      ['l1_hits', 2],
      ['l2_misses', 1],
    ]);
    await store.addCounters([['l1_hits', 3]]);
    expect(await store.counters()).toEqual({ l1_hits: 5, l2_misses: 1 });
  });
});

describe('EnrichmentCache in the process', () => {
  const record = (company_key: string) => ({
    fields: { company: 'Northwind', industry: 'Retail' },
    sources: { company: 'clearbit', industry: 'clearbit' },
    calls: 2,
    cost_usd: 0.2,
    company_key,
    stored_at: Date.now(),
  });

  const inProcessCache = (l1MaxBytes = 1024 * 1024) =>
    new EnrichmentCache(null, (...p) => p.join(':'), {
      origin: 'live',
      l1Max: 10,
      l1MaxBytes,
      l1TtlMs: 60_000,
      l2TtlS: 60,
      similarityThreshold: 0.85,
    });

  it('serves a company by registrable domain and by similar key, and counts hits and savings', async () => {
    const cache = inProcessCache();
    await cache.setCompany('northwind.com', record('northwind'));
    expect((await cache.getCompany('eu.northwind.com', null))?.level).toBe('l1');
    expect((await cache.getCompany(null, 'northwindd'))?.level).toBe('similarity');
    expect(await cache.getCompany(null, 'northway partners')).toBeNull();
    const stats = await cache.stats();
    expect(stats.l1_cache.total_hits).toBe(1);
    expect(stats.similarity_matches.total).toBe(1);
    expect(stats.cost_savings).toEqual({ api_calls_saved: 4, estimated_savings_usd: 0.4 });
    await cache.close();
  });

  it('keeps in L1 only as many bytes of records as it is given, whatever the count allows', async () => {
    const size = JSON.stringify(record('northwind')).length;
    const cache = inProcessCache(2 * size + size / 2);
    for (const domain of ['a.com', 'b.com', 'c.com']) await cache.setCompany(domain, record('northwind'));
    // Two records fit: the oldest left L1 and is read again from the store behind it.
    expect((await cache.getCompany('c.com', null))?.level).toBe('l1');
    expect((await cache.getCompany('b.com', null))?.level).toBe('l1');
    expect((await cache.getCompany('a.com', null))?.level).toBe('l2');
    const unbounded = inProcessCache();
    for (const domain of ['a.com', 'b.com', 'c.com']) await unbounded.setCompany(domain, record('northwind'));
    expect((await unbounded.getCompany('a.com', null))?.level).toBe('l1');
    await cache.close();
    await unbounded.close();
  });

  it('offers a similar company only when it was cached before the given moment, the best of those first', async () => {
    const cache = inProcessCache();
    // The closer name was cached later: a lead received in between sees only the older one.
    await cache.setCompany('northwind-a.com', { ...record('northwindd'), stored_at: 1_000 });
    await cache.setCompany('northwind-b.com', { ...record('northwind'), stored_at: 2_000 });
    expect((await cache.getCompany(null, 'northwind', 1_500))?.key).toBe('company:northwind-a.com');
    expect((await cache.getCompany(null, 'northwind', 2_500))?.key).toBe('company:northwind-b.com');
    expect((await cache.getCompany(null, 'northwind'))?.key).toBe('company:northwind-b.com');
    expect(await cache.getCompany(null, 'northwind', 1_000)).toBeNull();
    await cache.close();
  });
});

describe('MemoryTokenBuckets', () => {
  it('lets a burst through, then says how long until the next token, refilling at the rate', async () => {
    vi.useFakeTimers({ now: 5_000_000 });
    const buckets = new MemoryTokenBuckets();
    const limit = { perSecond: 4, burst: 3 };
    const taken = await Promise.all([1, 2, 3].map(() => buckets.tryTake('hunter', limit)));
    expect(taken).toEqual([0, 0, 0]);
    expect(await buckets.tryTake('hunter', limit)).toBe(250);
    expect(await buckets.tryTake('apollo', limit)).toBe(0);
    vi.setSystemTime(5_000_000 + 250);
    expect(await buckets.tryTake('hunter', limit)).toBe(0);
    expect(await buckets.tryTake('hunter', limit)).toBe(250);
  });

  it('gives up at once through RateLimiter.take when the wait exceeds the budget', async () => {
    const limiter = new RateLimiter(null, (...p) => p.join(':'));
    const limit = { perSecond: 1, burst: 1 };
    expect(await limiter.take('snov', limit, 0)).toEqual({ ok: true, waitedMs: 0 });
    const refused = await limiter.take('snov', limit, 100);
    expect(refused.ok).toBe(false);
  });
});
