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
  readonly #lists: LRUCache<string, { revision: number; batches: BatchObject[] }>;

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

  /** The account's batch objects, newest first; the array is shared, so callers only read it. */
  async list(accountId: string): Promise<BatchObject[]> {
    const held = this.#lists.get(accountId);
    if (held && held.revision === (await this.tracker.revision(accountId))) return held.batches;
    const { revision, batches } = await this.tracker.listing(accountId);
    const objects = batches.map(batchObject);
    // An account with more batches than the whole cache holds is read every time.
    if (objects.length <= this.#lists.maxSize) this.#lists.set(accountId, { revision, batches: objects });
    return objects;
  }
}
