import type { DedupedLead, EnrichedLead } from '../../schemas/generated.ts';
import { BatchIndex, type Decision, type DecisionStats, type Verdict } from './batch-index.ts';
import { blockingKeys } from './blocking.ts';
import { fillFromDuplicates } from './cluster.ts';
import type { DedupeSettings } from './config.ts';
import type { HistoryEntry } from './history-index.ts';
import type { MatchRecord } from './match-record.ts';

export interface Resolution {
  /** Every input lead once, in (row_index, lead_id) order. */
  leads: DedupedLead[];
  /** What the history index should learn from this batch: every lead, pointing at its survivor. */
  historyEntries: HistoryEntry[];
  stats: DecisionStats;
}

/**
 * Dedupes one complete batch held in memory against itself and against the account's history (records
 * from earlier batches, as the history index returns them). A pure function of the SET of leads: the
 * decision is taken in (row_index, lead_id) order, so arrival order, redelivery and partitioning cannot
 * change which leads survive. The dedupe service takes the same decision without holding the leads
 * (BatchIndex filled as they arrive, leads read back from Redis page by page when emitted).
 */
export function resolveBatch(
  input: EnrichedLead[],
  history: MatchRecord[],
  settings: DedupeSettings,
): Resolution {
  const byId = new Map(input.map((lead) => [lead.meta.lead_id, lead]));
  const decision = BatchIndex.of(input, settings).decide(history);
  const leadOf = (id: string) => byId.get(id) as EnrichedLead;
  return {
    leads: decision.verdicts.map((v) => dedupedLead(v, leadOf)),
    historyEntries: [...historyEntries(decision)],
    stats: decision.stats,
  };
}

/**
 * What the history index learns: every lead's match record, pointing at its survivor (or itself), with
 * its blocking keys. One at a time: the keys of a whole batch as strings are the largest part of what
 * the batch index no longer keeps.
 */
export function* historyEntries(decision: Decision): IterableIterator<HistoryEntry> {
  for (const v of decision.verdicts) {
    yield {
      ...v.member.prepared.rec,
      survivorId: v.survivorId ?? v.member.id,
      keys: blockingKeys(v.member.prepared),
    };
  }
}

/**
 * The output record of one verdict. A survivor takes each missing field group from the first of its
 * donors that has it; `leadOf` must know the lead and, for a survivor, its donors.
 */
export function dedupedLead(v: Verdict, leadOf: (leadId: string) => EnrichedLead): DedupedLead {
  const own = leadOf(v.member.id);
  const { lead, filledFrom } = v.isDuplicate
    ? { lead: own, filledFrom: {} }
    : fillFromDuplicates(own, v.donors.map(leadOf));
  return {
    ...lead,
    dedup: {
      is_duplicate: v.isDuplicate,
      survivor_id: v.survivorId,
      confidence: v.confidence,
      cluster_size: v.clusterSize,
      filled_from: filledFrom,
    },
  };
}
