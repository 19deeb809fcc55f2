import { setTimeout as sleep } from 'node:timers/promises';
import type { DedupedLead, EnrichedLead } from '../../schemas/generated.ts';
import type { BatchTracker } from '../lib/batch-tracker.ts';
import { TOPICS } from '../lib/names.ts';
import type { RecordPublisher } from '../lib/publisher.ts';
import {
  definePhase,
  drop,
  type Logger,
  ok,
  type PhaseDefinition,
  type PhaseResult,
} from '../runtime/index.ts';
import { addLead, finalizeBatch, isComplete, openBatch } from './batch-state.ts';
import type { DedupeSettings } from './config.ts';
import type { HistoryIndex } from './history-index.ts';
import type { OpenBatches } from './open-batches.ts';

/** A finalizer that was killed frees its batch after this long; a live one renews it. */
const LOCK_TTL_MS = 30_000;
/** DedupedLeads per acknowledged send when a batch is finalized. */
const PUBLISH_CHUNK = 1_000;
/** A stream's lock is held only for a few leads' resolution: wait for it rather than fail. */
const STREAM_LOCK_TRIES = 300;

export interface DedupeDeps {
  open: OpenBatches;
  history: HistoryIndex;
  tracker: BatchTracker;
  /** The finalizer's producer, connected on first use (a broker not up yet fails one attempt, not the process). */
  publisher: () => Promise<RecordPublisher>;
  settings: DedupeSettings;
  log: Logger;
}

export type FinalizeOutcome = 'finalized' | 'waiting' | 'busy' | 'unknown';

export const isStreamBatch = (batchId: string): boolean => batchId.startsWith('stream_');

/**
 * Finishes file/API batches: once the leads stored for a batch plus the rows rejected upstream reach
 * its rows_total, one instance (lock) resolves the stored set, produces every DedupedLead (acknowledged),
 * adds the batch to the account's history and closes the batch. Every step is idempotent, so a finalizer
 * killed half-way is simply run again (by the same lead's redelivery or by the periodic sweep) and
 * produces the same records: resolveBatch ignores history entries of the batch's own leads.
 */
export class BatchFinalizer {
  private sweeping: Promise<void> | undefined;

  constructor(private readonly deps: DedupeDeps) {}

  async tryFinalize(batchId: string): Promise<FinalizeOutcome> {
    const { open, tracker } = this.deps;
    if (await open.isDone(batchId)) {
      // A redelivered lead stored after the batch closed: it was part of the batch already.
      await open.close(batchId);
      return 'finalized';
    }
    const batch = await tracker.getAny(batchId);
    if (!batch) return 'unknown';
    const expected = batch.rows_total - batch.rows_errored;
    if (batch.rows_total <= 0 || (await open.count(batchId)) < expected) return 'waiting';
    const outcome = await open.withLock(batchId, LOCK_TTL_MS, () =>
      this.finalize(batchId, batch.account_id, expected),
    );
    return outcome ?? 'busy';
  }

  private async finalize(batchId: string, accountId: string, expected: number): Promise<FinalizeOutcome> {
    const { open, history, publisher, settings, log } = this.deps;
    if (await open.isDone(batchId)) return 'finalized'; // another instance finished it meanwhile
    const state = openBatch(batchId);
    for (const lead of await open.load(batchId)) addLead(state, lead);
    if (!isComplete(state, expected)) return 'waiting';
    const startedAt = performance.now();
    const past = await history.candidatesFor(accountId, [...state.leads.values()]);
    const resolution = finalizeBatch(state, past, settings);
    const producer = await publisher();
    for (let i = 0; i < resolution.leads.length; i += PUBLISH_CHUNK) {
      await producer.publish<DedupedLead>(
        TOPICS.deduped,
        'DedupedLead',
        accountId,
        resolution.leads.slice(i, i + PUBLISH_CHUNK),
      );
    }
    await history.add(accountId, resolution.historyEntries);
    await open.close(batchId);
    log.info(
      { batchId, accountId, ...resolution.stats, ms: Math.round(performance.now() - startedAt) },
      'batch deduplicated',
    );
    return 'finalized';
  }

  /** Tries every open batch: completions that no arriving lead can trigger (rejections counted late). */
  sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        for (const batchId of await this.deps.open.openBatchIds()) await this.tryQuietly(batchId);
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
}

/**
 * Resolves stream leads one at a time against the account's history (the earlier lead survives) and
 * indexes each at once. The stream's lock keeps two instances from resolving one account's stream
 * leads concurrently, where each would miss the other's lead.
 */
async function resolveStream(
  deps: DedupeDeps,
  batchId: string,
  leads: EnrichedLead[],
): Promise<DedupedLead[]> {
  for (let attempt = 0; attempt < STREAM_LOCK_TRIES; attempt++) {
    const out = await deps.open.withLock(batchId, LOCK_TTL_MS, async () => {
      const resolved: DedupedLead[] = [];
      for (const lead of leads) {
        const accountId = lead.meta.account_id;
        const past = await deps.history.candidatesFor(accountId, [lead]);
        const resolution = finalizeBatch(addLead(openBatch(batchId), lead), past, deps.settings);
        await deps.history.add(accountId, resolution.historyEntries);
        resolved.push(resolution.leads[0] as DedupedLead);
      }
      return resolved;
    });
    if (out) return out;
    await sleep(100);
  }
  throw new Error(`stream ${batchId} stayed locked`);
}

/**
 * Phase 5 as a service (leads.enriched → leads.deduped): a batch phase, so a consumed chunk is stored
 * in one round trip and stream leads are resolved in partition order. File/API leads produce nothing
 * here (drop): they are stored, and the finalizer produces the whole batch once it is complete.
 */
export function dedupePhase(
  deps: DedupeDeps,
  finalizer: BatchFinalizer,
): PhaseDefinition<EnrichedLead, DedupedLead> {
  return definePhase<EnrichedLead, DedupedLead>({
    name: 'dedupe',
    input: { topic: TOPICS.enriched, record: 'EnrichedLead' },
    output: { topic: TOPICS.deduped, record: 'DedupedLead' },
    keyOf: (lead) => lead.meta.account_id,
    batch: async (inputs) => {
      const results: PhaseResult<DedupedLead>[] = inputs.map(() => drop());
      const streams = new Map<string, number[]>();
      const files: EnrichedLead[] = [];
      inputs.forEach((lead, i) => {
        const batchId = lead.meta.batch_id;
        if (!isStreamBatch(batchId)) files.push(lead);
        else streams.set(batchId, [...(streams.get(batchId) ?? []), i]);
      });
      for (const [batchId, at] of streams) {
        const resolved = await resolveStream(
          deps,
          batchId,
          at.map((i) => inputs[i] as EnrichedLead),
        );
        at.forEach((i, k) => {
          results[i] = ok(resolved[k] as DedupedLead);
        });
      }
      const { stored, late } = await deps.open.store(files);
      if (late) deps.log.info({ late }, 'leads of finalized batches redelivered; dropped');
      for (const batchId of stored) await finalizer.tryQuietly(batchId);
      return results;
    },
  });
}
