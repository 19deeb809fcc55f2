/**
 * Two-level enrichment cache: L1 an in-process LRU (size bound + TTL), L2 a CacheStore (TTL) — Redis
 * shared by every enrich instance, or process memory in embedded mode — then the providers. Company
 * records are keyed by registrable domain, person records by email.
 *
 * Similarity: a lead without a company domain reuses a cached company whose company key is similar
 * enough: 1 − Levenshtein(a, b) / max(|a|, |b|) ≥ threshold (0.85 by default). Candidates come from a
 * sorted index per first two characters of the key, scored by key length: only lengths that can still
 * reach the threshold are read (|a|·t ≤ |b| ≤ |a|/t), at most SIMILARITY_CANDIDATES of them, so a
 * lookup's work is bounded however many companies are cached. A pair whose first two characters
 * differ is not considered similar. A lookup may name a moment (`cachedBefore`): only companies stored
 * before it are offered, so the leads of one batch never feed each other's matches in arrival order.
 *
 * Counters (hits, misses and summed latency per level, similarity matches, provider calls and dollars
 * saved) live in the store (one Redis hash shared by every instance). They are batched in memory and
 * flushed every `statsFlushMs` and on flush()/close(), so the request path costs no extra round trip.
 */
import { distance } from 'fastest-levenshtein';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { getDomain } from 'tldts';
import type { Field, FieldValues } from './types.ts';

/** What one cache entry holds: enriched fields, their sources and what they cost to obtain. */
export interface CachedRecord {
  fields: FieldValues;
  sources: Partial<Record<Field, string>>;
  /** Provider calls it took to build the record (each later hit saves as many). */
  calls: number;
  cost_usd: number;
  /** For company records: the matching key similarity lookups compare. */
  company_key?: string | null;
  /** For whole-response entries (multi-source validation): the response itself. */
  payload?: unknown;
  stored_at: number;
}

/** Entries keyed by email: the providers' verdict, the person's fields, or a multi-source response. */
export type EmailKind = 'verdict' | 'person' | 'multi';

export type HitLevel = 'l1' | 'l2' | 'similarity';
export type CacheOrigin = 'live' | 'sandbox';
export interface CacheHit {
  level: HitLevel;
  record: CachedRecord;
  /** The key the record was stored under (differs from the asked key on a similarity hit). */
  key: string;
  similarity?: number;
}

export interface CacheOptions {
  /**
   * Whose answers the entries hold: `live` (real providers) or `sandbox` (invented ones). Each origin has
   * its own entries and similarity index, so a sandbox answer is never served as a real one.
   */
  origin: CacheOrigin;
  l1Max: number;
  /**
   * L1's bound in bytes of the records' JSON, whatever their count: a person record can be ten times a
   * verdict's size, so an entry count alone does not bound the heap.
   */
  l1MaxBytes: number;
  l1TtlMs: number;
  l2TtlS: number;
  similarityThreshold: number;
  statsFlushMs?: number;
}

export interface LevelStats {
  hit_rate: number;
  avg_latency_ms: number;
  total_hits: number;
  total_misses: number;
}

/** The body of GET /api/v1/cache/stats. */
export interface CacheStats {
  l1_cache: LevelStats;
  l2_cache: LevelStats;
  similarity_matches: { total: number; threshold: number };
  cost_savings: { api_calls_saved: number; estimated_savings_usd: number };
  /** Redis reads and writes that failed and were served as misses (not part of the public API). */
  l2_errors: number;
}

const COUNTERS = [
  'l1_hits',
  'l1_misses',
  'l1_latency_us',
  'l2_hits',
  'l2_misses',
  'l2_latency_us',
  'similarity_matches',
  'api_calls_saved',
  'saved_micro_usd',
  'l2_errors',
] as const;
export type Counter = (typeof COUNTERS)[number];

/** Registrable domain (Public Suffix List): "eu.acme.co.uk" → "acme.co.uk". */
export function registrableDomain(domain: string): string {
  const d = domain.trim().toLowerCase().replace(/\.$/, '');
  return getDomain(d) ?? d;
}

/** The entry of a company: keyed by registrable domain, so eu.acme.com and acme.com are one company. */
const companyEntry = (domain: string) => `company:${registrableDomain(domain)}`;

/** Normalised Levenshtein similarity in [0, 1]. */
export function keySimilarity(a: string, b: string): number {
  const longest = Math.max(a.length, b.length);
  return longest === 0 ? 1 : 1 - distance(a, b) / longest;
}

const bucketOf = (key: string) => key.replace(/\s+/g, '').slice(0, 2);
/** Upper bound of candidates compared per similarity lookup. */
const SIMILARITY_CANDIDATES = 500;
/** Index member: the key and its domain (a tab never survives company-key normalisation). */
const member = (key: string, domain: string) => `${key}\t${domain}`;

/**
 * Where the L2 entries, the similarity index and the shared counters live. Keys are the cache's own
 * (`company:acme.com`, `simidx:no`, `stats`); each store maps them into its namespace.
 */
export interface CacheStore {
  get(key: string): Promise<string | null>;
  /** Stores an entry for ttlS seconds and, when given, adds it to a similarity index bucket. */
  set(key: string, value: string, ttlS: number, index?: IndexEntry): Promise<void>;
  /** Members of an index bucket whose score is in [min, max], lowest score first, at most `limit`. */
  range(bucket: string, min: number, max: number, limit: number): Promise<string[]>;
  addCounters(counts: ReadonlyArray<readonly [Counter, number]>): Promise<void>;
  counters(): Promise<Partial<Record<Counter, number>>>;
}

export interface IndexEntry {
  bucket: string;
  score: number;
  member: string;
}

/**
 * The services' store: one Redis shared by every instance. Entries and the similarity index live under
 * `<ns>:enrich:<origin>:` (entries written before origins existed, `<ns>:enrich:company:…`, are of
 * unknown origin and no longer read); the counters are the cluster's, one hash.
 */
export class RedisCacheStore implements CacheStore {
  constructor(
    private readonly redis: Redis,
    private readonly key: (...parts: string[]) => string,
    private readonly origin: CacheOrigin,
  ) {}

  #entry = (key: string) => this.key('enrich', this.origin, ...key.split(':'));
  #index = (bucket: string) => this.key('enrich', this.origin, 'simidx', bucket);
  #stats = () => this.key('enrich', 'cache', 'stats');

  get(key: string): Promise<string | null> {
    return this.redis.get(this.#entry(key));
  }

  async set(key: string, value: string, ttlS: number, index?: IndexEntry): Promise<void> {
    // Plain commands, not MULTI: the entry and its index line need no atomicity. Not an explicit
    // pipeline either: that is a socket write of its own, while auto-pipelining (enrich's client) sends
    // these with every other lead's commands of the same tick.
    const entry = this.redis.set(this.#entry(key), value, 'EX', ttlS);
    await (index
      ? Promise.all([entry, this.redis.zadd(this.#index(index.bucket), index.score, index.member)])
      : entry);
  }

  range(bucket: string, min: number, max: number, limit: number): Promise<string[]> {
    const top = max === Number.POSITIVE_INFINITY ? '+inf' : max;
    return this.redis.zrangebyscore(this.#index(bucket), min, top, 'LIMIT', 0, limit);
  }

  async addCounters(counts: ReadonlyArray<readonly [Counter, number]>): Promise<void> {
    const tx = this.redis.pipeline();
    for (const [counter, by] of counts) tx.hincrby(this.#stats(), counter, by);
    await tx.exec();
  }

  async counters(): Promise<Partial<Record<Counter, number>>> {
    const raw = await this.redis.hgetall(this.#stats());
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }
}

/** Embedded mode's store: the same entries, index and counters in this process (no Redis). */
export class MemoryCacheStore implements CacheStore {
  readonly #entries = new Map<string, { value: string; expiresAt: number }>();
  readonly #index = new Map<string, Map<string, number>>();
  readonly #counters = new Map<Counter, number>();

  async get(key: string): Promise<string | null> {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) this.#entries.delete(key);
    return entry && entry.expiresAt > Date.now() ? entry.value : null;
  }

  async set(key: string, value: string, ttlS: number, index?: IndexEntry): Promise<void> {
    this.#entries.set(key, { value, expiresAt: Date.now() + ttlS * 1000 });
    if (!index) return;
    const bucket = this.#index.get(index.bucket) ?? new Map<string, number>();
    bucket.set(index.member, index.score);
    this.#index.set(index.bucket, bucket);
  }

  async range(bucket: string, min: number, max: number, limit: number): Promise<string[]> {
    const members = [...(this.#index.get(bucket) ?? [])].filter(([, s]) => s >= min && s <= max);
    // Redis order: by score, then by member.
    members.sort(([a, x], [b, y]) => x - y || (a < b ? -1 : a > b ? 1 : 0));
    return members.slice(0, limit).map(([m]) => m);
  }

  async addCounters(counts: ReadonlyArray<readonly [Counter, number]>): Promise<void> {
    for (const [counter, by] of counts) this.#counters.set(counter, (this.#counters.get(counter) ?? 0) + by);
  }

  async counters(): Promise<Partial<Record<Counter, number>>> {
    return Object.fromEntries(this.#counters);
  }
}

export class EnrichmentCache {
  readonly #l1: LRUCache<string, CachedRecord>;
  readonly #pending = new Map<Counter, number>();
  readonly #timer: NodeJS.Timeout;
  readonly #store: CacheStore;

  /** `redis` null: embedded mode, everything in this process (MemoryCacheStore). */
  constructor(
    redis: Redis | null,
    key: (...parts: string[]) => string,
    private readonly opts: CacheOptions,
  ) {
    this.#store = redis ? new RedisCacheStore(redis, key, opts.origin) : new MemoryCacheStore();
    // Every set passes the length of the JSON it already has (stored or read): no second stringify.
    this.#l1 = new LRUCache({ max: opts.l1Max, maxSize: opts.l1MaxBytes, ttl: opts.l1TtlMs });
    this.#timer = setInterval(() => void this.flush().catch(() => {}), opts.statsFlushMs ?? 1_000);
    this.#timer.unref();
  }

  get threshold(): number {
    return this.opts.similarityThreshold;
  }

  /**
   * A company by its registrable domain, else (with a company key) a cached company with a similar key.
   * The enricher asks by key only for a lead without a domain: with a domain, what the providers say
   * about that domain is the answer, whatever similar company happens to be cached already.
   */
  async getCompany(
    domain: string | null,
    companyKey: string | null,
    cachedBefore = Number.POSITIVE_INFINITY,
  ): Promise<CacheHit | null> {
    const exact = domain ? await this.#orMiss(this.#get(companyEntry(domain))) : null;
    // Not served as a miss: a miss here changes the answer (the lead would go without a company), not
    // just its cost, so the error reaches the runtime, which retries the lead.
    return exact ?? this.#similar(companyKey, cachedBefore);
  }

  async #similar(companyKey: string | null, cachedBefore: number): Promise<CacheHit | null> {
    const similar = companyKey ? await this.#similarCompany(companyKey, cachedBefore) : null;
    if (similar) {
      this.#count('similarity_matches', 1);
      this.#saved(similar.record);
    }
    return similar;
  }

  async setCompany(domain: string, record: CachedRecord): Promise<void> {
    const entry = companyEntry(domain);
    const json = JSON.stringify(record);
    this.#l1.set(entry, record, { size: json.length });
    // Only records with data are offered to similar names: a negative entry speaks for its own domain.
    const key = Object.keys(record.fields).length > 0 ? record.company_key : null;
    const index = key
      ? { bucket: bucketOf(key), score: key.length, member: member(key, entry.slice('company:'.length)) }
      : undefined;
    await this.#orNothing(this.#store.set(entry, json, this.opts.l2TtlS, index));
  }

  getByEmail(kind: EmailKind, email: string): Promise<CacheHit | null> {
    return this.#orMiss(this.#get(`${kind}:${email.toLowerCase()}`));
  }

  async setByEmail(kind: EmailKind, email: string, record: CachedRecord): Promise<void> {
    const key = `${kind}:${email.toLowerCase()}`;
    const json = JSON.stringify(record);
    this.#l1.set(key, record, { size: json.length });
    await this.#orNothing(this.#store.set(key, json, this.opts.l2TtlS));
  }

  /**
   * A keyed read or a write never fails a lead: when Redis errs or times out, a read is a miss (the
   * providers give the same answer again) and a write is skipped (L1 still holds it), and the error is
   * counted.
   */
  async #orMiss(lookup: Promise<CacheHit | null>): Promise<CacheHit | null> {
    try {
      return await lookup;
    } catch {
      this.#count('l2_errors', 1);
      return null;
    }
  }

  async #orNothing(write: Promise<unknown>): Promise<void> {
    try {
      await write;
    } catch {
      this.#count('l2_errors', 1);
    }
  }

  /** L1, then L2 (filling L1), counting hit/miss and latency at each level consulted. */
  async #get(cacheKey: string): Promise<CacheHit | null> {
    const t1 = performance.now();
    const local = this.#l1.get(cacheKey);
    this.#latency('l1_latency_us', t1);
    if (local) {
      this.#count('l1_hits', 1);
      this.#saved(local);
      return { level: 'l1', record: local, key: cacheKey };
    }
    this.#count('l1_misses', 1);
    const t2 = performance.now();
    const raw = await this.#store.get(cacheKey);
    this.#latency('l2_latency_us', t2);
    if (raw === null) {
      this.#count('l2_misses', 1);
      return null;
    }
    const record = JSON.parse(raw) as CachedRecord;
    this.#l1.set(cacheKey, record, { size: raw.length });
    this.#count('l2_hits', 1);
    this.#saved(record);
    return { level: 'l2', record, key: cacheKey };
  }

  /** Without counting level hits/misses: a similarity probe is not a lookup of its own. */
  async #peek(cacheKey: string): Promise<CachedRecord | null> {
    const local = this.#l1.get(cacheKey);
    if (local) return local;
    const raw = await this.#store.get(cacheKey);
    if (raw === null) return null;
    const record = JSON.parse(raw) as CachedRecord;
    this.#l1.set(cacheKey, record, { size: raw.length });
    return record;
  }

  async #similarCompany(companyKey: string, cachedBefore: number): Promise<CacheHit | null> {
    const t = this.opts.similarityThreshold;
    const candidates = await this.#store.range(
      bucketOf(companyKey),
      Math.floor(companyKey.length * t),
      t > 0 ? Math.ceil(companyKey.length / t) : Number.POSITIVE_INFINITY,
      SIMILARITY_CANDIDATES,
    );
    const similar = candidates
      .map((entry) => {
        const [key = '', domain = ''] = entry.split('\t');
        return { domain, score: keySimilarity(companyKey, key) };
      })
      .filter((c) => c.score >= t)
      // Ties go to the smaller domain, so the pick does not depend on which was indexed first.
      .sort((a, b) => b.score - a.score || (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0));
    for (const best of similar) {
      const record = await this.#peek(`company:${best.domain}`);
      if (record && record.stored_at < cachedBefore) {
        return { level: 'similarity', record, key: `company:${best.domain}`, similarity: best.score };
      }
    }
    return null;
  }

  #saved(record: CachedRecord): void {
    this.#count('api_calls_saved', record.calls);
    this.#count('saved_micro_usd', Math.round(record.cost_usd * 1e6));
  }

  #latency(counter: Counter, since: number): void {
    this.#count(counter, Math.round((performance.now() - since) * 1000));
  }

  #count(counter: Counter, by: number): void {
    if (by !== 0) this.#pending.set(counter, (this.#pending.get(counter) ?? 0) + by);
  }

  /** Pushes the batched counters to Redis. */
  async flush(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = [...this.#pending];
    this.#pending.clear();
    try {
      await this.#store.addCounters(batch);
    } catch (err) {
      // Put them back so the next flush retries: counts are never silently lost.
      for (const [counter, by] of batch) this.#count(counter, by);
      throw err;
    }
  }

  /** The cluster-wide figures, computed from the shared counters. */
  async stats(): Promise<CacheStats> {
    await this.flush();
    const raw = await this.#store.counters();
    const n = (c: Counter) => raw[c] ?? 0;
    const level = (hits: number, misses: number, latencyUs: number): LevelStats => ({
      hit_rate: hits + misses ? hits / (hits + misses) : 0,
      avg_latency_ms: hits + misses ? latencyUs / 1000 / (hits + misses) : 0,
      total_hits: hits,
      total_misses: misses,
    });
    return {
      l1_cache: level(n('l1_hits'), n('l1_misses'), n('l1_latency_us')),
      l2_cache: level(n('l2_hits'), n('l2_misses'), n('l2_latency_us')),
      similarity_matches: { total: n('similarity_matches'), threshold: this.opts.similarityThreshold },
      cost_savings: {
        api_calls_saved: n('api_calls_saved'),
        estimated_savings_usd: n('saved_micro_usd') / 1e6,
      },
      l2_errors: n('l2_errors'),
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
