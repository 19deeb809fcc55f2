import type { EnrichedLead } from '../../schemas/generated.ts';
import { blockingKeys } from './blocking.ts';
import { historyPairs, pairsOfBlocks } from './candidates.ts';
import { completeness, connectedGroups } from './cluster.ts';
import { compare, type Prepared, prepare } from './compare.ts';
import type { DedupeSettings } from './config.ts';
import { type MatchRecord, toMatchRecord } from './match-record.ts';

/**
 * What resolution needs of a lead, without the lead: its comparison view, its blocking keys and the
 * completeness that ranks survivors. A few hundred bytes instead of the whole enriched lead, so an open
 * batch of 100,000 leads fits in tens of megabytes while the leads themselves stay in Redis.
 */
export interface Member {
  id: string;
  row: number;
  completeness: number;
  prepared: Prepared;
  keys: string[];
}

export function memberOf(lead: EnrichedLead): Member {
  const prepared = prepare(toMatchRecord(lead));
  return {
    id: lead.meta.lead_id,
    row: lead.meta.row_index,
    completeness: completeness(lead),
    prepared,
    keys: blockingKeys(prepared),
  };
}

/** The batch order every decision is taken in: row index, then lead id. Arrival order never matters. */
export const byRowThenId = (a: Member, b: Member): number =>
  a.row - b.row || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** What became of one lead. */
export interface Verdict {
  member: Member;
  isDuplicate: boolean;
  survivorId: string | null;
  confidence: number;
  clusterSize: number;
  /** A survivor's duplicates in fill order (most complete first): the donors of its missing fields. */
  donors: string[];
}

export interface DecisionStats {
  leads: number;
  comparisons: number;
  historyComparisons: number;
  linkedPairs: number;
  possiblePairs: number;
  clusters: number;
  duplicates: number;
  historyDuplicates: number;
}

export interface Decision {
  /** Every lead once, in (row_index, lead_id) order. */
  verdicts: Verdict[];
  stats: DecisionStats;
}

interface Link {
  other: number;
  p: number;
}

/** Pair key of two arrival slots (fewer than 2^26 leads per batch). */
const SLOTS = 2 ** 26;
const pairKey = (a: number, b: number) => (a < b ? a * SLOTS + b : b * SLOTS + a);

/**
 * One open batch, indexed as its leads arrive: blocking keys are filed and every pair that shares a
 * block of at most `maxBlockSize` members is compared at once, so when the batch is complete only the
 * oversized blocks (compared by sorted neighbourhood, which needs the whole block) and the clustering
 * are left. `decide` takes the candidate pairs from the complete set, in (row_index, lead_id) order, and
 * only looks comparisons up in what was computed on arrival: the result is a function of the set of
 * leads, whatever order they came in or how often.
 */
export class BatchIndex {
  private readonly members: Member[] = [];
  private readonly slotOf = new Map<string, number>();
  /** Blocking key → arrival slots; a key held by one lead (most keys) is stored as that slot. */
  private readonly blocks = new Map<string, number | number[]>();
  private readonly probabilities = new Map<number, number>();

  constructor(private readonly settings: DedupeSettings) {}

  static of(leads: EnrichedLead[], settings: DedupeSettings): BatchIndex {
    const index = new BatchIndex(settings);
    for (const lead of leads) index.add(memberOf(lead));
    return index;
  }

  get size(): number {
    return this.slotOf.size;
  }

  has(leadId: string): boolean {
    return this.slotOf.has(leadId);
  }

  /** Adds a lead; a redelivered lead replaces itself. Compares it with the members of its small blocks. */
  add(member: Member): void {
    const known = this.slotOf.get(member.id);
    if (known !== undefined) {
      this.replace(known, member);
      return;
    }
    const slot = this.members.length;
    this.members.push(member);
    this.slotOf.set(member.id, slot);
    for (const key of member.keys) {
      const block = this.blocks.get(key);
      if (block === undefined) {
        this.blocks.set(key, slot);
        continue;
      }
      const list = typeof block === 'number' ? [block] : block;
      if (list.length < this.settings.maxBlockSize) for (const other of list) this.probability(other, slot);
      list.push(slot);
      if (typeof block === 'number') this.blocks.set(key, list);
    }
  }

  /** Every blocking key of the batch: what the account's history is looked up by. */
  keys(): IterableIterator<string> {
    return this.blocks.keys();
  }

  ids(): IterableIterator<string> {
    return this.slotOf.keys();
  }

  /**
   * Decides the batch against the account's history: clusters, survivors, confidences. `history` holds
   * earlier batches' records; entries of the batch's own leads in it are not history (isHistoryOf).
   */
  decide(history: MatchRecord[]): Decision {
    const { settings } = this;
    const order = this.members.map((_, slot) => slot).sort((a, b) => this.compareSlots(a, b));
    const n = order.length;
    const at = new Array<number>(n);
    order.forEach((slot, i) => {
      at[slot] = i;
    });
    const sorted = order.map((slot) => this.members[slot] as Member);

    // Every comparison, both directions: confidences need the best match inside and outside a cluster.
    const compared: Link[][] = Array.from({ length: n }, () => []);
    const matched: Array<[number, number]> = [];
    let possiblePairs = 0;
    const pairs = this.candidatePairs(sorted, at);
    for (const [i, j] of pairs) {
      const p = this.probability(order[i] as number, order[j] as number);
      compared[i]?.push({ other: j, p });
      compared[j]?.push({ other: i, p });
      if (p >= settings.matchThreshold) matched.push([i, j]);
      else if (p >= settings.possibleThreshold) possiblePairs++;
    }

    const past = history.filter(isHistoryOf(this.slotOf)).map((h) => prepare(h));
    const historyCompared: Link[][] = Array.from({ length: n }, () => []);
    const hPairs = historyPairs(
      sorted.map((m) => m.keys),
      past,
      settings.maxBlockSize,
    );
    for (const [i, h] of hPairs) {
      const { probability: p } = compare(
        sorted[i]?.prepared as Prepared,
        past[h] as Prepared,
        settings.model,
      );
      historyCompared[i]?.push({ other: h, p });
      if (p < settings.matchThreshold && p >= settings.possibleThreshold) possiblePairs++;
    }

    const verdicts: Verdict[] = new Array(n);
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
          const p = Math.max(bestWith(i, true), ...(historyCompared[i] ?? []).map((l) => l.p));
          verdicts[i] = verdict(sorted[i] as Member, historical.survivorId, p, group.length + 1);
          duplicates++;
          historyDuplicates++;
        }
        continue;
      }
      // Most complete first; ties go to the smaller (row_index, lead_id), i.e. the smaller index.
      const ranked = [...group].sort(
        (a, b) => (sorted[b] as Member).completeness - (sorted[a] as Member).completeness || a - b,
      );
      const [survivor, ...donors] = ranked as [number, ...number[]];
      const survivorMember = sorted[survivor] as Member;
      const bestOutside = Math.max(
        bestWith(survivor, false),
        ...(historyCompared[survivor] ?? []).map((l) => l.p),
      );
      verdicts[survivor] = {
        member: survivorMember,
        isDuplicate: false,
        survivorId: null,
        confidence: 1 - bestOutside,
        clusterSize: group.length,
        donors: donors.map((i) => (sorted[i] as Member).id),
      };
      for (const i of donors) {
        verdicts[i] = verdict(sorted[i] as Member, survivorMember.id, bestWith(i, true), group.length);
        duplicates++;
      }
    }
    return {
      verdicts,
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

  private compareSlots(a: number, b: number): number {
    return byRowThenId(this.members[a] as Member, this.members[b] as Member);
  }

  /** The pair's match probability, compared in batch order, computed once. */
  private probability(a: number, b: number): number {
    const key = pairKey(a, b);
    let p = this.probabilities.get(key);
    if (p === undefined) {
      const [x, y] = this.compareSlots(a, b) < 0 ? [a, b] : [b, a];
      p = compare(
        (this.members[x] as Member).prepared,
        (this.members[y] as Member).prepared,
        this.settings.model,
      ).probability;
      this.probabilities.set(key, p);
    }
    return p;
  }

  /** Candidate pairs in batch order (see candidates.ts), from the blocks filed on arrival. */
  private candidatePairs(sorted: Member[], at: number[]): Array<[number, number]> {
    const shared: number[][] = [];
    for (const block of this.blocks.values())
      if (typeof block !== 'number') shared.push(block.map((slot) => at[slot] as number));
    return pairsOfBlocks(
      shared,
      sorted.map((m) => m.prepared),
      this.settings,
    );
  }

  /** A redelivered lead whose content changed: re-file its keys; comparisons involving it are redone. */
  private replace(slot: number, member: Member): void {
    const old = this.members[slot] as Member;
    if (sameMember(old, member)) return;
    for (const key of old.keys) {
      const block = this.blocks.get(key);
      if (block === slot) this.blocks.delete(key);
      else if (Array.isArray(block)) {
        const rest = block.filter((s) => s !== slot);
        this.blocks.set(key, rest.length === 1 ? (rest[0] as number) : rest);
      }
    }
    this.members[slot] = member;
    for (const key of member.keys) {
      const block = this.blocks.get(key);
      if (block === undefined) this.blocks.set(key, slot);
      else this.blocks.set(key, typeof block === 'number' ? [block, slot] : [...block, slot]);
    }
    // Rare (an upstream phase answered differently the second time): recompute lazily in decide.
    this.probabilities.clear();
  }
}

function sameMember(a: Member, b: Member): boolean {
  return (
    a.row === b.row &&
    a.completeness === b.completeness &&
    JSON.stringify(a.prepared.rec) === JSON.stringify(b.prepared.rec)
  );
}

function verdict(member: Member, survivorId: string, confidence: number, clusterSize: number): Verdict {
  return { member, isDuplicate: true, survivorId, confidence, clusterSize, donors: [] };
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

/**
 * Index entries that are really history for these leads. Leads resolved again (a batch finalized twice
 * after a crash, a redelivered stream lead) find their own entries, and entries of later duplicates
 * pointing at them: neither is an earlier record of the same person.
 */
export function isHistoryOf(ownIds: { has(id: string): boolean }): (h: MatchRecord) => boolean {
  return (h) => !ownIds.has(h.id) && !ownIds.has(h.survivorId);
}
