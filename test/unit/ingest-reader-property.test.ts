import { Readable } from 'node:stream';
import { parse as csvParse } from 'csv-parse/sync';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { CsvTokenizer } from '../../services/ingest/reader/csv-tokenizer.ts';
import { openUpload, type ReaderItem, UploadFormatError } from '../../services/ingest/reader/index.ts';
import type { Piece } from '../../services/ingest/reader/pieces.ts';

const MAX_RECORD = 300;
const DELIMITERS = [',', ';', '\t', '|'] as const;
const ENCODINGS = ['utf-8', 'utf-8-bom', 'utf-16le', 'utf-16be', 'windows-1252'] as const;
type Enc = (typeof ENCODINGS)[number];

// Windows-1252 letters all encode to bytes 0xE0-0xFF and never to a UTF-8 continuation byte, so the
// encoded file can never pass for UTF-8; the other encodings also get characters outside Latin-1.
const LATIN = [...'abcXYZ019 .@-_\'"()=+,;|\t\n\réüñøöàç'];
const WIDE = [...LATIN, '日', 'Ω', '😀', 'ß'];

const cell = (alphabet: string[]) =>
  fc.oneof(
    {
      weight: 30,
      arbitrary: fc.array(fc.constantFrom(...alphabet), { maxLength: 12 }).map((cs) => cs.join('')),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: MAX_RECORD + 1, max: 3 * MAX_RECORD }).map((n) => 'x'.repeat(n)),
    },
  );

const table = fc
  .record({
    delimiter: fc.constantFrom(...DELIMITERS),
    encoding: fc.constantFrom(...ENCODINGS),
    newline: fc.constantFrom('\n', '\r\n', '\r'),
    quoteAll: fc.boolean(),
    trailingNewline: fc.boolean(),
    width: fc.integer({ min: 1, max: 4 }),
    chunk: fc.integer({ min: 1, max: 97 }),
  })
  .chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      rows: fc.array(
        fc.array(cell(shape.encoding === 'windows-1252' ? LATIN : WIDE), {
          minLength: 1,
          maxLength: shape.width + 3,
        }),
        { maxLength: 25 },
      ),
    }),
  );

type Shape = {
  delimiter: string;
  newline: string;
  quoteAll: boolean;
  trailingNewline: boolean;
  width: number;
};

function serialise(shape: Shape, header: string[], rows: string[][]): { text: string; lines: number[] } {
  const needsQuotes = /[,;\t|"\r\n]/;
  const field = (v: string) => (shape.quoteAll || needsQuotes.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  const records = [header, ...rows].map((r) => r.map(field).join(shape.delimiter));
  const lines: number[] = [];
  let line = 1;
  for (const record of records) {
    lines.push(line);
    line += (record.match(/\r\n|\r|\n/g)?.length ?? 0) + 1;
  }
  const text = records.join(shape.newline) + (shape.trailingNewline ? shape.newline : '');
  return { text, lines: lines.slice(1) };
}

function encode(text: string, encoding: Enc): Buffer {
  switch (encoding) {
    case 'utf-8':
      return Buffer.from(text);
    case 'utf-8-bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    case 'utf-16le':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    case 'utf-16be':
      return Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
    case 'windows-1252':
      return iconv.encode(text, 'win1252');
  }
}

function chunks(bytes: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

/** What the documented rules say the reader must produce for a well-formed table. */
function expected(
  shape: Shape,
  header: string[],
  rows: string[][],
  lines: number[],
  text: string,
): unknown[] {
  const out: unknown[] = [];
  const records = text.split(/\r\n|\r|\n/);
  rows.forEach((cells, i) => {
    if (cells.every((c) => c.trim() === '')) return;
    const rowIndex = out.length;
    const lineNumber = lines[i];
    const written = cells
      .map((v) => (shape.quoteAll || /[,;\t|"\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v))
      .join(shape.delimiter);
    if (written.length > MAX_RECORD) {
      out.push({ kind: 'rejection', rowIndex, lineNumber, reason: 'record_too_large' });
      return;
    }
    const fields: Record<string, string> = {};
    const extras: Record<string, string> = {};
    cells.forEach((v, j) => {
      if (v === '') return;
      if (j === 0) fields.email = v;
      else if (j < header.length) extras[header[j] as string] = v;
      else extras[`_extra_${j - header.length + 1}`] = v;
    });
    out.push({ kind: 'row', rowIndex, lineNumber, fields, extras });
  });
  void records;
  return out;
}

const comparable = (item: ReaderItem) =>
  item.kind === 'row'
    ? item
    : { kind: item.kind, rowIndex: item.rowIndex, lineNumber: item.lineNumber, reason: item.reason };

async function readItems(input: Readable, maxRecordChars = MAX_RECORD): Promise<ReaderItem[]> {
  const upload = await openUpload(input, { maxRecordChars });
  const items: ReaderItem[] = [];
  for await (const item of upload.items) items.push(item);
  return items;
}

describe('reader properties', () => {
  it('reads every well-formed table back exactly: each data row once, as a row or a rejection', async () => {
    await fc.assert(
      fc.asyncProperty(table, async ({ shape, rows }) => {
        const header = ['Email', ...Array.from({ length: shape.width }, (_, j) => `c${j + 1}`)];
        const { text, lines } = serialise(shape, header, rows);
        const items = await readItems(chunks(encode(text, shape.encoding), shape.chunk));
        expect(items.map(comparable)).toEqual(expected(shape, header, rows, lines, text));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but a typed UploadFormatError, numbers rows contiguously in line order, on any bytes', async () => {
    const messy = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
      fc
        .tuple(
          fc.constantFrom('email,name\n', 'Email;Name\r\n', '[', '{"email":"a@b.c"}\n', ''),
          fc.array(fc.constantFrom(...'ab@.,;|\t"\'\n\r{}[]:x 日'), { maxLength: 300 }),
        )
        .map(([head, cs]) => Buffer.from(head + cs.join(''))),
    );
    await fc.assert(
      fc.asyncProperty(messy, fc.integer({ min: 1, max: 50 }), async (bytes, size) => {
        let items: ReaderItem[];
        try {
          items = await readItems(chunks(bytes, size), 64);
        } catch (err) {
          expect(err).toBeInstanceOf(UploadFormatError);
          return;
        }
        expect(items.map((i) => i.rowIndex)).toEqual(items.map((_, i) => i));
        for (let i = 1; i < items.length; i++) {
          expect((items[i] as ReaderItem).lineNumber).toBeGreaterThanOrEqual(
            (items[i - 1] as ReaderItem).lineNumber,
          );
        }
        // Chunking never changes what is read.
        expect(await readItems(chunks(bytes, bytes.length || 1), 64)).toEqual(items);
      }),
      { numRuns: 400 },
    );
  });

  it('tokenizes well-formed CSV exactly as csv-parse does, whatever the chunking', () => {
    const csvText = fc.record({
      delimiter: fc.constantFrom(...DELIMITERS),
      rows: fc.array(
        fc.array(
          fc.array(fc.constantFrom(...WIDE), { maxLength: 8 }).map((c) => c.join('')),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        { minLength: 1, maxLength: 15 },
      ),
      split: fc.integer({ min: 1, max: 40 }),
    });
    fc.assert(
      fc.property(csvText, ({ delimiter, rows, split }) => {
        const text = rows
          .map((r) =>
            r
              .map((v) => (/[,;\t|"\r\n]/.test(v) || v === '' ? `"${v.replaceAll('"', '""')}"` : v))
              .join(delimiter),
          )
          .join('\r\n');
        const oracle = csvParse(text, {
          delimiter,
          relax_column_count: true,
          skip_empty_lines: false,
        }) as string[][];
        const tokenizer = new CsvTokenizer(delimiter.charCodeAt(0));
        const out: Piece<string[]>[] = [];
        for (let i = 0; i < text.length; i += split) tokenizer.push(text.slice(i, i + split), out);
        tokenizer.end(out);
        expect(out.map((p) => (p.kind === 'data' ? p.data : p.reason))).toEqual(oracle);
      }),
      { numRuns: 500 },
    );
  });
});
