import type { DedupedLead, EnrichedLead } from '../../schemas/generated.ts';
import { candidatePairs, historyPairs } from './candidates.ts';
import { completeness, connectedGroups, fillFromDuplicates } from './cluster.ts';
import { compare, type Prepared, prepare } from './compare.ts';
import type { DedupeSettings } from './config.ts';
import { type MatchRecord, toMatchRecord } from './match-record.ts';

export interface Resolution {
  /** Every input lead once, in (row_index, lead_id) order. */
  leads: DedupedLead[];
  /** What the history index should learn from this batch: every lead, pointing at its survivor. */
  historyEntries: MatchRecord[];
  stats: {
    leads: number;
    comparisons: number;
    historyComparisons: number;
    linkedPairs: number;
    possiblePairs: number;
    clusters: number;
    duplicates: number;
    historyDuplicates: number;
  };
}

interface Link {
  other: number;
  p: number;
}

const byRowThenId = (a: EnrichedLead, b: EnrichedLead): number =>
  a.meta.row_index - b.meta.row_index ||
  (a.meta.lead_id < b.meta.lead_id ? -1 : a.meta.lead_id > b.meta.lead_id ? 1 : 0);

/**
 * Dedupes one complete batch against itself and against the account's history (records from earlier
 * batches, as the history index returns them). A pure function of the SET of leads: the input is sorted
 * first, so arrival order, redelivery and partitioning cannot change which leads survive.
 */
export function resolveBatch(
  input: EnrichedLead[],
  history: MatchRecord[],
  settings: DedupeSettings,
): Resolution {
  const leads = [...input].sort(byRowThenId);
  const prepared = leads.map((l) => prepare(toMatchRecord(l)));
  const past = history.filter(isHistoryOf(leads)).map((h) => prepare(h));
  const n = leads.length;

  // Every comparison, both directions: confidences need the best match inside and outside a cluster.
  const compared: Link[][] = Array.from({ length: n }, () => []);
  const matched: Array<[number, number]> = [];
  let possiblePairs = 0;

  const pairs = candidatePairs(prepared, settings);
  for (const [i, j] of pairs) {
    const { probability: p } = compare(prepared[i] as Prepared, prepared[j] as Prepared, settings.model);
    compared[i]?.push({ other: j, p });
    compared[j]?.push({ other: i, p });
    if (p >= settings.matchThreshold) matched.push([i, j]);
    else if (p >= settings.possibleThreshold) possiblePairs++;
  }

  const historyCompared: Link[][] = Array.from({ length: n }, () => []);
  const hPairs = historyPairs(prepared, past, settings.maxBlockSize);
  for (const [i, h] of hPairs) {
    const { probability: p } = compare(prepared[i] as Prepared, past[h] as Prepared, settings.model);
    historyCompared[i]?.push({ other: h, p });
    if (p < settings.matchThreshold && p >= settings.possibleThreshold) possiblePairs++;
  }

  const out: DedupedLead[] = new Array(n);
  const survivorOf: string[] = new Array(n);
  let duplicates = 0;
  let historyDuplicates = 0;
  const groups = connectedGroups(n, matched);

  for (const group of groups) {
    const inGroup = new Set(group);
    const bestWith = (i: number, inside: boolean) =>
      Math.max(0, ...(compared[i] ?? []).filter((l) => inGroup.has(l.other) === inside).map((l) => l.p));
    const historical = bestHistoricalMatch(group, historyCompared, past, settings.matchThreshold);

    if (historical) {
      for (const i of group) {
        const lead = leads[i] as EnrichedLead;
        const p = Math.max(bestWith(i, true), ...(historyCompared[i] ?? []).map((l) => l.p));
        out[i] = deduped(lead, true, historical.survivorId, p, group.length + 1, {});
        survivorOf[i] = historical.survivorId;
        duplicates++;
        historyDuplicates++;
      }
      continue;
    }

    const [survivor, ...donors] = [...group].sort((a, b) => rank(a, b, leads)) as [number, ...number[]];
    const survivorLead = leads[survivor] as EnrichedLead;
    const { lead, filledFrom } = fillFromDuplicates(
      survivorLead,
      donors.map((i) => leads[i] as EnrichedLead),
    );
    const bestOutside = Math.max(
      bestWith(survivor, false),
      ...(historyCompared[survivor] ?? []).map((l) => l.p),
    );
    out[survivor] = deduped(lead, false, null, 1 - bestOutside, group.length, filledFrom);
    survivorOf[survivor] = survivorLead.meta.lead_id;
    for (const i of donors) {
      out[i] = deduped(
        leads[i] as EnrichedLead,
        true,
        survivorLead.meta.lead_id,
        bestWith(i, true),
        group.length,
        {},
      );
      survivorOf[i] = survivorLead.meta.lead_id;
      duplicates++;
    }
  }

  return {
    leads: out,
    historyEntries: prepared.map((p, i) => ({ ...p.rec, survivorId: survivorOf[i] as string })),
    stats: {
      leads: n,
      comparisons: pairs.length,
      historyComparisons: hPairs.length,
      linkedPairs: matched.length,
      possiblePairs,
      clusters: groups.filter((g) => g.length > 1).length,
      duplicates,
      historyDuplicates,
    },
  };
}

/**
 * Index entries that are really history for these leads. Leads resolved again (a batch finalized twice
 * after a crash, a redelivered stream lead) find their own entries, and entries of later duplicates
 * pointing at them: neither is an earlier record of the same person.
 */
export function isHistoryOf(leads: EnrichedLead[]): (h: MatchRecord) => boolean {
  const own = new Set(leads.map((l) => l.meta.lead_id));
  return (h) => !own.has(h.id) && !own.has(h.survivorId);
}

/** Survivor order: most complete first; ties go to the smallest (row_index, lead_id), the smaller index. */
function rank(a: number, b: number, leads: EnrichedLead[]): number {
  return completeness(leads[b] as EnrichedLead) - completeness(leads[a] as EnrichedLead) || a - b;
}

/** The historical survivor a cluster belongs to: highest link probability, then smallest survivor id. */
function bestHistoricalMatch(
  group: number[],
  historyCompared: Link[][],
  past: Prepared[],
  threshold: number,
): { survivorId: string; p: number } | null {
  let found: { survivorId: string; p: number } | null = null;
  for (const i of group) {
    for (const link of historyCompared[i] ?? []) {
      if (link.p < threshold) continue;
      const survivorId = past[link.other]?.rec.survivorId as string;
      if (!found || link.p > found.p || (link.p === found.p && survivorId < found.survivorId)) {
        found = { survivorId, p: link.p };
      }
    }
  }
  return found;
}

function deduped(
  lead: EnrichedLead,
  isDuplicate: boolean,
  survivorId: string | null,
  confidence: number,
  clusterSize: number,
  filledFrom: Record<string, string>,
): DedupedLead {
  return {
    ...lead,
    dedup: {
      is_duplicate: isDuplicate,
      survivor_id: survivorId,
      confidence,
      cluster_size: clusterSize,
      filled_from: filledFrom,
    },
  };
}
