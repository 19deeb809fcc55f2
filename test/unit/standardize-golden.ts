import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const GOLDEN = join(import.meta.dirname, '..', 'fixtures', 'golden');

// Cells may spell invisible characters as \uXXXX, \t, \r, \n so the tables stay readable.
function unescapeCell(cell: string): string {
  return cell
    .replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    .replace(/\\t/g, '\t')
    .replace(/\\r/g, '\r')
    .replace(/\\n/g, '\n');
}

/**
 * A golden table: a TSV file whose header row must be exactly `columns`; an empty cell is null (absent
 * input or null expectation). Rows carry their line number for failure messages.
 */
export function readGolden<C extends string>(
  file: string,
  columns: readonly C[],
): Array<{ line: number; row: Record<C, string | null> }> {
  const lines = readFileSync(join(GOLDEN, file), 'utf8').split('\n');
  const header = (lines[0] ?? '').split('\t');
  if (header.join('\t') !== columns.join('\t')) throw new Error(`${file}: header ${header.join(', ')}`);
  const rows: Array<{ line: number; row: Record<C, string | null> }> = [];
  lines.slice(1).forEach((text, index) => {
    if (text === '') return;
    const cells = text.split('\t');
    if (cells.length !== header.length) throw new Error(`${file}:${index + 2}: ${cells.length} cells`);
    const row = {} as Record<C, string | null>;
    columns.forEach((column, i) => {
      const cell = cells[i] ?? '';
      row[column] = cell === '' ? null : unescapeCell(cell);
    });
    rows.push({ line: index + 2, row });
  });
  return rows;
}
