import { blockingKeys } from './blocking.ts';
import type { Prepared } from './compare.ts';

export interface BlockLimits {
  maxBlockSize: number;
  blockWindow: number;
}

/** Blocking key -> indices of the records that carry it, in ascending index order. */
export function buildBlocks(records: Prepared[]): Map<string, number[]> {
  const blocks = new Map<string, number[]>();
  records.forEach((p, i) => {
    for (const key of blockingKeys(p)) {
      const members = blocks.get(key);
      if (members) members.push(i);
      else blocks.set(key, [i]);
    }
  });
  return blocks;
}

/** Sort order inside an oversized block: by name, so the neighbours compared are the likely matches. */
export function nameOrder(records: Prepared[]) {
  return (i: number, j: number): number => {
    const a = records[i]?.rec;
    const b = records[j]?.rec;
    if (!a || !b) return i - j;
    return a.last.localeCompare(b.last) || a.first.localeCompare(b.first) || i - j;
  };
}

/**
 * Every candidate pair (i < j) of records sharing a blocking key, each pair once. A block larger than
 * maxBlockSize (a big company full of Smiths, one email pasted on a thousand rows) is not compared
 * all-pairs: its members are sorted by name and each is compared with the next blockWindow ones. The
 * result depends only on the records and their indices, never on the order blocks were filled in.
 */
export function candidatePairs(records: Prepared[], limits: BlockLimits): Array<[number, number]> {
  const n = records.length;
  return Array.from(pairsOfBlocks(buildBlocks(records).values(), records, limits), (id) => pairOf(id, n));
}

/** The pair (i, j) of a pair id from pairsOfBlocks over n records. */
export function pairOf(id: number, n: number): [number, number] {
  const i = Math.floor(id / n);
  return [i, id - i * n];
}

/**
 * candidatePairs over blocks given as lists of record indices (blocks of one member may be left out),
 * as ascending pair ids i * n + j: a million-lead batch has tens of millions of pairs, more than a Set
 * holds, and 8 bytes each here.
 */
export function pairsOfBlocks(
  blocks: Iterable<number[]>,
  records: Prepared[],
  limits: BlockLimits,
): Float64Array {
  const n = records.length;
  let ids = new Float64Array(1 << 12);
  let count = 0;
  const add = (x: number, y: number) => {
    if (count === ids.length) {
      const grown = new Float64Array(ids.length * 2);
      grown.set(ids);
      ids = grown;
    }
    ids[count++] = x < y ? x * n + y : y * n + x;
  };
  for (const members of blocks) {
    if (members.length < 2) continue;
    if (members.length <= limits.maxBlockSize) {
      for (let a = 0; a < members.length; a++)
        for (let b = a + 1; b < members.length; b++) add(members[a] as number, members[b] as number);
      continue;
    }
    const sorted = [...members].sort(nameOrder(records));
    for (let a = 0; a < sorted.length; a++)
      for (let b = a + 1; b <= a + limits.blockWindow && b < sorted.length; b++)
        add(sorted[a] as number, sorted[b] as number);
  }
  const sorted = ids.subarray(0, count).sort();
  let unique = 0;
  for (let k = 0; k < count; k++)
    if (k === 0 || sorted[k] !== sorted[k - 1]) sorted[unique++] = sorted[k] as number;
  return sorted.slice(0, unique);
}

/**
 * Pairs (batch index, history index) sharing a blocking key, for batch records 0..n-1 (`keysOf(i)`: the
 * keys of batch record i, asked for only when there is history). History blocks are already bounded by
 * the index's per-key cap; a batch record meets at most `maxBlockSize` history records per key.
 */
export function historyPairs(
  n: number,
  keysOf: (i: number) => string[],
  history: Prepared[],
  maxBlockSize: number,
): Array<[number, number]> {
  if (history.length === 0) return [];
  const historyBlocks = buildBlocks(history);
  const pairs: Array<[number, number]> = [];
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    seen.clear();
    for (const key of keysOf(i)) {
      const members = historyBlocks.get(key) ?? [];
      for (const j of members.slice(0, maxBlockSize)) {
        if (seen.has(j)) continue;
        seen.add(j);
        pairs.push([i, j]);
      }
    }
  }
  return pairs;
}
