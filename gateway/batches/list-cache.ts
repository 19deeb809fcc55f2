import { LRUCache } from 'lru-cache';
import type { BatchTracker } from '../../services/lib/batch-tracker.ts';
import { type BatchObject, batchObject } from './batch-object.ts';

/**
 * The batch objects of GET /api/batches per account, kept while the account's batch revision is
 * unchanged. Clients poll this list; between two changes of their batches a poll costs one small
 * Redis read instead of reading and decoding every batch. Every write that changes a listed field
 * bumps the revision, through whichever instance or service, so a list served from here is current.
 */
export class BatchListCache {
  readonly #lists: LRUCache<string, Held>;
  /** The listing each account is being read at, shared by the requests that arrive meanwhile. */
  readonly #reading = new Map<string, Promise<Held>>();

  /** `maxBatches`: batch objects held across all accounts (each a few hundred bytes). */
  constructor(
    private readonly tracker: BatchTracker,
    maxBatches = 100_000,
  ) {
    this.#lists = new LRUCache({
      maxSize: maxBatches,
      sizeCalculation: (v) => Math.max(1, v.batches.length),
    });
  }

  /**
   * The account's batch objects, newest first; the array is shared, so callers only read it. The
   * revision is read after the request arrived, and only a list read at that revision or later is
   * served: every write that finished before the request is in it.
   */
  async list(accountId: string): Promise<BatchObject[]> {
    const revision = await this.tracker.revision(accountId);
    const held = this.#lists.get(accountId);
    if (held && held.revision >= revision) return held.batches;
    const shared = await this.#read(accountId);
    return shared.revision >= revision ? shared.batches : (await this.#read(accountId, true)).batches;
  }

  /** One listing at a time per account (unless `own`): a burst of polls after a change reads once. */
  #read(accountId: string, own = false): Promise<Held> {
    const pending = own ? undefined : this.#reading.get(accountId);
    if (pending) return pending;
    const reading = this.tracker.listing(accountId).then(({ revision, batches }) => {
      const fresh = { revision, batches: batches.map(batchObject) };
      const held = this.#lists.get(accountId);
      // An account with more batches than the whole cache holds is read every time.
      if ((!held || held.revision < revision) && fresh.batches.length <= this.#lists.maxSize) {
        this.#lists.set(accountId, fresh);
      }
      return fresh;
    });
    if (!own) {
      this.#reading.set(accountId, reading);
      const done = () => {
        if (this.#reading.get(accountId) === reading) this.#reading.delete(accountId);
      };
      reading.then(done, done);
    }
    return reading;
  }
}

interface Held {
  revision: number;
  batches: BatchObject[];
}
