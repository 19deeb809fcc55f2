import { cellProblem, withoutControls } from './cells.ts';
import { type LeadField, leadFieldFor } from './headers.ts';
import type { UnreadableReason } from './pieces.ts';

/**
 * A record mapped to RawLead columns. Empty cells are left out of both maps (absent = empty), so a
 * ragged row's missing cells and an empty cell read the same.
 */
export interface LeadRow {
  fields: Partial<Record<LeadField, string>>;
  /** Unmapped columns by original header; cells past the header as `_extra_1`, `_extra_2`, ... */
  extras: Record<string, string>;
}

/** null: a blank record (not a row). A reason: the record was read but one of its values is unreadable. */
export type RowMapper<T> = (data: T) => LeadRow | { reason: UnreadableReason; detail: string } | null;

export interface Columns {
  ok: true;
  columns: string[];
  /** The column read as the email ('' when no record could be read to tell). */
  emailColumn: string;
}
export interface CsvLayout extends Columns {
  /** Per column: the RawLead column it fills, or null (an extra). */
  fields: (LeadField | null)[];
  /** Per column: its key in extras. */
  keys: string[];
}
export type Refusal = { ok: false; detail: string };

/** JSON nesting deeper than this is refused per record: JSON.stringify of it would overflow the stack. */
export const MAX_JSON_DEPTH = 64;

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_LISTED_COLUMNS = 20;

/**
 * Maps each header to a RawLead column by alias; when two headers mean the same column the first wins
 * and the others stay extras. Extras are keyed by header (blank headers as `_column_N`, repeated ones
 * with `_2`, `_3`, ...).
 */
export function csvLayout(header: string[]): CsvLayout | Refusal {
  const columns = header.map((h) => withoutControls(h).trim());
  const fields: (LeadField | null)[] = [];
  const keys: string[] = [];
  const taken = new Set<string>();
  const mapped = new Map<LeadField, string>();
  columns.forEach((name, j) => {
    const field = leadFieldFor(name);
    if (field && !mapped.has(field)) {
      mapped.set(field, name);
      fields.push(field);
    } else {
      fields.push(null);
    }
    keys.push(uniqueKey(name || `_column_${j + 1}`, taken));
  });
  const emailColumn = mapped.get('email');
  if (emailColumn !== undefined) return { ok: true, columns, emailColumn, fields, keys };
  return { ok: false, detail: noEmailDetail(columns) };
}

function uniqueKey(name: string, taken: Set<string>): string {
  let key = name;
  for (let n = 2; taken.has(key); n++) key = `${name}_${n}`;
  taken.add(key);
  return key;
}

function noEmailDetail(columns: string[]): string {
  if (columns.some((c) => EMAIL_SHAPE.test(c))) {
    return 'the first row holds an email address, so it is data, not a header: add a header row naming the columns (e.g. Email)';
  }
  const listed = columns.slice(0, MAX_LISTED_COLUMNS).map((c) => JSON.stringify(c));
  const more = columns.length > MAX_LISTED_COLUMNS ? `, ... (${columns.length} in all)` : '';
  return `no column is recognisable as email (columns: ${listed.join(', ')}${more}); name it e.g. "Email"`;
}

/**
 * Extras are keyed by whatever headers and JSON keys the file has: without a prototype, a column named
 * `__proto__` is kept like any other instead of vanishing into the setter.
 */
const newExtras = (): LeadRow['extras'] => Object.create(null);

export function csvRowMapper(layout: CsvLayout, maxFieldChars: number): RowMapper<string[]> {
  const { fields: columnFields, keys } = layout;
  const width = keys.length;
  return (values) => {
    if (values.every((v) => v.trim() === '')) return null;
    const fields: LeadRow['fields'] = {};
    const extras = newExtras();
    for (let j = 0; j < values.length; j++) {
      const v = values[j] as string;
      if (v === '') continue;
      const key = j < width ? (keys[j] as string) : `_extra_${j - width + 1}`;
      const problem = cellProblem(key, v, maxFieldChars);
      if (problem) return problem;
      const field = j < width ? columnFields[j] : null;
      if (field) fields[field] = v;
      else extras[key] = v;
    }
    return { fields, extras };
  };
}

/**
 * JSON keys map like CSV headers, per object (objects need not share keys). Nested objects and arrays
 * are kept as JSON text in extras, never flattened into a lead column; null is an empty value.
 */
export function jsonRowMapper(maxFieldChars: number): RowMapper<string> {
  const fieldOf = memo(leadFieldFor);
  return (text) => {
    if (nestingDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      return { reason: 'nested_too_deep', detail: `nested deeper than ${MAX_JSON_DEPTH} levels` };
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return { reason: 'invalid_json', detail: (err as Error).message };
    }
    if (!isPlainObject(value)) {
      return { reason: 'non_object_element', detail: `expected an object, got ${describe(value)}` };
    }
    const fields: LeadRow['fields'] = {};
    const extras = newExtras();
    for (const [key, v] of Object.entries(value)) {
      if (v === null || v === undefined) continue;
      const nested = typeof v === 'object';
      const s = typeof v === 'string' ? v : nested ? JSON.stringify(v) : String(v);
      if (s === '') continue;
      const problem = cellProblem(key, key, maxFieldChars) ?? cellProblem(key, s, maxFieldChars);
      if (problem) return problem;
      const field = nested ? null : fieldOf(key);
      if (field && fields[field] === undefined) fields[field] = s;
      else extras[key] = s;
    }
    return { fields, extras };
  };
}

/** Columns of a JSON upload: the keys of its first objects. No email key among them → refused. */
export function jsonLayout(elements: string[]): Columns | Refusal {
  const columns = new Set<string>();
  for (const text of elements) {
    try {
      const value: unknown = JSON.parse(text);
      if (isPlainObject(value)) for (const key of Object.keys(value)) columns.add(key);
    } catch {
      // An unreadable element becomes a rejection when the rows are read; it has no columns.
    }
  }
  const list = [...columns];
  if (elements.length > 0 && list.length === 0) {
    // Nothing readable to judge by: the rows will all be rejections, each with its reason.
    return { ok: true, columns: list, emailColumn: '' };
  }
  const emailColumn = list.find((c) => leadFieldFor(c) === 'email');
  if (emailColumn !== undefined) return { ok: true, columns: list, emailColumn };
  return { ok: false, detail: noEmailDetail(list) };
}

/**
 * The deepest nesting of arrays and objects in a JSON text, counted up to `limit + 1` (enough to
 * refuse). A flat object (the usual lead) has no bracket after its first and is not scanned.
 */
function nestingDepth(text: string, limit: number): number {
  if (text.indexOf('{', 1) === -1 && text.indexOf('[') === -1) return 1;
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length && deepest <= limit; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) deepest = Math.max(deepest, ++depth);
    else if (c === 125 || c === 93) depth--;
  }
  return deepest;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

const MEMO_LIMIT = 10_000;

/** Header lookups repeat for every JSON object; the memo is bounded against objects with random keys. */
function memo<V>(fn: (key: string) => V): (key: string) => V {
  const cache = new Map<string, V>();
  return (key) => {
    let v = cache.get(key);
    if (v === undefined && !cache.has(key)) {
      v = fn(key);
      if (cache.size < MEMO_LIMIT) cache.set(key, v);
    }
    return v as V;
  };
}
