import type { UnreadableReason } from './pieces.ts';

/**
 * What makes one value unreadable, so that its row (not the file) is rejected: a mail tool's export with
 * a few damaged cells costs those rows and nothing else.
 *
 * Control characters are C0 (U+0000-U+001F) except tab, LF and CR (which quoted cells legitimately hold),
 * DEL and C1 (U+007F-U+009F). U+FFFD is what decoding makes of bytes invalid in the file's encoding.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_ALL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
const REPLACEMENT = '\uFFFD';

/** Longest value read in one cell (CSV) or key (JSON), in characters: far beyond any real lead field. */
export const DEFAULT_MAX_FIELD_CHARS = 32 * 1024;

export interface CellProblem {
  reason: UnreadableReason;
  detail: string;
}

/** null when the value is readable; else why not, naming the column. */
export function cellProblem(column: string, value: string, maxFieldChars: number): CellProblem | null {
  const name = JSON.stringify(column.length > 80 ? `${column.slice(0, 80)}…` : column);
  if (value.length > maxFieldChars) {
    return {
      reason: 'field_too_large',
      detail: `column ${name} holds ${value.length} characters (limit ${maxFieldChars})`,
    };
  }
  const control = CONTROL.exec(value);
  if (control) {
    const code = (control[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
    return {
      reason: 'control_characters',
      detail: `column ${name} holds the control character U+${code} at position ${control.index + 1}`,
    };
  }
  if (value.includes(REPLACEMENT)) {
    return {
      reason: 'invalid_encoding',
      detail: `column ${name} holds bytes that are not valid in the file's encoding`,
    };
  }
  return null;
}

/** A header or key as a column name: control characters are no part of a name, so they are dropped. */
export const withoutControls = (name: string): string => name.replace(CONTROL_ALL, '');

/**
 * Whole-file rule: the file is binary (refused) when more than BINARY_SHARE of the first 65,536
 * characters of its text (the sample format detection reads) are NUL, other control characters (as
 * above, FF included) or U+FFFD. Text exports stay far below it even with many damaged cells (those
 * rows are rejected one by one); executables, databases, images and random bytes are far above it
 * (random bytes: about 14 %).
 */
export const BINARY_SHARE = 0.1;

export function suspiciousShare(text: string): number {
  if (text.length === 0) return 0;
  let suspicious = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || (c >= 0x7f && c <= 0x9f) || c === 0xfffd) suspicious++;
  }
  return suspicious / text.length;
}
