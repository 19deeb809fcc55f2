/**
 * What a format tokenizer produces: the data of one record with the 1-based line where it starts, or a
 * record it could not read (with the first characters of it, for the rejection's raw_line).
 */
export type Piece<T> =
  | { kind: 'data'; line: number; data: T }
  | { kind: 'bad'; line: number; reason: UnreadableReason; detail: string; raw: string };

export const UNREADABLE_REASONS = [
  'unterminated_quote',
  'record_too_large',
  'invalid_json',
  'non_object_element',
  'truncated_json',
  // One value of the record (cells.ts): the record is read, but that value cannot be a lead's.
  'control_characters',
  'invalid_encoding',
  'field_too_large',
  'nested_too_deep',
] as const;

export type UnreadableReason = (typeof UNREADABLE_REASONS)[number];

/** A push tokenizer: text in (any chunking), complete pieces out, in order. */
export interface Tokenizer<T> {
  push(text: string, out: Piece<T>[]): void;
  end(out: Piece<T>[]): void;
}

/** How much of an unreadable record is kept in its rejection: enough to find it, never megabytes. */
export const RAW_HEAD_CHARS = 1000;

/** One mebichar: far beyond any real lead record, small enough that one bad record cannot hurt memory. */
export const DEFAULT_MAX_RECORD_CHARS = 1 << 20;

export function tooLarge<T>(line: number, raw: string, max: number): Piece<T> {
  return {
    kind: 'bad',
    line,
    reason: 'record_too_large',
    detail: `record longer than ${max} characters`,
    raw: raw.slice(0, RAW_HEAD_CHARS),
  };
}
