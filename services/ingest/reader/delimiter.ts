import { CsvTokenizer } from './csv-tokenizer.ts';
import type { Piece } from './pieces.ts';

export const DELIMITERS = [',', ';', '\t', '|'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

const SAMPLE_RECORDS = 50;
/** Excel's own declaration, as its first line: `sep=;`. */
const EXCEL_SEPARATOR = /^\s*sep=(.)\r?\n/i;

/**
 * Picks the delimiter that splits the header into several fields and the first records (read
 * quote-aware, so a delimiter inside quotes does not count) into as many, most consistently. Ties go
 * to the order above; a one-column file gets a comma (tab for .tsv names).
 */
export function sniffDelimiter(sample: string, complete: boolean, filename = ''): Delimiter {
  const declared = EXCEL_SEPARATOR.exec(sample)?.[1];
  if (declared && (DELIMITERS as readonly string[]).includes(declared)) return declared as Delimiter;
  const fallback: Delimiter = /\.tsv$/i.test(filename) ? '\t' : ',';
  const counts = DELIMITERS.map((d) => fieldCounts(sample, complete, d));
  // Only when no delimiter splits the first line is it taken for a one-cell title above the header.
  // The title lines are those no candidate splits: each candidate skipping its own one-cell lines would
  // let a wrong one skip the real header too and be judged on data rows.
  const titleLines = Math.min(...counts.map(leadingOneCellRecords));
  return (
    pickBest(counts.map((c) => consistency(c))) ??
    pickBest(counts.map((c) => consistency(c.slice(titleLines)))) ??
    fallback
  );
}

function pickBest(scores: number[]): Delimiter | null {
  let best: Delimiter | null = null;
  let bestScore = 0;
  scores.forEach((score, i) => {
    if (score > bestScore) {
      best = DELIMITERS[i] as Delimiter;
      bestScore = score;
    }
  });
  return best;
}

const leadingOneCellRecords = (counts: number[]): number => {
  const header = counts.findIndex((c) => c > 1);
  return header === -1 ? counts.length : header;
};

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

/**
 * A real header names several columns, and most rows have as many cells as it: a candidate that does
 * not split the header scores 0; otherwise the share of rows with the header's cell count (at least a
 * little above 0, for files whose every row is ragged).
 */
function consistency(counts: number[]): number {
  const [header, ...rows] = counts;
  if (header === undefined || header < 2) return 0;
  if (rows.length === 0) return 1;
  return Math.max(0.001, rows.filter((c) => c === header).length / rows.length);
}
