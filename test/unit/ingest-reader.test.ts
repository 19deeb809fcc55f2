import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  inspectUpload,
  openUpload,
  type ReaderItem,
  type ReaderOptions,
  type ReaderRejection,
  UploadFormatError,
} from '../../services/ingest/reader/index.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'uploads');
const fixture = (name: string) => readFileSync(join(FIXTURES, name));

/** Feeds the bytes in small chunks, so every test also crosses chunk boundaries. */
function chunked(bytes: Buffer, size = 7): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

async function readAll(bytes: Buffer, options: ReaderOptions = {}) {
  const upload = await openUpload(chunked(bytes), options);
  const items: ReaderItem[] = [];
  for await (const item of upload.items) items.push(item);
  return { upload, items, rows: items.filter((i) => i.kind === 'row') };
}

async function formatError(bytes: Buffer, options: ReaderOptions = {}): Promise<UploadFormatError> {
  try {
    await inspectUpload(chunked(bytes), options);
  } catch (err) {
    if (err instanceof UploadFormatError) return err;
    throw err;
  }
  throw new Error('expected an UploadFormatError');
}

describe('encodings', () => {
  it('skips a UTF-8 BOM and reads UTF-8', async () => {
    const { upload, rows } = await readAll(fixture('bom-utf8.csv'));
    expect(upload.columns[0]).toBe('Email');
    expect(upload.encoding).toBe('utf-8');
    expect(rows[1]?.fields).toMatchObject({
      email: 'kenji.sato@hikari.co.jp',
      last_name: 'Satō',
      company: 'Hikari K.K.',
    });
  });

  it.each(['utf16le-bom.tsv', 'utf16be-bom.tsv'])('reads %s', async (name) => {
    const { upload, rows } = await readAll(fixture(name));
    expect(upload.encoding).toBe(name.startsWith('utf16le') ? 'utf-16le' : 'utf-16be');
    expect(upload.delimiter).toBe('\t');
    expect(rows.map((r) => r.fields)).toEqual([
      { email: 'zoe.muller@beispiel.de', full_name: 'Zoë Müller', city: 'Köln' },
      { email: 'lea.dubois@exemple.fr', full_name: 'Léa Dubois', city: 'Orléans' },
    ]);
  });

  it('recognises UTF-16 without a BOM by its NUL bytes', async () => {
    const { upload, rows } = await readAll(fixture('utf16le-nobom.csv'));
    expect(upload.encoding).toBe('utf-16le');
    expect(rows[0]?.fields).toEqual({ email: 'jose@ejemplo.es', full_name: 'José Núñez' });
  });

  it('falls back to Windows-1252 when the bytes are not UTF-8', async () => {
    const { upload, rows } = await readAll(fixture('windows-1252.csv'));
    expect(upload.encoding).toBe('windows-1252');
    expect(upload.delimiter).toBe(';');
    expect(
      rows.map((r) => [r.fields.first_name, r.fields.last_name, r.fields.company, r.fields.city]),
    ).toEqual([
      ['François', 'Lefèvre', 'Société Générale S.A.', 'Besançon'],
      ['Søren', 'Østergaard', 'Firma ApS', 'Århus'],
      ['Björn', 'Åberg', '“Bolag” AB – Öst', 'Malmö'],
    ]);
  });

  it('decides between UTF-8 and Windows-1252 at the first non-ASCII byte, even past the sample', async () => {
    const ascii = `email,name\n${'a@b.com,plain ascii\n'.repeat(5000)}`;
    const utf8 = Buffer.concat([Buffer.from(ascii), Buffer.from('late@b.com,Zoë\n')]);
    const cp1252 = Buffer.concat([
      Buffer.from(ascii),
      Buffer.from([...Buffer.from('late@b.com,Zo'), 0xeb, 0x0a]),
    ]);
    for (const [bytes, encoding] of [
      [utf8, 'utf-8'],
      [cp1252, 'windows-1252'],
    ] as const) {
      const { upload, rows } = await readAll(bytes);
      expect(rows.at(-1)?.fields.full_name).toBe('Zoë');
      expect(upload.encoding).toBe(encoding);
    }
  });

  it('decides a late encoding the same way however the bytes are chunked', async () => {
    const ascii = `email,name\n${'a@b.com,plain ascii\n'.repeat(5000)}`;
    // Valid UTF-8 first, stray Windows-1252 bytes further on: the 4 KiB from the first non-ASCII byte decide.
    const bytes = Buffer.concat([
      Buffer.from(ascii),
      Buffer.from('z@b.com,Zoë\n'.repeat(400)),
      Buffer.from([...Buffer.from('late@b.com,Zo'), 0xeb, 0x0a]),
    ]);
    const reads = [];
    for (const size of [13, 101, 4096, 65536, bytes.length]) {
      const upload = await openUpload(chunked(bytes, size));
      const items: ReaderItem[] = [];
      for await (const item of upload.items) items.push(item);
      reads.push({ encoding: upload.encoding, items });
    }
    expect(reads[0]?.encoding).toBe('utf-8');
    for (const read of reads) expect(read).toEqual(reads[0]);
  });

  it('rejects a row with broken UTF-8 inside a UTF-8 file, and reads the rows around it', async () => {
    const bytes = Buffer.concat([
      Buffer.from('email,name\nok@x.com,Zoë\nbad@x.com,Zo'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('\nfine@x.com,Ann\n'),
    ]);
    const { items, rows } = await readAll(bytes);
    expect(rows.map((r) => r.fields.email)).toEqual(['ok@x.com', 'fine@x.com']);
    expect(items[1]).toMatchObject({
      kind: 'rejection',
      rowIndex: 1,
      lineNumber: 3,
      reason: 'invalid_encoding',
      raw: JSON.stringify(['bad@x.com', 'Zo\uFFFD(']),
    });
    expect((items[1] as ReaderRejection).detail).toContain('"name"');
  });
});

describe('CSV structure', () => {
  it.each([
    ['semicolon.csv', ';'],
    ['tab.tsv', '\t'],
    ['pipe.csv', '|'],
  ])('sniffs the delimiter of %s', async (name, delimiter) => {
    const { upload, rows } = await readAll(fixture(name));
    expect(upload.delimiter).toBe(delimiter);
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.fields.email?.includes('@'))).toBe(true);
  });

  it('keeps commas inside quoted cells of a semicolon file', async () => {
    const { rows } = await readAll(fixture('semicolon.csv'));
    expect(rows.map((r) => r.extras.Revenue)).toEqual(['1.000,50', '2,5']);
  });

  it('reads quoted fields with newlines, delimiters and escaped quotes, with the start line', async () => {
    const { items } = await readAll(fixture('quoted-newlines.csv'));
    expect(items).toEqual([
      {
        kind: 'row',
        rowIndex: 0,
        lineNumber: 2,
        fields: { email: 'sarah.miller@techflow.com', full_name: 'Sarah Miller' },
        extras: { Address: '12 Main St\r\nSuite 400\r\nBoston, MA', Notes: 'She said "call me" on Monday' },
      },
      {
        kind: 'row',
        rowIndex: 1,
        lineNumber: 5,
        fields: { email: 'tom.oneil@acme.ie', full_name: "Tom O'Neil" },
        extras: { Address: '1 Quay Rd, Dublin' },
      },
    ]);
  });

  it('reads ragged rows: missing cells are empty, extra cells go to _extra_N', async () => {
    const { rows } = await readAll(fixture('ragged.csv'));
    expect(rows.map((r) => [r.fields, r.extras])).toEqual([
      [{ email: 'short@row.com', first_name: 'Only' }, {}],
      [{ email: 'full@row.com', first_name: 'Ada', last_name: 'Lovelace', title: 'Countess' }, {}],
      [
        { email: 'long@row.com', first_name: 'Alan', last_name: 'Turing', title: 'Mathematician' },
        { _extra_1: 'extra one', _extra_2: 'extra two' },
      ],
    ]);
  });

  it('keeps formula-like cells verbatim: they are data, never evaluated or altered', async () => {
    const { rows } = await readAll(fixture('formulas.csv'));
    expect(rows[0]?.fields).toMatchObject({
      company: '=HYPERLINK("http://x","y")',
      phone: '+1 202 555 0143',
    });
    expect(rows[0]?.extras.Notes).toBe('@SUM(A1:A9)');
    expect(rows[1]?.fields).toMatchObject({ company: '-Acme', phone: '=1+1' });
    expect(rows[1]?.extras.Notes).toBe("=cmd|' /C calc'!A0");
  });

  it('rejects only the line of a quote never closed and reads the lines after it', async () => {
    const { items } = await readAll(fixture('unterminated-quote.csv'));
    expect(items.map((i) => [i.kind, i.rowIndex, i.lineNumber])).toEqual([
      ['row', 0, 2],
      ['rejection', 1, 3],
      ['row', 2, 4],
      ['row', 3, 5],
    ]);
    expect(items[1]).toMatchObject({ reason: 'unterminated_quote', raw: 'b@x.com,"Bob,never closed' });
  });

  it('gives the second of two email headers, repeated and blank headers distinct extras keys', async () => {
    const { upload, rows } = await readAll(fixture('duplicate-headers.csv'));
    expect(upload.emailColumn).toBe('Email');
    expect(rows[0]?.fields).toEqual({ email: 'first@x.com' });
    expect(rows[0]?.extras).toEqual({
      'E-mail Address': 'second@x.com',
      Notes: 'n1',
      Notes_2: 'n2',
      _column_5: 'blank header',
    });
  });

  it("honours Excel's sep= line and skips a report title above the header", async () => {
    const excel = await readAll(Buffer.from('sep=|\r\nEmail|Name\r\na@x.com|Ann, Jr\r\n'));
    expect(excel.upload.delimiter).toBe('|');
    expect(excel.items).toEqual([
      {
        kind: 'row',
        rowIndex: 0,
        lineNumber: 3,
        fields: { email: 'a@x.com', full_name: 'Ann, Jr' },
        extras: {},
      },
    ]);
    const titled = await readAll(Buffer.from('Leads export 2026-03-19\n\nEmail;Name\nb@x.com;Bob\n'));
    expect(titled.upload.delimiter).toBe(';');
    expect(titled.items.map((i) => [i.rowIndex, i.lineNumber])).toEqual([[0, 4]]);
  });

  it('does not skip rows of data looking for a header', async () => {
    const err = await formatError(Buffer.from('Name,Company\nEmail,Whatever\na@x.com,Acme\n'));
    expect(err.code).toBe('no_email_column');
  });

  it('keeps columns named like object internals as ordinary extras', async () => {
    const csv = await readAll(Buffer.from('Email,__proto__,constructor\na@x.com,p,c\n'));
    expect({ ...csv.rows[0]?.extras }).toEqual({ ['__proto__']: 'p', constructor: 'c' });
    expect(Object.keys(csv.rows[0]?.extras ?? {})).toEqual(['__proto__', 'constructor']);
    const json = await readAll(Buffer.from('[{"email":"a@x.com","__proto__":{"polluted":true}}]'));
    expect(Object.keys(json.rows[0]?.extras ?? {})).toEqual(['__proto__']);
    expect(Object.entries(json.rows[0]?.extras ?? {})).toEqual([['__proto__', '{"polluted":true}']]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads a header-only file as zero rows', async () => {
    const inspection = await inspectUpload(chunked(fixture('header-only.csv')));
    expect(inspection).toMatchObject({ format: 'csv', rows_detected: 0, email_column: 'Email' });
  });

  it('skips blank lines and all-blank rows without counting them', async () => {
    const { items } = await readAll(Buffer.from('email,name\n\n , \n,,\na@b.com,A\r\n\r\nb@b.com,B'));
    expect(items.map((i) => [i.rowIndex, i.lineNumber])).toEqual([
      [0, 5],
      [1, 7],
    ]);
  });

  it('rejects a 50 MB field without holding it, and reads the rows around it', async () => {
    async function* file() {
      yield Buffer.from('email,notes\nbefore@x.com,fine\nhuge@x.com,"');
      const block = Buffer.alloc(1 << 20, 'x');
      for (let i = 0; i < 50; i++) yield block;
      yield Buffer.from('"\nafter@x.com,fine\n');
    }
    const upload = await openUpload(file());
    const items: ReaderItem[] = [];
    for await (const item of upload.items) items.push(item);
    expect(items.map((i) => [i.kind, i.lineNumber])).toEqual([
      ['row', 2],
      ['rejection', 3],
      ['row', 4],
    ]);
    expect(items[1]).toMatchObject({ reason: 'record_too_large' });
    expect((items[1] as { raw: string }).raw.length).toBeLessThanOrEqual(1000);
  });
});

describe('JSON and NDJSON', () => {
  it('reads an array of objects, rejecting non-objects, stringifying nested values into extras', async () => {
    const { upload, items } = await readAll(fixture('non-object.json'));
    expect(upload.format).toBe('json');
    expect(upload.emailColumn).toBe('Email Address');
    expect(items).toEqual([
      {
        kind: 'row',
        rowIndex: 0,
        lineNumber: 2,
        fields: { email: 'a@x.com', company: 'Acme GmbH' },
        extras: {},
      },
      {
        kind: 'rejection',
        rowIndex: 1,
        lineNumber: 3,
        reason: 'non_object_element',
        detail: 'expected an object, got a string',
        raw: '"just a string"',
      },
      {
        kind: 'rejection',
        rowIndex: 2,
        lineNumber: 4,
        reason: 'non_object_element',
        detail: 'expected an object, got null',
        raw: 'null',
      },
      {
        kind: 'row',
        rowIndex: 3,
        lineNumber: 5,
        fields: { email: 'b@x.com' },
        extras: { tags: '["vip","eu"]', score: '7.5', active: 'true' },
      },
    ]);
  });

  it('reads NDJSON, rejecting a bad line with its line number', async () => {
    const { upload, items } = await readAll(fixture('bad-line.ndjson'));
    expect(upload.format).toBe('ndjson');
    expect(
      items.map((i) => [i.kind, i.rowIndex, i.lineNumber, i.kind === 'rejection' ? i.reason : '']),
    ).toEqual([
      ['row', 0, 1, ''],
      ['rejection', 1, 2, 'invalid_json'],
      ['row', 2, 4, ''],
      ['rejection', 3, 5, 'non_object_element'],
    ]);
    expect(items[2]).toMatchObject({ extras: { company: '{"name":"Acme","size":50}' } });
    expect(items[1]).toMatchObject({ raw: '{"email": "broken@x.com", "name": ' });
  });

  it('reports a JSON array cut off inside an element', async () => {
    const { items } = await readAll(Buffer.from('[{"email":"a@x.com"},\n{"email":"b@x'));
    expect(items.map((i) => (i.kind === 'row' ? i.fields.email : i.reason))).toEqual([
      'a@x.com',
      'truncated_json',
    ]);
  });

  it('does not hold an oversized JSON element', async () => {
    const big = `{"email":"big@x.com","notes":"${'y'.repeat(5000)}"}`;
    const { items } = await readAll(Buffer.from(`[{"email":"a@x.com"}, ${big}, {"email":"c@x.com"}]`), {
      maxRecordChars: 2048,
    });
    expect(items.map((i) => (i.kind === 'row' ? i.fields.email : i.reason))).toEqual([
      'a@x.com',
      'record_too_large',
      'c@x.com',
    ]);
  });
});

describe('files that cannot be read', () => {
  it.each([
    ['empty.csv', 'empty_file'],
    ['whitespace-only.csv', 'empty_file'],
    ['report.pdf', 'unsupported_format'],
    ['workbook.xlsx', 'unsupported_format'],
    ['binary.bin', 'unsupported_format'],
    ['no-email.csv', 'no_email_column'],
    ['headerless.csv', 'no_email_column'],
  ])('%s → %s', async (name, code) => {
    const err = await formatError(fixture(name));
    expect(err.code).toBe(code);
    expect(err.detail.length).toBeGreaterThan(10);
  });

  it('names the columns it saw, and spots a missing header row', async () => {
    expect((await formatError(fixture('no-email.csv'))).detail).toContain('"Name", "Company", "Phone"');
    expect((await formatError(fixture('headerless.csv'))).detail).toMatch(/header row/);
    expect((await formatError(fixture('workbook.xlsx'))).detail).toMatch(/xlsx/);
  });

  it('refuses an empty JSON array and JSON objects without an email key', async () => {
    expect((await formatError(Buffer.from('[ ]'))).code).toBe('empty_file');
    expect((await formatError(Buffer.from('[{"name":"x"}]'))).code).toBe('no_email_column');
    expect((await formatError(Buffer.from('name: x\n'), { filename: 'x.json' })).code).toBe(
      'unsupported_format',
    );
  });
});

describe('inspectUpload', () => {
  it('counts data rows, unreadable ones included, as ingest will read them', async () => {
    expect(await inspectUpload(chunked(fixture('unterminated-quote.csv')))).toEqual({
      format: 'csv',
      encoding: 'utf-8',
      delimiter: ',',
      rows_detected: 4,
      rows_unreadable: 1,
      columns: ['Email', 'Name', 'Notes'],
      email_column: 'Email',
    });
  });

  it('stops pulling the input when the reader is abandoned', async () => {
    let pulled = 0;
    async function* endless() {
      yield Buffer.from('email\n');
      for (;;) {
        pulled++;
        yield Buffer.from('a@b.com\n'.repeat(1000));
      }
    }
    const upload = await openUpload(endless());
    let n = 0;
    for await (const _ of upload.items) if (++n === 10) break;
    const after = pulled;
    await new Promise((r) => setTimeout(r, 20));
    expect(pulled).toBe(after);
    expect(pulled).toBeLessThan(20);
  });
});

describe('bad cells cost their rows, not the file', () => {
  const reasons = (items: ReaderItem[]) =>
    items.map((i) => [i.rowIndex, i.kind === 'row' ? i.fields.email : (i as ReaderRejection).reason]);

  it('reads a mail-tool export whose few cells hold control characters, rejecting those rows only', async () => {
    const lines = ['Email,Name,Notes'];
    for (let i = 0; i < 40; i++) lines.push(`p${i}@x.com,Pat ${i},note ${i}`);
    lines[5] = 'p4@x.com,Pat\u0007 4,note 4';
    lines[12] = 'p11@x.com,Pat 11,"line\u000bbreak"';
    lines[30] = 'p29@x.com,Pat 29,nul\u0000here';
    const { upload, items, rows } = await readAll(Buffer.from(lines.join('\r\n')));
    expect(upload.format).toBe('csv');
    expect(items).toHaveLength(40);
    expect(items.map((i) => i.rowIndex)).toEqual([...Array(40).keys()]);
    expect(rows).toHaveLength(37);
    const rejected = items.filter((i): i is ReaderRejection => i.kind === 'rejection');
    expect(rejected.map((r) => [r.rowIndex, r.lineNumber, r.reason])).toEqual([
      [4, 6, 'control_characters'],
      [11, 13, 'control_characters'],
      [29, 31, 'control_characters'],
    ]);
    expect(rejected[0]?.detail).toBe('column "Name" holds the control character U+0007 at position 4');
    expect(rejected[2]?.detail).toContain('U+0000');
    // the row as read, every cell, so nothing of it is lost
    expect(JSON.parse(rejected[2]?.raw as string)).toEqual(['p29@x.com', 'Pat 29', 'nul\u0000here']);
    expect(await inspectUpload(chunked(Buffer.from(lines.join('\r\n'))))).toMatchObject({
      rows_detected: 40,
      rows_unreadable: 3,
    });
  });

  it('rejects a row with an over-long cell, and reads tab, CR and LF inside quoted cells', async () => {
    const csv = `email,notes\na@x.com,${'y'.repeat(101)}\nb@x.com,"multi\r\nline\tcell"\nc@x.com,${'z'.repeat(100)}\n`;
    const { items } = await readAll(Buffer.from(csv), { maxFieldChars: 100 });
    expect(reasons(items)).toEqual([
      [0, 'field_too_large'],
      [1, 'b@x.com'],
      [2, 'c@x.com'],
    ]);
    expect((items[0] as ReaderRejection).detail).toBe('column "notes" holds 101 characters (limit 100)');
  });

  it('drops control characters from header names', async () => {
    const { upload, rows } = await readAll(Buffer.from('E\u0001mail,No\u0000tes\na@x.com,n\n'));
    expect(upload.columns).toEqual(['Email', 'Notes']);
    expect(rows[0]).toMatchObject({ fields: { email: 'a@x.com' }, extras: { Notes: 'n' } });
  });

  it('refuses as binary a file whose start is more than 10 % NUL or control characters', async () => {
    const body = `email\n${'a@x.com\n'.repeat(80)}`;
    const controls = (n: number) => '\u0001'.repeat(n);
    // 9 % suspicious: read (the damaged row rejected); 12 %: binary
    const nine = Buffer.from(`${body}${controls(Math.ceil(body.length * 0.099))}\n`);
    const { items } = await readAll(nine);
    expect(items).toHaveLength(81);
    expect(items[80]).toMatchObject({ kind: 'rejection', reason: 'control_characters' });
    const twelve = Buffer.from(`${body}${'\u0000'.repeat(Math.ceil(body.length * 0.14))}\n`);
    const err = await formatError(twelve);
    expect(err.code).toBe('unsupported_format');
    expect(err.detail).toMatch(/binary.*1[2-4] %/);
  });

  it('costs one element in a JSON array and one line in NDJSON', async () => {
    const array = JSON.stringify([
      { email: 'a@x.com' },
      { email: 'b@x.com', name: 'nul\u0000' },
      { email: 'c@x.com', 'bad\u0007key': 'v' },
      { email: `d@x.com${'\uFFFD'}` },
      { email: 'e@x.com', deep: JSON.parse(`${'['.repeat(70)}1${']'.repeat(70)}`) },
      { email: 'f@x.com', deep: JSON.parse(`${'['.repeat(60)}1${']'.repeat(60)}`) },
      { email: 'g@x.com' },
    ]);
    const json = await readAll(Buffer.from(array));
    expect(reasons(json.items)).toEqual([
      [0, 'a@x.com'],
      [1, 'control_characters'],
      [2, 'control_characters'],
      [3, 'invalid_encoding'],
      [4, 'nested_too_deep'],
      [5, 'f@x.com'],
      [6, 'g@x.com'],
    ]);
    const ndjson =
      '{"email":"a@x.com"}\n{"email":"b@x.com","n":"\\u001b[31m"}\n{"email":"c@x.com",\n{"email":"d@x.com"}\n';
    const lines = await readAll(Buffer.from(ndjson));
    expect(reasons(lines.items)).toEqual([
      [0, 'a@x.com'],
      [1, 'control_characters'],
      [2, 'invalid_json'],
      [3, 'd@x.com'],
    ]);
  });

  it('reads a JSON element nested 100,000 deep as one rejection, without overflowing the stack', async () => {
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const { items } = await readAll(Buffer.from(`{"email":"a@x.com"}\n{"email":"b@x.com","x":${deep}}\n`));
    expect(reasons(items)).toEqual([
      [0, 'a@x.com'],
      [1, 'nested_too_deep'],
    ]);
  });
});
