/**
 * Splits a migration file into statements. The HTTP interface runs one statement per request (18.16
 * has no multi-statement mode), so a file's `;` separators are found here, outside quotes and comments.
 */
export function splitStatements(source: string): string[] {
  const out: string[] = [];
  let current = '';
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    const next = source[i + 1];
    if (ch === '-' && next === '-') {
      const end = source.indexOf('\n', i);
      i = end === -1 ? source.length : end;
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      if (end === -1) throw new Error('unterminated /* comment');
      i = end + 2;
      current += ' ';
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      const end = closingQuote(source, i);
      current += source.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    if (ch === ';') {
      pushStatement(out, current);
      current = '';
    } else {
      current += ch;
    }
    i++;
  }
  pushStatement(out, current);
  return out;
}

/** Index of the quote closing the one at `start`; a backslash escapes the next character. */
function closingQuote(source: string, start: number): number {
  const quote = source[start];
  for (let i = start + 1; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === quote) return i;
  }
  throw new Error(`unterminated ${quote} quote starting at offset ${start}`);
}

function pushStatement(out: string[], text: string): void {
  const trimmed = text.trim();
  if (trimmed) out.push(trimmed);
}
