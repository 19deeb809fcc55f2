import { DEFAULT_MAX_FIELD_CHARS } from './cells.ts';
import { CsvTokenizer } from './csv-tokenizer.ts';
import { type Delimiter, sniffDelimiter } from './delimiter.ts';
import { decodeStream, detectEncoding, type Encoding } from './encoding.ts';
import { type UploadErrorCode, UploadFormatError } from './errors.ts';
import { checkNotBinary, detectFormat, type UploadFormat } from './format.ts';
import { JsonArrayTokenizer, NdjsonTokenizer } from './json-tokenizers.ts';
import {
  type Columns,
  csvLayout,
  csvRowMapper,
  jsonLayout,
  jsonRowMapper,
  type LeadRow,
  type Refusal,
  type RowMapper,
} from './mapping.ts';
import { Peekable } from './peek.ts';
import {
  DEFAULT_MAX_RECORD_CHARS,
  type Piece,
  RAW_HEAD_CHARS,
  type Tokenizer,
  type UnreadableReason,
} from './pieces.ts';

export interface ReaderRow extends LeadRow {
  kind: 'row';
  /** 0-based position among the data records of the file, rejected ones included. */
  rowIndex: number;
  /** 1-based line where the record starts. */
  lineNumber: number;
}

export interface ReaderRejection {
  kind: 'rejection';
  rowIndex: number;
  lineNumber: number;
  reason: UnreadableReason;
  detail: string;
  /** The start of the record as written in the file (at most RAW_HEAD_CHARS characters). */
  raw: string;
}

export type ReaderItem = ReaderRow | ReaderRejection;

export interface ReaderOptions {
  /** The uploaded file's name: a hint only (content decides), e.g. `.tsv` for a one-column file. */
  filename?: string;
  /** Longest record (CSV record, JSON element, NDJSON line) read; longer ones are rejected unread. */
  maxRecordChars?: number;
  /** Longest value (CSV cell, JSON value or key); a record holding a longer one is rejected. */
  maxFieldChars?: number;
}

export interface OpenedUpload {
  format: UploadFormat;
  /** The encoding used; known for sure once `items` has been read to the end. */
  readonly encoding: Exclude<Encoding, 'utf-8?'>;
  /** CSV only. */
  delimiter: Delimiter | null;
  /** CSV: the header row. JSON: the keys of the first objects, in order of first appearance. */
  columns: string[];
  /** The column (header or key) read as the email. */
  emailColumn: string;
  /** The records, in file order; single use. Stopping early releases the input. */
  items: AsyncIterable<ReaderItem>;
}

/**
 * Encoding, format and delimiter are decided on exactly this much of the start of the file (bytes, then
 * decoded characters), whatever the chunking: the gateway (reading the upload as it arrives) and ingest
 * (reading it from the store) must decide alike, so rows_detected is the count ingest produces.
 */
const SAMPLE_BYTES = 64 * 1024;
/** JSON: how many leading elements (and at most how much of their text) to search for an email key. */
const LOOKAHEAD_ELEMENTS = 100;
const LOOKAHEAD_CHARS = 1 << 20;
const PREAMBLE_RECORDS = 10;

type Batches<T> = AsyncGenerator<Piece<T>[]>;

/**
 * Opens an upload for streaming: detects encoding, format and (CSV) delimiter from its first 64 KiB,
 * reads the header, and checks that some column is an email — throwing UploadFormatError when the file
 * cannot be read at all. Everything after that is pulled on demand, one chunk at a time: memory stays
 * flat whatever the file size, and a slow consumer slows the reading (back-pressure).
 */
export async function openUpload(
  input: AsyncIterable<Uint8Array>,
  options: ReaderOptions = {},
): Promise<OpenedUpload> {
  const filename = options.filename ?? '';
  const max = options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS;
  const maxField = options.maxFieldChars ?? DEFAULT_MAX_FIELD_CHARS;
  const bytes = new Peekable(asBuffers(input)[Symbol.asyncIterator]());
  try {
    const head = await bytes.peek(longerThan(SAMPLE_BYTES));
    const sample = Buffer.concat(head.items).subarray(0, SAMPLE_BYTES);
    const wholeFile = head.complete && totalLength(head.items) <= SAMPLE_BYTES;
    if (sample.length === 0) throw new UploadFormatError('empty_file', 'the file is empty');
    checkNotBinary(sample);
    const detected = detectEncoding(sample, wholeFile);
    let encoding: Exclude<Encoding, 'utf-8?'> = detected.encoding === 'utf-8?' ? 'utf-8' : detected.encoding;
    const text = new Peekable(
      decodeStream(bytes, detected, (settled) => {
        if (settled !== 'utf-8?') encoding = settled;
      })[Symbol.asyncIterator](),
    );
    const textHead = await text.peek(longerThan(SAMPLE_BYTES));
    const sampleText = textHead.items.join('').slice(0, SAMPLE_BYTES);
    const allText = textHead.complete && totalLength(textHead.items) <= SAMPLE_BYTES;
    const format = detectFormat(sampleText, allText, filename);
    let opened: Omit<OpenedUpload, 'format' | 'encoding'>;
    if (format === 'csv') {
      const delimiter = sniffDelimiter(sampleText, allText, filename);
      const tokenizer = new CsvTokenizer(delimiter.charCodeAt(0), max);
      opened = { delimiter, ...(await openCsv(tokenize(text, tokenizer), maxField)) };
    } else {
      const tokenizer = format === 'json' ? new JsonArrayTokenizer(max) : new NdjsonTokenizer(max);
      opened = { delimiter: null, ...(await openJson(tokenize(text, tokenizer), maxField)) };
    }
    return {
      format,
      // A getter: an ASCII start leaves the encoding open until the first non-ASCII byte is read.
      get encoding() {
        return encoding;
      },
      ...opened,
    };
  } catch (err) {
    await bytes.close();
    throw err;
  }
}

export interface UploadInspection {
  format: UploadFormat;
  encoding: string;
  delimiter: Delimiter | null;
  /** Data records read, unreadable ones included (blank lines are not records). */
  rows_detected: number;
  /** Of those, the ones that will become rejections at ingest. */
  rows_unreadable: number;
  columns: string[];
  email_column: string;
}

/** What the gateway reports at upload time, by reading the file once exactly as ingest will. */
export async function inspectUpload(
  input: AsyncIterable<Uint8Array>,
  options: ReaderOptions = {},
): Promise<UploadInspection> {
  const upload = await openUpload(input, options);
  let rows = 0;
  let unreadable = 0;
  for await (const item of upload.items) {
    rows++;
    if (item.kind === 'rejection') unreadable++;
  }
  return {
    format: upload.format,
    encoding: upload.encoding,
    delimiter: upload.delimiter,
    rows_detected: rows,
    rows_unreadable: unreadable,
    columns: upload.columns,
    email_column: upload.emailColumn,
  };
}

type Opened = Pick<OpenedUpload, 'columns' | 'emailColumn' | 'items'>;

/**
 * The header is the first non-blank record that names an email column. Before it, up to
 * PREAMBLE_RECORDS one-cell lines (a report title, Excel's `sep=;`) are skipped: they are not leads.
 * Anything else before it means there is no usable header.
 */
async function openCsv(batches: Batches<string[]>, maxFieldChars: number): Promise<Opened> {
  let skipped = 0;
  for (;;) {
    const next = await batches.next();
    if (next.done) throw new UploadFormatError('empty_file', 'the file holds no data');
    const batch = next.value;
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as Piece<string[]>;
      if (p.kind === 'data' && isBlank(p.data)) continue;
      const refuse = (code: UploadErrorCode, detail: string) => {
        void batches.return(undefined);
        return new UploadFormatError(code, detail);
      };
      if (p.kind === 'bad') throw refuse('unsupported_format', `the header row cannot be read: ${p.detail}`);
      const layout = csvLayout(p.data);
      if (layout.ok) {
        return opened(batches, batch.slice(i + 1), layout, (l) => csvRowMapper(l, maxFieldChars));
      }
      if (!isPreamble(p.data) || ++skipped > PREAMBLE_RECORDS) throw refuse('no_email_column', layout.detail);
    }
  }
}

const isPreamble = (values: string[]): boolean => values.filter((v) => v.trim() !== '').length === 1;

async function openJson(batches: Batches<string>, maxFieldChars: number): Promise<Opened> {
  const pending: Piece<string>[] = [];
  let elements = 0;
  let chars = 0;
  let done = false;
  while (elements < LOOKAHEAD_ELEMENTS && chars < LOOKAHEAD_CHARS && !done) {
    const next = await batches.next();
    if (next.done) done = true;
    else {
      pending.push(...next.value);
      elements += next.value.length;
      for (const p of next.value) chars += p.kind === 'data' ? p.data.length : p.raw.length;
    }
  }
  if (done && pending.length === 0) throw new UploadFormatError('empty_file', 'the JSON holds no records');
  const layout = jsonLayout(pending.flatMap((p) => (p.kind === 'data' ? [p.data] : [])));
  return opened(batches, pending, layout, () => jsonRowMapper(maxFieldChars));
}

/** Refuses the file when no column is an email; else the rows, the looked-ahead ones first. */
async function opened<T, L extends Columns>(
  batches: Batches<T>,
  pending: Piece<T>[],
  layout: L | Refusal,
  mapperFor: (layout: L) => RowMapper<T>,
): Promise<Opened> {
  if (!layout.ok) {
    await batches.return(undefined);
    throw new UploadFormatError('no_email_column', layout.detail);
  }
  return {
    columns: layout.columns,
    emailColumn: layout.emailColumn,
    items: items(prepend(pending, batches), mapperFor(layout)),
  };
}

async function* items<T>(
  batches: AsyncIterable<Piece<T>[]>,
  toRow: RowMapper<T>,
): AsyncGenerator<ReaderItem> {
  let rowIndex = 0;
  for await (const batch of batches) {
    for (const p of batch) {
      if (p.kind === 'data') {
        const row = toRow(p.data);
        if (row === null) continue;
        if ('reason' in row) {
          yield { kind: 'rejection', rowIndex: rowIndex++, lineNumber: p.line, ...row, raw: rawOf(p.data) };
        } else {
          yield { kind: 'row', rowIndex: rowIndex++, lineNumber: p.line, ...row };
        }
      } else {
        const { line, reason, detail, raw } = p;
        yield { kind: 'rejection', rowIndex: rowIndex++, lineNumber: line, reason, detail, raw };
      }
    }
  }
}

async function* tokenize<T>(text: AsyncIterable<string>, tokenizer: Tokenizer<T>): Batches<T> {
  for await (const chunk of text) {
    const out: Piece<T>[] = [];
    tokenizer.push(chunk, out);
    if (out.length > 0) yield out;
  }
  const out: Piece<T>[] = [];
  tokenizer.end(out);
  if (out.length > 0) yield out;
}

async function* prepend<T>(first: T[], rest: AsyncGenerator<T[]>): AsyncGenerator<T[]> {
  try {
    if (first.length > 0) yield first;
    while (true) {
      const next = await rest.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await rest.return(undefined);
  }
}

async function* asBuffers(input: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  for await (const chunk of input) {
    yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
}

const totalLength = (chunks: readonly { length: number }[]): number =>
  chunks.reduce((n, c) => n + c.length, 0);

/**
 * A peek's stop condition, counting each chunk once: with the whole head summed on every pull, a sample
 * arriving in tiny chunks cost quadratic time.
 */
function longerThan(limit: number): (chunks: readonly { length: number }[]) => boolean {
  let counted = 0;
  let length = 0;
  return (chunks) => {
    for (; counted < chunks.length; counted++) length += (chunks[counted] as { length: number }).length;
    return length > limit;
  };
}

const isBlank = (values: string[]): boolean => values.every((v) => v.trim() === '');

/** A CSV record rejected for one of its cells is kept as the JSON array of its cells, as read. */
function rawOf(data: unknown): string {
  return (typeof data === 'string' ? data : JSON.stringify(data)).slice(0, RAW_HEAD_CHARS);
}
