import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { EnrichedLead } from '../../schemas/generated.ts';
import { blockingKeys } from './blocking.ts';
import { historyPairs, pairOf, pairsOfBlocks } from './candidates.ts';
import { completeness, connectedGroups } from './cluster.ts';
import { compare, type Prepared, prepare } from './compare.ts';
import type { DedupeSettings } from './config.ts';
import { KeyTable } from './key-table.ts';
import { type MatchRecord, toMatchRecord } from './match-record.ts';
import { PairTable } from './pair-table.ts';

/**
 * What resolution needs of a lead, without the lead: its comparison view, its blocking keys and the
 * completeness that ranks survivors. The index keeps about 1.1 KB per lead of it (100,000 generated
 * leads: 100 MB of heap and 15 MB of typed arrays), while the leads themselves stay in Redis.
 */
export interface Member extends Filed {
  keys: string[];
}

/**
 * A member as the index keeps it: without its blocking keys, which are 1.2 KB of a member's 2 KB as
 * strings. They are computed again from `prepared` (blockingKeys) where they are needed after filing:
 * for the history, and for a redelivered lead that changed.
 */
export interface Filed {
  id: string;
  row: number;
  completeness: number;
  prepared: Prepared;
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
export const byRowThenId = (a: Filed, b: Filed): number =>
  a.row - b.row || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** What became of one lead. */
export interface Verdict {
  member: Filed;
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

/** Pairs (or clusters) decided between yields to the event loop: a few milliseconds of work. */
const DECIDE_SLICE = 1 << 15;
const endsSlice = (k: number) => k % DECIDE_SLICE === DECIDE_SLICE - 1;

/** Pair key of two arrival slots (fewer than 2^26 leads per batch; never 0, which PairTable keeps for empty). */
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
  private readonly members: Filed[] = [];
  private readonly slotOf = new Map<string, number>();
  /** Blocking key → its block number, and each block's arrival slots. */
  private readonly blockOf = new KeyTable();
  /** A block held by one lead (most blocks) is stored as that slot. */
  private readonly blocks: Array<number | number[]> = [];
  private readonly probabilities = new PairTable();

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
    this.slotOf.set(member.id, slot);
    this.members.push(filedOf(member));
    this.file(slot, member.keys, true);
  }

  /**
   * Files a member's keys in their blocks; with `compare`, compares it with the members of every block
   * it joins that is still small.
   */
  private file(slot: number, keys: string[], compare: boolean): void {
    for (const key of keys) {
      const b = this.blockOf.get(key);
      if (b === undefined) {
        this.blockOf.set(key, this.blocks.length);
        this.blocks.push(slot);
        continue;
      }
      const block = this.blocks[b] as number | number[];
      const list = typeof block === 'number' ? [block] : block;
      if (compare && list.length < this.settings.maxBlockSize)
        for (const other of list) this.probability(other, slot);
      list.push(slot);
      this.blocks[b] = list;
    }
  }

  /**
   * Every blocking key of the batch, lead by lead (a key shared by several leads comes once per lead):
   * what the account's history is looked up by.
   */
  *keys(): IterableIterator<string> {
    for (const member of this.members) yield* blockingKeys(member.prepared);
  }

  ids(): IterableIterator<string> {
    return this.slotOf.keys();
  }

  /**
   * Decides the batch against the account's history: clusters, survivors, confidences. `history` holds
   * earlier batches' records; entries of the batch's own leads in it are not history (isHistoryOf).
   */
  decide(history: MatchRecord[]): Decision {
    const steps = this.deciding(history);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
    }
  }

  /**
   * The same decision, yielding to the event loop between slices of its loops: a batch of a million
   * leads has tens of millions of pairs, and one synchronous pass over them held the loop past the
   * group's session timeout (the consumer was dropped from its group) and Redis replies past their
   * command timeout.
   */
  async decideYielding(history: MatchRecord[]): Promise<Decision> {
    const steps = this.deciding(history);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      await yieldToLoop();
    }
  }

  /** `decide`, as steps that yield every DECIDE_SLICE pairs or clusters. */
  private *deciding(history: MatchRecord[]): Generator<void, Decision> {
    const { settings } = this;
    const order = this.members.map((_, slot) => slot).sort((a, b) => this.compareSlots(a, b));
    const n = order.length;
    const at = new Array<number>(n);
    order.forEach((slot, i) => {
      at[slot] = i;
    });
    const sorted = order.map((slot) => this.members[slot] as Filed);
    yield;

    const matched: Array<[number, number]> = [];
    let possiblePairs = 0;
    const pairs = this.candidatePairs(sorted, at);
    yield;
    const probabilities = new Float64Array(pairs.length);
    for (let k = 0; k < pairs.length; k++) {
      if (endsSlice(k)) yield;
      const [i, j] = pairOf(pairs[k] as number, n);
      const p = this.probability(order[i] as number, order[j] as number);
      probabilities[k] = p;
      if (p >= settings.matchThreshold) matched.push([i, j]);
      else if (p >= settings.possibleThreshold) possiblePairs++;
    }
    yield;
    const groups = connectedGroups(n, matched);
    // Confidences need each lead's best match inside and outside its cluster.
    const groupOf = new Int32Array(n);
    groups.forEach((group, g) => {
      for (const i of group) groupOf[i] = g;
    });
    const bestInside = new Float64Array(n);
    const bestOutside = new Float64Array(n);
    for (let k = 0; k < pairs.length; k++) {
      if (endsSlice(k)) yield;
      const [i, j] = pairOf(pairs[k] as number, n);
      const p = probabilities[k] as number;
      const best = groupOf[i] === groupOf[j] ? bestInside : bestOutside;
      best[i] = Math.max(best[i] as number, p);
      best[j] = Math.max(best[j] as number, p);
    }
    yield;

    const past = history.filter(isHistoryOf(this.slotOf)).map((h) => prepare(h));
    const historyCompared: Link[][] = new Array(n);
    const hPairs = historyPairs(
      n,
      (i) => blockingKeys((sorted[i] as Filed).prepared),
      past,
      settings.maxBlockSize,
    );
    for (const [i, h] of hPairs) {
      const { probability: p } = compare(
        sorted[i]?.prepared as Prepared,
        past[h] as Prepared,
        settings.model,
      );
      historyCompared[i] ??= [];
      historyCompared[i].push({ other: h, p });
      if (p < settings.matchThreshold && p >= settings.possibleThreshold) possiblePairs++;
    }
    const bestInHistory = (i: number) => Math.max(0, ...(historyCompared[i] ?? []).map((l) => l.p));

    const verdicts: Verdict[] = new Array(n);
    const verdictOf = (i: number, survivorId: string, confidence: number, clusterSize: number): Verdict => {
      return {
        member: sorted[i] as Filed,
        isDuplicate: true,
        survivorId,
        confidence,
        clusterSize,
        donors: [],
      };
    };
    let duplicates = 0;
    let historyDuplicates = 0;
    for (const [g, group] of groups.entries()) {
      if (endsSlice(g)) yield;
      const historical = bestHistoricalMatch(group, historyCompared, past, settings.matchThreshold);
      if (historical) {
        for (const i of group) {
          const p = Math.max(bestInside[i] as number, bestInHistory(i));
          verdicts[i] = verdictOf(i, historical.survivorId, p, group.length + 1);
          duplicates++;
          historyDuplicates++;
        }
        continue;
      }
      // Most complete first; ties go to the smaller (row_index, lead_id), i.e. the smaller index.
      const ranked = [...group].sort(
        (a, b) => (sorted[b] as Filed).completeness - (sorted[a] as Filed).completeness || a - b,
      );
      const [survivor, ...donors] = ranked as [number, ...number[]];
      const survivorMember = sorted[survivor] as Filed;
      verdicts[survivor] = {
        ...verdictOf(survivor, survivorMember.id, 0, group.length),
        isDuplicate: false,
        survivorId: null,
        confidence: 1 - Math.max(bestOutside[survivor] as number, bestInHistory(survivor)),
        donors: donors.map((i) => (sorted[i] as Filed).id),
      };
      for (const i of donors) {
        verdicts[i] = verdictOf(i, survivorMember.id, bestInside[i] as number, group.length);
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
    return byRowThenId(this.members[a] as Filed, this.members[b] as Filed);
  }

  /** The pair's match probability, compared in batch order, computed once. */
  private probability(a: number, b: number): number {
    const key = pairKey(a, b);
    let p = this.probabilities.get(key);
    if (p === undefined) {
      const [x, y] = this.compareSlots(a, b) < 0 ? [a, b] : [b, a];
      p = compare(
        (this.members[x] as Filed).prepared,
        (this.members[y] as Filed).prepared,
        this.settings.model,
      ).probability;
      this.probabilities.set(key, p);
    }
    return p;
  }

  /** Candidate pairs in batch order (see candidates.ts), from the blocks filed on arrival. */
  private candidatePairs(sorted: Filed[], at: number[]): Float64Array {
    const shared: number[][] = [];
    for (const block of this.blocks)
      if (typeof block !== 'number' && block.length > 1) shared.push(block.map((slot) => at[slot] as number));
    return pairsOfBlocks(
      shared,
      sorted.map((m) => m.prepared),
      this.settings,
    );
  }

  /** A redelivered lead whose content changed: re-file its keys; comparisons involving it are redone. */
  private replace(slot: number, member: Member): void {
    const old = this.members[slot] as Filed;
    if (sameMember(old, member)) return;
    for (const key of blockingKeys(old.prepared)) {
      const b = this.blockOf.get(key) as number;
      const block = this.blocks[b] as number | number[];
      if (block === slot) this.blocks[b] = [];
      else if (Array.isArray(block)) {
        const rest = block.filter((s) => s !== slot);
        this.blocks[b] = rest.length === 1 ? (rest[0] as number) : rest;
      }
    }
    this.members[slot] = filedOf(member);
    this.file(slot, member.keys, false);
    // Rare (an upstream phase answered differently the second time): recompute lazily in decide.
    this.probabilities.clear();
  }
}

function filedOf({ id, row, completeness, prepared }: Member): Filed {
  return { id, row, completeness, prepared };
}

function sameMember(a: Filed, b: Filed): boolean {
  return (
    a.row === b.row &&
    a.completeness === b.completeness &&
    JSON.stringify(a.prepared.rec) === JSON.stringify(b.prepared.rec)
  );
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
