import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatDateTime,
  ident,
  joinSql,
  lit,
  quoteString,
  SqlFragment,
  SqlLiteralError,
  sql,
} from '../../services/lib/clickhouse.ts';

/**
 * Reads a literal back the way ClickHouse's lexer and string parser do: an unescaped quote ends it,
 * a backslash escapes the next character. Returns the decoded value and where the literal ended.
 */
function readQuoted(text: string): { value: string; end: number } {
  expect(text[0]).toBe("'");
  let value = '';
  for (let i = 1; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === "'") return { value, end: i };
    if (ch !== '\\') {
      value += ch;
      continue;
    }
    const e = text[++i];
    const simple: Record<string, string> = { '\\': '\\', "'": "'", n: '\n', r: '\r', t: '\t' };
    if (e !== undefined && simple[e] !== undefined) value += simple[e];
    else if (e === 'x') {
      value += String.fromCharCode(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else throw new Error(`unexpected escape \\${e}`);
  }
  throw new Error('unterminated literal');
}

describe('quoteString', () => {
  const hostile = [
    '',
    "'",
    "''",
    "\\'",
    '\\',
    '\\\\',
    "it's",
    "'; DROP TABLE leads; --",
    "x' OR '1'='1",
    'a\\',
    "\\'; DROP DATABASE leedrush; SELECT '",
    'line1\nline2\r\nline3',
    'tab\there',
    'nul\u0000byte',
    '\u0000\u0001\u0007\u001b\u001f\u007f',
    '/* comment */ -- comment',
    '`backtick` "double"',
    'Zoë Ünïcödé 日本語 👩‍💻 \u2028\u2029',
    '\uFEFFbom',
    '{name:String}',
    '$1 ? %s',
  ];

  it.each(hostile)('round-trips %j and ends exactly at its closing quote', (s) => {
    const text = quoteString(s);
    const { value, end } = readQuoted(text);
    expect(value).toBe(s);
    expect(end).toBe(text.length - 1);
  });

  it('never leaves a raw control character, NUL included, in the SQL text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
        expect(quoteString(s)).not.toMatch(/[\u0000-\u001f\u007f]/);
      }),
    );
  });

  it('decodes back to the input for arbitrary strings, and nothing follows the closing quote', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const text = quoteString(s);
        const { value, end } = readQuoted(text);
        expect(value).toBe(s);
        expect(end).toBe(text.length - 1);
      }),
    );
  });

  it('escapes quote and backslash by backslash, control characters as \\xHH', () => {
    expect(quoteString("a'b\\c")).toBe("'a\\'b\\\\c'");
    expect(quoteString('\u0000\u001f\u007f')).toBe("'\\x00\\x1f\\x7f'");
    expect(quoteString('\n\r\t')).toBe("'\\n\\r\\t'");
  });

  it('refuses a lone surrogate instead of letting it become U+FFFD', () => {
    expect(() => quoteString('a\uD800b')).toThrow(SqlLiteralError);
    expect(() => quoteString('\uDC00')).toThrow(SqlLiteralError);
    expect(quoteString('\uD83D\uDE00')).toBe("'😀'");
  });
});

describe('lit', () => {
  it('renders finite numbers, negatives in parentheses so no `--` comment can form', () => {
    expect(lit(42)).toBe('42');
    expect(lit(0.1)).toBe('0.1');
    expect(lit(-5)).toBe('(-5)');
    expect(lit(-0)).toBe('0');
    expect(lit(1e21)).toBe('1e+21');
    expect(`1 -${lit(-5)}`).toBe('1 -(-5)');
  });

  it('refuses NaN, infinities and subnormals (which 18.16 cannot parse)', () => {
    expect(lit(2.2250738585072014e-308)).toBe('2.2250738585072014e-308');
    for (const n of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5e-324, -1e-310]) {
      expect(() => lit(n)).toThrow(SqlLiteralError);
    }
  });

  it('renders bigints exactly, beyond 2^53', () => {
    expect(lit(18446744073709551615n)).toBe('18446744073709551615');
    expect(lit(-9007199254740993n)).toBe('(-9007199254740993)');
    expect(lit(-(2n ** 63n))).toBe('(-9223372036854775808)');
    expect(() => lit(2n ** 64n)).toThrow(SqlLiteralError);
    expect(() => lit(-(2n ** 63n) - 1n)).toThrow(SqlLiteralError);
  });

  it('renders booleans as UInt8 and null/undefined as NULL', () => {
    expect(lit(true)).toBe('1');
    expect(lit(false)).toBe('0');
    expect(lit(null)).toBe('NULL');
    expect(lit(undefined)).toBe('NULL');
  });

  it('renders a Date as a UTC DateTime string, dropping milliseconds', () => {
    expect(lit(new Date('2026-03-19T11:04:37.999Z'))).toBe("'2026-03-19 11:04:37'");
    expect(lit(new Date(0))).toBe("'1970-01-01 00:00:00'");
    expect(formatDateTime(new Date('2105-12-31T23:59:59Z'))).toBe('2105-12-31 23:59:59');
  });

  it('refuses invalid dates and dates DateTime cannot hold', () => {
    expect(() => lit(new Date('nope'))).toThrow(SqlLiteralError);
    expect(() => lit(new Date('1969-12-31T23:59:59Z'))).toThrow(SqlLiteralError);
    expect(() => lit(new Date('2106-06-01T00:00:00Z'))).toThrow(SqlLiteralError);
  });

  it('renders arrays recursively, with each element escaped', () => {
    expect(lit([])).toBe('[]');
    expect(lit(['a', "b'c", null, 3, -1])).toBe("['a', 'b\\'c', NULL, 3, (-1)]");
    expect(lit([[1], []])).toBe('[[1], []]');
  });

  it('refuses plain objects, functions, symbols and other classes', () => {
    for (const v of [{}, { toString: () => "'" }, () => 1, Symbol('x'), new Map(), Buffer.from('x')]) {
      expect(() => lit(v as never)).toThrow(SqlLiteralError);
    }
  });
});

describe('ident', () => {
  it('back-quotes plain names and joins qualified parts', () => {
    expect(ident('leads').text).toBe('`leads`');
    expect(ident('t_x_1_leedrush', 'schema_migrations').text).toBe('`t_x_1_leedrush`.`schema_migrations`');
    expect(ident('_a9').text).toBe('`_a9`');
  });

  it.each(['', '1abc', 'a-b', 'a.b', 'a b', 'a`b', "a'b", 'leads; DROP TABLE x', 'é', 'a\u0000'])(
    'refuses %j',
    (name) => {
      expect(() => ident(name)).toThrow(SqlLiteralError);
    },
  );

  it('needs at least one part', () => {
    expect(() => ident()).toThrow(SqlLiteralError);
  });
});

describe('sql``', () => {
  it('renders values as literals and fragments as they are', () => {
    const q = sql`SELECT count() FROM ${ident('leads')} WHERE account_id = ${"acc'1"} AND score > ${-1.5}`;
    expect(q).toBeInstanceOf(SqlFragment);
    expect(q.text).toBe("SELECT count() FROM `leads` WHERE account_id = 'acc\\'1' AND score > (-1.5)");
  });

  it('never trusts a plain string, even one that looks like SQL', () => {
    const column = 'status; DROP TABLE leads';
    expect(sql`ORDER BY ${column}`.text).toBe("ORDER BY 'status; DROP TABLE leads'");
  });

  it('nests fragments and joins conditions', () => {
    const conds = [sql`a = ${1}`, sql`has(${['x', 'y']}, b)`];
    expect(sql`SELECT 1 WHERE ${joinSql(conds, ' AND ')}`.text).toBe(
      "SELECT 1 WHERE a = 1 AND has(['x', 'y'], b)",
    );
    expect(sql`${sql`x`}`.text).toBe('x');
    expect(String(sql`SELECT ${1}`)).toBe('SELECT 1');
  });
});
