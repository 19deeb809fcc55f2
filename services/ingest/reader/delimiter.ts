import { CsvTokenizer } from './csv-tokenizer.ts';
import type { Piece } from './pieces.ts';

export const DELIMITERS = [',', ';', '\t', '|'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

const SAMPLE_RECORDS = 50;

/**
 * Picks the delimiter that splits the first records (read quote-aware, so a delimiter inside quotes does
 * not count) into the same number of fields most consistently, more than one field. Ties go to the order
 * above; a one-column file gets a comma (tab for .tsv names).
 */
export function sniffDelimiter(sample: string, complete: boolean, filename = ''): Delimiter {
  let best: Delimiter = /\.tsv$/i.test(filename) ? '\t' : ',';
  let bestScore = 0;
  for (const d of DELIMITERS) {
    const score = consistency(fieldCounts(sample, complete, d));
    if (score > bestScore) {
      best = d;
      bestScore = score;
    }
  }
  return best;
}

function fieldCounts(sample: string, complete: boolean, delimiter: Delimiter): number[] {
  const tokenizer = new CsvTokenizer(delimiter.charCodeAt(0));
  const pieces: Piece<string[]>[] = [];
  tokenizer.push(sample, pieces);
  // Without the end of the file the last record may be cut: it is left out rather than miscounted.
  if (complete) tokenizer.end(pieces);
  const counts: number[] = [];
  for (const p of pieces) {
    if (p.kind !== 'data' || p.data.every((f) => f.trim() === '')) continue;
    counts.push(p.data.length);
    if (counts.length === SAMPLE_RECORDS) break;
  }
  return counts;
}

/** Share of records having the most common field count, 0 when that count is 1 (nothing split). */
function consistency(counts: number[]): number {
  if (counts.length === 0) return 0;
  const freq = new Map<number, number>();
  let mode = 0;
  let modeFreq = 0;
  for (const c of counts) {
    const f = (freq.get(c) ?? 0) + 1;
    freq.set(c, f);
    if (f > modeFreq || (f === modeFreq && c > mode)) {
      mode = c;
      modeFreq = f;
    }
  }
  if (mode < 2) return 0;
  // The header decides between equally consistent candidates: it has the most fields.
  const headerBonus = counts[0] === mode ? 0.001 : 0;
  return modeFreq / counts.length + headerBonus;
}
