import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises';
import type { DedupedLead, EnrichedLead } from '../../schemas/generated.ts';
import type { BatchTracker } from '../lib/batch-tracker.ts';
import { TOPICS } from '../lib/names.ts';
import type { RecordPublisher } from '../lib/publisher.ts';
import { definePhase, drop, type Logger, type PhaseDefinition } from '../runtime/index.ts';
import { BatchIndex, memberOf } from './batch-index.ts';
import type { DedupeSettings, OpenBatchPolicy } from './config.ts';
import { emitDecision } from './emit.ts';
import type { HistoryIndex } from './history-index.ts';
import type { DedupeMetrics } from './metrics.ts';
import type { OpenBatches } from './open-batches.ts';
import { historyEntries } from './resolve.ts';

/** A finalizer that was killed frees its batch after this long; a live one renews it. */
const LOCK_TTL_MS = 30_000;
/** A full stream window waits for another instance's resolution of the same stream rather than fail. */
const STREAM_LOCK_TRIES = 300;

export interface DedupeDeps {
  open: OpenBatches;
  history: HistoryIndex;
  tracker: BatchTracker;
  /** The finalizer's producer, connected on first use (a broker not up yet fails one attempt, not the process). */
  publisher: () => Promise<RecordPublisher>;
  settings: DedupeSettings;
  policy: OpenBatchPolicy;
  metrics: DedupeMetrics;
  log: Logger;
}

export type FinalizeOutcome = 'finalized' | 'waiting' | 'busy' | 'unknown' | 'empty';

/**
 * Leads filed between yields to the event loop. Filing a lead into a batch of a million compares it with
 * dozens of members; a whole consumed chunk at once held the loop for seconds, so Redis replies waited
 * past their command timeout and group heartbeats past the session timeout.
 */
const FILE_SLICE = 256;

async function fileYielding(index: BatchIndex, leads: EnrichedLead[]): Promise<void> {
  for (let start = 0; start < leads.length; start += FILE_SLICE) {
    if (start > 0) await yieldToLoop();
    for (const lead of leads.slice(start, start + FILE_SLICE)) index.add(memberOf(lead));
  }
}

const STREAM_PREFIX = 'stream_';
/** Leads written straight to Kafka without a batch id join `stream_<account_id>` (standardize). */
export const isStreamBatch = (batchId: string): boolean => batchId.startsWith(STREAM_PREFIX);
const streamAccount = (batchId: string) => batchId.slice(STREAM_PREFIX.length);

/**
 * The open batches of this instance: leads are stored in Redis (the durable set any instance can
 * finish) and filed in an in-memory BatchIndex (compact records and the comparisons done so far), so
 * a complete batch is decided without reading it back. The index is a cache: when it does not hold
 * exactly the stored set (another instance took some leads, a restart), it is rebuilt from Redis.
 *
 * File/API batches close when complete (stored leads + rows rejected upstream = rows_total); stream
 * batches in windows (DEDUP_STREAM_WINDOW_LEADS leads, or DEDUP_STREAM_IDLE_MS without a lead); any
 * open batch idle for DEDUP_OPEN_TTL_MS is dropped. Each resolution runs under the batch's lock, so
 * two instances never resolve one batch at once, and every step is idempotent: a resolution killed
 * half-way is run again and produces the same records (own history entries are not history).
 */
export class BatchFinalizer {
  private sweeping: Promise<void> | undefined;
  private readonly indexes = new Map<string, BatchIndex>();
  /** Per batch, the tail of this instance's work on it: storing and resolving never interleave. */
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: DedupeDeps) {}

  /** Stores leads of one batch and files them; returns how many distinct leads the batch holds. */
  take(batchId: string, leads: EnrichedLead[]): Promise<number> {
    return this.serial(batchId, async () => {
      const count = await this.deps.open.store(batchId, leads);
      let index = this.indexes.get(batchId);
      if (!index) {
        index = new BatchIndex(this.deps.settings);
        this.indexes.set(batchId, index);
      }
      await fileYielding(index, leads);
      return count;
    });
  }

  /**
   * Stream leads, in partition order: a window is resolved as soon as it holds streamWindowLeads
   * leads, so windows are cut at the same leads whatever the chunking of the input.
   */
  async takeStream(batchId: string, leads: EnrichedLead[]): Promise<void> {
    const size = this.deps.policy.streamWindowLeads;
    let count = await this.deps.open.count(batchId);
    for (let i = 0; i < leads.length; ) {
      const part = leads.slice(i, i + Math.max(1, size - count));
      i += part.length;
      count = await this.take(batchId, part);
      if (count < size) continue;
      await this.flushStream(batchId);
      count = await this.deps.open.count(batchId);
    }
  }

  async tryFinalize(batchId: string): Promise<FinalizeOutcome> {
    const { open, tracker } = this.deps;
    if (await open.isDone(batchId)) {
      // A redelivered lead stored after the batch closed: it was part of the batch already.
      await open.drop(batchId);
      this.indexes.delete(batchId);
      return 'finalized';
    }
    const batch = await tracker.getAny(batchId);
    if (!batch) return 'unknown';
    const expected = batch.rows_total - batch.rows_errored;
    if (batch.rows_total <= 0 || (await open.count(batchId)) < expected) return 'waiting';
    const outcome = await this.serial(batchId, () =>
      open.withLock(batchId, LOCK_TTL_MS, () => this.finalize(batchId, batch.account_id, expected)),
    );
    return outcome ?? 'busy';
  }

  /** Resolves the stream's current window, waiting for another instance that is resolving it. */
  private async flushStream(batchId: string): Promise<void> {
    for (let attempt = 0; attempt < STREAM_LOCK_TRIES; attempt++) {
      const done = await this.serial(batchId, () =>
        this.deps.open.withLock(batchId, LOCK_TTL_MS, () => this.resolveWindow(batchId)),
      );
      if (done) return;
      await sleep(100);
    }
    throw new Error(`stream ${batchId} stayed locked`);
  }

  private async finalize(batchId: string, accountId: string, expected: number): Promise<FinalizeOutcome> {
    const { open, log } = this.deps;
    if (await open.isDone(batchId)) return 'finalized'; // another instance finished it meanwhile
    const startedAt = performance.now();
    const index = await this.indexOf(batchId, false);
    if (index.size < expected) return 'waiting';
    const stats = await this.resolve(batchId, accountId, index);
    await open.close(batchId);
    this.indexes.delete(batchId);
    const seconds = (performance.now() - startedAt) / 1000;
    this.deps.metrics.closed.inc({ outcome: 'finalized' });
    this.deps.metrics.resolveSeconds.observe({ kind: 'batch' }, seconds);
    log.info({ batchId, accountId, ...stats, ms: Math.round(seconds * 1000) }, 'batch deduplicated');
    return 'finalized';
  }

  private async resolveWindow(batchId: string): Promise<FinalizeOutcome> {
    const startedAt = performance.now();
    const index = await this.indexOf(batchId, true);
    if (index.size === 0) return 'empty';
    const accountId = streamAccount(batchId);
    const stats = await this.resolve(batchId, accountId, index);
    await this.deps.open.removeWindow(batchId, [...index.ids()]);
    this.indexes.delete(batchId);
    const seconds = (performance.now() - startedAt) / 1000;
    this.deps.metrics.closed.inc({ outcome: 'window' });
    this.deps.metrics.resolveSeconds.observe({ kind: 'window' }, seconds);
    this.deps.log.info({ batchId, ...stats, ms: Math.round(seconds * 1000) }, 'stream window deduplicated');
    return 'finalized';
  }

  /**
   * Decides the indexed leads against the history, produces them, then adds them to the history (after:
   * its scripts would hold Redis while the leads are read back). Returns the decision's figures and
   * how long each step took.
   */
  private async resolve(batchId: string, accountId: string, index: BatchIndex) {
    const { open, history, publisher } = this.deps;
    let t = performance.now();
    const lap = () => {
      const ms = Math.round(performance.now() - t);
      t = performance.now();
      return ms;
    };
    const decision = await index.decideYielding(await history.candidatesFor(accountId, index));
    const decideMs = lap();
    const producer = await publisher();
    await emitDecision(
      decision,
      (ids) => open.get(batchId, ids),
      (leads) => producer.publish<DedupedLead>(TOPICS.deduped, 'DedupedLead', dedupedKey, leads),
    );
    const emitMs = lap();
    await history.add(accountId, historyEntries(decision));
    return { ...decision.stats, decideMs, emitMs, historyMs: lap() };
  }

  /**
   * The batch's index holding exactly the stored leads: this instance's, when it filed every stored
   * lead, else rebuilt from Redis page by page. A file batch only grows until it closes, so equal counts
   * mean equal sets; a stream window shrinks when resolved (perhaps by another instance), so its ids
   * are compared (`exact`; a window is small).
   */
  private async indexOf(batchId: string, exact: boolean): Promise<BatchIndex> {
    const { open, settings } = this.deps;
    const local = this.indexes.get(batchId);
    const count = await open.count(batchId);
    if (local && local.size === count) {
      if (!exact) return local;
      const stored = await open.ids(batchId);
      if (stored.every((id) => local.has(id))) return local;
    }
    const index = new BatchIndex(settings);
    await open.scan(batchId, (leads) => {
      for (const lead of leads) index.add(memberOf(lead));
    });
    this.indexes.set(batchId, index);
    return index;
  }

  /**
   * Walks every open batch: a file batch completed by rejections counted after its last lead arrived
   * is finalized, an idle stream window resolved, a batch idle past the TTL expired. Indexes of
   * batches no longer open (closed by another instance, expired) are forgotten.
   */
  sweep(now = Date.now()): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        const open = await this.deps.open.openBatches();
        const ids = new Set(open.map((b) => b.batchId));
        for (const batchId of this.indexes.keys()) if (!ids.has(batchId)) this.indexes.delete(batchId);
        for (const { batchId, lastStoredAt } of open) {
          const idleMs = now - lastStoredAt;
          if (idleMs >= this.deps.policy.openTtlMs) await this.expireQuietly(batchId, idleMs);
          else if (!isStreamBatch(batchId)) await this.tryQuietly(batchId);
          else if (idleMs >= this.deps.policy.streamIdleMs) await this.flushQuietly(batchId);
        }
      } catch (err) {
        this.deps.log.warn({ err: (err as Error).message }, 'open batch sweep failed');
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  /** Runs the sweep every `intervalMs`; returns the function that stops it. */
  every(intervalMs: number): () => void {
    const timer = setInterval(() => void this.sweep(), intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** A failed finalization leaves the batch open (its leads are stored): the sweep retries it. */
  async tryQuietly(batchId: string): Promise<void> {
    try {
      await this.tryFinalize(batchId);
    } catch (err) {
      this.deps.log.warn(
        { batchId, err: (err as Error).message },
        'finalization failed; retried by the sweep',
      );
    }
  }

  private async flushQuietly(batchId: string): Promise<void> {
    try {
      await this.serial(batchId, () =>
        this.deps.open.withLock(batchId, LOCK_TTL_MS, () => this.resolveWindow(batchId)),
      );
    } catch (err) {
      this.deps.log.warn(
        { batchId, err: (err as Error).message },
        'stream window failed; retried by the sweep',
      );
    }
  }

  /**
   * Drops an open batch that received nothing for the TTL: it will not complete (a lead lost upstream
   * and never counted as rejected, a batch failed elsewhere). Under the lock, and only if no lead
   * arrived meanwhile.
   */
  private async expireQuietly(batchId: string, idleMs: number): Promise<void> {
    const { open, metrics, log } = this.deps;
    try {
      await this.serial(batchId, () =>
        open.withLock(batchId, LOCK_TTL_MS, async () => {
          const since = await open.lastStoredAt(batchId);
          if (since !== null && Date.now() - since < this.deps.policy.openTtlMs) return;
          const leads = await open.count(batchId);
          await open.drop(batchId);
          this.indexes.delete(batchId);
          metrics.closed.inc({ outcome: 'expired' });
          metrics.expiredLeads.inc(leads);
          log.warn(
            { batchId, leads, idleMs, ttlMs: this.deps.policy.openTtlMs },
            'open batch expired: no lead arrived within the TTL; its stored leads were dropped',
          );
        }),
      );
    } catch (err) {
      log.warn(
        { batchId, err: (err as Error).message },
        'expiring an open batch failed; retried by the sweep',
      );
    }
  }

  /** Runs `fn` after every earlier call for the same batch in this instance has settled. */
  private serial<T>(batchId: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.tails.get(batchId) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => {});
    this.tails.set(batchId, tail);
    void tail.then(() => {
      if (this.tails.get(batchId) === tail) this.tails.delete(batchId);
    });
    return run;
  }
}

/**
 * Deduped leads are keyed by lead: a batch is decided as a whole here, so nothing downstream needs an
 * account's leads in one partition, and score reads the batch from every partition at once.
 */
const dedupedKey = (lead: DedupedLead) => lead.meta.lead_id;

/**
 * Phase 5 as a service (leads.enriched → leads.deduped): a batch phase, so a consumed chunk is stored
 * in one round trip per batch, in partition order. It produces nothing itself (drop): the finalizer
 * produces a batch or window once it is resolved, with its own acknowledged producer, because the
 * outputs are not a function of the input that happens to complete the batch (often there is none:
 * the sweep completes it).
 */
export function dedupePhase(
  deps: DedupeDeps,
  finalizer: BatchFinalizer,
): PhaseDefinition<EnrichedLead, DedupedLead> {
  return definePhase<EnrichedLead, DedupedLead>({
    name: 'dedupe',
    input: { topic: TOPICS.enriched, record: 'EnrichedLead' },
    output: { topic: TOPICS.deduped, record: 'DedupedLead' },
    keyOf: dedupedKey,
    batch: async (inputs) => {
      const byBatch = new Map<string, EnrichedLead[]>();
      for (const lead of inputs) {
        const list = byBatch.get(lead.meta.batch_id);
        if (list) list.push(lead);
        else byBatch.set(lead.meta.batch_id, [lead]);
      }
      const done = await deps.open.done([...byBatch.keys()].filter((id) => !isStreamBatch(id)));
      for (const [batchId, leads] of byBatch) {
        if (done.has(batchId)) {
          deps.log.info({ batchId, late: leads.length }, 'leads of a finalized batch redelivered; dropped');
        } else if (isStreamBatch(batchId)) {
          await finalizer.takeStream(batchId, leads);
        } else {
          await finalizer.take(batchId, leads);
          await finalizer.tryQuietly(batchId);
        }
      }
      return inputs.map(() => drop());
    },
  });
}
