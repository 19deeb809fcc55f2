import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../runtime/logger.ts';
import type { EnrichmentCache } from '../cache.ts';
import type { AttributedCallLog } from '../call-log-writer.ts';
import type { Enricher, LeadInput } from '../enricher.ts';
import type { PredictiveCounters } from './counters.ts';
import type { Prediction } from './patterns.ts';

/**
 * The background pre-enrichment queue, in Redis so every enrich instance shares it:
 * - `<ns>:enrich:predictive:queue` (list) pending predictions;
 * - `<ns>:enrich:predictive:processing:<instance>` (list) the predictions an instance holds, and
 *   `<ns>:enrich:predictive:alive:<instance>` its heartbeat: the list of an instance whose heartbeat
 *   expired (it crashed) is adopted and finished by a live one;
 * - `<ns>:enrich:predictive:queued:<domain>` marks a company queued recently (one queueing per window);
 * - `<ns>:enrich:predictive:warmed:<domain>` marks a company the queue paid for before any lead asked,
 *   for as long as the cache keeps it: a lead served from it counts as a predictive match.
 * Counters (predictions, pre_enriched, used, queue depth) are PredictiveCounters' hash.
 */
export interface QueueOptions {
  /** Predictions worked on at once by this instance. */
  concurrency: number;
  /** A company is queued at most once per this window. */
  dedupeWindowS: number;
  /** Lifetime of the warmed mark: the cache's L2 lifetime. */
  warmedTtlS: number;
  /** How long a worker blocks waiting for work before checking whether it should stop. */
  pollS: number;
  /** How often to look for the predictions of crashed instances. */
  recoverMs: number;
}

/** An instance is dead once its heartbeat is this old; it beats three times as often. */
const HEARTBEAT_TTL_S = 15;

interface QueuedPrediction {
  batch_id: string;
  domain: string;
  company_key: string | null;
}

export class PreEnrichQueue {
  readonly #queue: string;
  readonly #processing: string;
  readonly #instance = randomUUID();
  readonly #running: Promise<void>[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  #stopping = false;
  #recovering: Promise<void> | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly key: (...parts: string[]) => string,
    private readonly deps: {
      enricher: Enricher;
      cache: EnrichmentCache;
      calls: AttributedCallLog;
      counters: PredictiveCounters;
      log: Logger;
    },
    private readonly opts: QueueOptions,
  ) {
    this.#queue = key('enrich', 'predictive', 'queue');
    this.#processing = key('enrich', 'predictive', 'processing', this.#instance);
  }

  /** Queues a predicted company unless it was queued within the window; true when queued. */
  async enqueue(p: Prediction): Promise<boolean> {
    if (!p.domain) return false;
    const fresh = await this.redis.set(
      this.key('enrich', 'predictive', 'queued', p.domain),
      p.batch_id,
      'EX',
      this.opts.dedupeWindowS,
      'NX',
    );
    if (fresh !== 'OK') return false;
    const item: QueuedPrediction = { batch_id: p.batch_id, domain: p.domain, company_key: p.company_key };
    await this.redis.rpush(this.#queue, JSON.stringify(item));
    await this.deps.counters.predicted(p.pattern);
    return true;
  }

  async wasPreEnriched(domain: string): Promise<boolean> {
    return (await this.redis.exists(this.key('enrich', 'predictive', 'warmed', domain))) === 1;
  }

  /** Starts the workers, each on its own connection since a blocking pop holds the connection. */
  start(): void {
    const beat = () =>
      void this.redis
        .set(this.key('enrich', 'predictive', 'alive', this.#instance), '1', 'EX', HEARTBEAT_TTL_S)
        .catch(() => {});
    const recover = () => {
      this.#recovering ??= this.#recover()
        .catch((err) => this.deps.log.warn({ err: String(err) }, 'predictive recovery failed'))
        .finally(() => {
          this.#recovering = null;
        });
    };
    beat();
    recover();
    this.#timers.push(
      setInterval(beat, (HEARTBEAT_TTL_S * 1000) / 3),
      setInterval(recover, this.opts.recoverMs),
    );
    for (let i = 0; i < this.opts.concurrency; i++) {
      const conn = this.redis.duplicate({
        enableAutoPipelining: false,
        commandTimeout: (this.opts.pollS + 2) * 1000,
      });
      this.#running.push(this.#work(conn).finally(() => conn.disconnect()));
    }
  }

  /** Lets each worker finish the prediction in hand, then returns. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const t of this.#timers) clearInterval(t);
    await Promise.all([...this.#running, this.#recovering]);
    await this.redis.del(this.key('enrich', 'predictive', 'alive', this.#instance)).catch(() => {});
  }

  async #work(conn: Redis): Promise<void> {
    while (!this.#stopping) {
      let raw: string | null = null;
      try {
        raw = await conn.blmove(this.#queue, this.#processing, 'LEFT', 'RIGHT', this.opts.pollS);
        if (raw) await this.#preEnrich(JSON.parse(raw) as QueuedPrediction);
      } catch (err) {
        this.deps.log.warn({ err: String(err) }, 'pre-enrichment failed');
        await new Promise((r) => setTimeout(r, 1_000));
      } finally {
        if (raw) await this.redis.lrem(this.#processing, 1, raw).catch(() => {});
      }
    }
  }

  /** Finishes the predictions held by instances whose heartbeat stopped. */
  async #recover(): Promise<void> {
    const prefix = this.key('enrich', 'predictive', 'processing', '');
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 100);
      cursor = next;
      for (const list of keys) {
        const owner = list.slice(prefix.length);
        if (owner === this.#instance) continue;
        if (await this.redis.exists(this.key('enrich', 'predictive', 'alive', owner))) continue;
        // One item at a time, atomically: two instances recovering at once never take the same one.
        for (;;) {
          if (this.#stopping) return;
          const raw = await this.redis.lmove(list, this.#processing, 'LEFT', 'RIGHT');
          if (!raw) break;
          try {
            // Its start was counted by the instance that crashed: only the finish is left to count.
            await this.#preEnrich(JSON.parse(raw) as QueuedPrediction, { resumed: true });
          } finally {
            await this.redis.lrem(this.#processing, 1, raw);
          }
        }
      }
    } while (cursor !== '0');
  }

  async #preEnrich(item: QueuedPrediction, opts: { resumed: boolean } = { resumed: false }): Promise<void> {
    const { counters, cache, enricher, calls } = this.deps;
    if (!opts.resumed) await counters.started();
    let enriched = false;
    try {
      // Already known (a lead got there first, or another instance): nothing to pay for. By domain only:
      // a lead with this domain asks for exactly this entry, never a similar one.
      if (await cache.getCompany(item.domain, null)) return;
      const owner = { account_id: '', batch_id: item.batch_id, lead_id: '' };
      await calls.within(owner, () => enricher.enrich(companyOnly(item)));
      enriched = (await cache.getCompany(item.domain, null)) !== null;
      if (enriched) {
        await this.redis.set(
          this.key('enrich', 'predictive', 'warmed', item.domain),
          '1',
          'EX',
          this.opts.warmedTtlS,
        );
      }
    } finally {
      await counters.finished(enriched);
    }
  }
}

/** A lead that is nothing but its company, so the waterfall asks only the company providers. */
function companyOnly(item: QueuedPrediction): LeadInput {
  return {
    email: null,
    email_status: 'missing',
    first_name: null,
    last_name: null,
    full_name: null,
    title_normalized: null,
    company_name: null,
    company_key: item.company_key,
    domain: item.domain,
    linkedin_url: null,
    phone_e164: null,
    country: null,
    industry: null,
    employees: null,
  };
}
