/**
 * ClickHouse access: the client factory, and the one way values reach SQL text.
 *
 * ClickHouse 18.16 (the local stack) has no server-side query parameters, so values are rendered as
 * literals by lit()/sql`` here and nowhere else, and identifiers go through ident(), which accepts only
 * plain names. Every rendering is valid on 18.16 and on current ClickHouse.
 */
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import type { Config } from './config.ts';

/** SQL text that is already safe: produced by sql``, ident() or joinSql(). Plain strings are never trusted. */
export class SqlFragment {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type SqlValue = string | number | bigint | boolean | null | undefined | Date | readonly SqlValue[];

export class SqlLiteralError extends TypeError {}

/**
 * Characters escaped by a named sequence. Both versions also read \xHH, used for every other control
 * character, so the rendered text never holds a raw control byte (NUL included).
 */
const NAMED_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters to escape
const NEEDS_ESCAPE = /[\\'\u0000-\u001f\u007f]/g;
/** In a /u regex a well-formed pair is one code point, so this matches only lone surrogates. */
const LONE_SURROGATE = /\p{Cs}/u;

function escapeChar(ch: string): string {
  return NAMED_ESCAPES[ch] ?? `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** A single-quoted string literal that the server reads back as exactly `s` (UTF-8). */
export function quoteString(s: string): string {
  // A lone surrogate has no UTF-8 form: it would reach the server as U+FFFD and silently change the value.
  if (LONE_SURROGATE.test(s)) throw new SqlLiteralError('string holds a lone UTF-16 surrogate');
  return `'${s.replace(NEEDS_ESCAPE, escapeChar)}'`;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** 'YYYY-MM-DD hh:mm:ss' in UTC: the tables use DateTime('UTC'), so the text means the same on every server. */
export function formatDateTime(d: Date): string {
  const t = d.getTime();
  if (Number.isNaN(t)) throw new SqlLiteralError('invalid Date');
  // DateTime covers 1970-01-01 .. 2106-02-07; outside it a server wraps or clamps without a word.
  if (t < 0 || t >= Date.UTC(2106, 0, 1)) {
    throw new SqlLiteralError(`Date ${d.toISOString()} is outside DateTime's range`);
  }
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  return `${date} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** The smallest normal double. 18.16's lexer rejects subnormal literals (5e-324) as a syntax error. */
const MIN_NORMAL = 2.2250738585072014e-308;

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) throw new SqlLiteralError(`${n} is not a finite number`);
  if (n === 0) return '0';
  if (Math.abs(n) < MIN_NORMAL)
    throw new SqlLiteralError(`${n} is subnormal: ClickHouse 18.16 cannot read it`);
  // Parenthesised so that a literal written after a minus sign can never form a `--` comment.
  return n < 0 ? `(${n})` : String(n);
}

/** Renders one value as a ClickHouse literal. Objects other than Date and arrays are refused. */
export function lit(value: SqlValue): string {
  if (value === null || value === undefined) return 'NULL';
  switch (typeof value) {
    case 'string':
      return quoteString(value);
    case 'number':
      return formatNumber(value);
    case 'bigint':
      // Past the 64-bit range the server would read the digits as a Float64 and round them.
      if (value < -(2n ** 63n) || value >= 2n ** 64n)
        throw new SqlLiteralError(`${value} is outside 64-bit range`);
      return value < 0n ? `(${value})` : String(value);
    case 'boolean':
      // 18.16 has no Bool type: UInt8 0/1 is what its columns and functions use.
      return value ? '1' : '0';
  }
  if (value instanceof Date) return `'${formatDateTime(value)}'`;
  if (Array.isArray(value)) return `[${value.map((v) => lit(v)).join(', ')}]`;
  throw new SqlLiteralError(`cannot render ${Object.prototype.toString.call(value)} as a SQL literal`);
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A back-quoted identifier (`db`.`table` for several parts); only [A-Za-z_][A-Za-z0-9_]* names pass. */
export function ident(...parts: string[]): SqlFragment {
  if (parts.length === 0) throw new SqlLiteralError('ident() needs a name');
  for (const p of parts) {
    if (!IDENT.test(p)) throw new SqlLiteralError(`not a plain identifier: ${JSON.stringify(p)}`);
  }
  return new SqlFragment(parts.map((p) => `\`${p}\``).join('.'));
}

/**
 * Tagged template: every interpolated value becomes a literal via lit(), except SqlFragments (from ident(),
 * joinSql() or a nested sql``), which are inserted as they are:
 * sql`SELECT count() FROM ${ident('leads')} WHERE account_id = ${accountId}`.
 */
export function sql(strings: TemplateStringsArray, ...values: Array<SqlValue | SqlFragment>): SqlFragment {
  let text = strings[0] ?? '';
  values.forEach((v, i) => {
    text += (v instanceof SqlFragment ? v.text : lit(v)) + (strings[i + 1] ?? '');
  });
  return new SqlFragment(text);
}

/** Joins fragments, e.g. optional WHERE conditions with ' AND '. */
export function joinSql(parts: readonly SqlFragment[], separator: ' AND ' | ' OR ' | ', '): SqlFragment {
  return new SqlFragment(parts.map((p) => p.text).join(separator));
}

export type { ClickHouseClient };

export interface ClickHouseOptions {
  /** Database that unqualified names resolve to; defaults to CLICKHOUSE_DATABASE. */
  database?: string;
  /** Per request, including reading the whole response. */
  requestTimeoutMs?: number;
}

/**
 * The official client, pointed at CLICKHOUSE_URL. Checked against 18.16: ping, query (JSONEachRow, also
 * streamed), insert (JSONEachRow, Nullable, Array, DateTime as 'YYYY-MM-DD hh:mm:ss'), command and the
 * request timeout work as they are, since by default the client sends only query_id and database as URL
 * settings. One feature does not exist on 18.16 and must not be used: `query_params` (server-side
 * {name:Type} parameters); render values with sql`` instead. Compression stays off: results are small
 * and on loopback. 64-bit integers come back as JSON strings (ClickHouse's default quoting).
 */
export function createClickHouse(
  config: Pick<Config, 'CLICKHOUSE_URL' | 'CLICKHOUSE_USER' | 'CLICKHOUSE_PASSWORD' | 'CLICKHOUSE_DATABASE'>,
  options: ClickHouseOptions = {},
): ClickHouseClient {
  return createClient({
    url: config.CLICKHOUSE_URL,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
    database: options.database ?? config.CLICKHOUSE_DATABASE,
    request_timeout: options.requestTimeoutMs ?? 30_000,
    compression: { request: false, response: false },
    application: 'leedrush',
    // Failures are thrown to the caller, which logs them with its context; the client's own logger
    // would print each one a second time, with the full request, on stderr.
    log: { level: ClickHouseLogLevel.OFF },
  });
}

/** Runs a statement that returns no rows (DDL, INSERT ... SELECT, ALTER). */
export async function execSql(ch: ClickHouseClient, statement: SqlFragment): Promise<void> {
  await ch.command({ query: statement.text });
}

/** Runs a SELECT and returns its rows as objects (JSONEachRow). */
export async function querySql<T>(ch: ClickHouseClient, statement: SqlFragment): Promise<T[]> {
  const result = await ch.query({ query: statement.text, format: 'JSONEachRow' });
  return result.json<T>();
}
