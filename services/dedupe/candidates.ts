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
  return pairsOfBlocks(buildBlocks(records).values(), records, limits);
}

/** candidatePairs over blocks given as lists of record indices (blocks of one member may be left out). */
export function pairsOfBlocks(
  blocks: Iterable<number[]>,
  records: Prepared[],
  limits: BlockLimits,
): Array<[number, number]> {
  const seen = new Set<number>();
  const pairs: Array<[number, number]> = [];
  const n = records.length;
  const add = (x: number, y: number) => {
    const [i, j] = x < y ? [x, y] : [y, x];
    const id = i * n + j;
    if (seen.has(id)) return;
    seen.add(id);
    pairs.push([i, j]);
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
  return pairs.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
}

/**
 * Pairs (batch index, history index) sharing a blocking key (`batchKeys[i]`: the keys of batch record i). History blocks are already bounded by the
 * index's per-key cap; a batch record meets at most `maxBlockSize` history records per key.
 */
export function historyPairs(
  batchKeys: string[][],
  history: Prepared[],
  maxBlockSize: number,
): Array<[number, number]> {
  if (history.length === 0) return [];
  const historyBlocks = buildBlocks(history);
  const seen = new Set<string>();
  const pairs: Array<[number, number]> = [];
  batchKeys.forEach((keys, i) => {
    for (const key of keys) {
      const members = historyBlocks.get(key) ?? [];
      for (const j of members.slice(0, maxBlockSize)) {
        const id = `${i}:${j}`;
        if (seen.has(id)) continue;
        seen.add(id);
        pairs.push([i, j]);
      }
    }
  });
  return pairs;
}
