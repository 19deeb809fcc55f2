import { DEFAULT_MAX_RECORD_CHARS, type Piece, RAW_HEAD_CHARS, type Tokenizer, tooLarge } from './pieces.ts';

const QUOTE = 34;
const LF = 10;
const CR = 13;

enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** A quote inside a quoted field: either the first of an escaped pair or the closing quote. */
  QuoteInQuoted,
  /** Characters after a closing quote and before the delimiter (`"Acme"Inc`): kept, as spreadsheets do. */
  AfterQuoted,
}

const unescapeQuotes = (s: string): string => (s.includes('"') ? s.replaceAll('""', '"') : s);

/**
 * A streaming RFC 4180 tokenizer with the leniency real exports need: quoted fields with delimiters,
 * escaped quotes and newlines (CRLF, LF or CR), quotes inside unquoted fields kept as text, text after a
 * closing quote kept. It keeps only the current record in memory, and never more than `maxRecordChars`
 * of it: a longer record is scanned to its end and rejected.
 *
 * Hand-written rather than csv-parse because csv-parse 6.2 with `max_record_size` and
 * `skip_records_with_error` drops the rest of the chunk after the oversized record (rows silently lost),
 * and without `max_record_size` one unterminated quote makes it buffer the whole file. csv-parse serves
 * as the oracle in the property tests instead.
 *
 * An opening quote that is never closed is the common way a CSV breaks. At the end of input the
 * tokenizer rejects only the line holding that quote and reads the lines after it again as records.
 */
export class CsvTokenizer implements Tokenizer<string[]> {
  private buf = '';
  private pos = 0;
  private recStart = 0;
  private fieldStart = 0;
  private afterQuote = '';
  private fields: string[] = [];
  private state = State.FieldStart;
  private line = 1;
  private recLine = 1;
  /** The previous chunk ended on a CR: a LF starting this chunk belongs to the same line break. */
  private crPending = false;
  /** Head of the current record once it outgrew the limit; from then on nothing of it is kept. */
  private oversize: string | null = null;

  constructor(
    private readonly delimiter: number,
    private readonly maxRecordChars = DEFAULT_MAX_RECORD_CHARS,
  ) {}

  push(text: string, out: Piece<string[]>[]): void {
    this.buf = this.buf.length === 0 ? text : this.buf + text;
    if (this.crPending) {
      this.crPending = false;
      if (this.buf.charCodeAt(this.pos) === LF) {
        if (this.state === State.FieldStart && this.fields.length === 0) this.recStart = this.pos + 1;
        this.pos++;
      }
    }
    this.scan(out);
    this.compact();
  }

  end(out: Piece<string[]>[]): void {
    while (this.state === State.Quoted && this.oversize === null) {
      if (!this.resyncAfterUnclosedQuote(out)) break;
      this.scan(out);
    }
    const buf = this.buf;
    switch (this.state) {
      case State.Quoted:
        out.push(this.unclosed(this.oversize ?? buf.slice(this.recStart)));
        return;
      case State.FieldStart:
        // Nothing after the last line break (an oversized record keeps no fields, but is still open).
        if (this.fields.length === 0 && this.oversize === null) return;
        this.pushField('');
        break;
      case State.Unquoted:
        this.pushField(buf.slice(this.fieldStart));
        break;
      case State.QuoteInQuoted:
        this.pushField(unescapeQuotes(buf.slice(this.fieldStart, buf.length - 1)));
        break;
      case State.AfterQuoted:
        this.pushField(this.afterQuote + buf.slice(this.fieldStart));
        break;
    }
    this.emit(buf.length, out);
  }

  private scan(out: Piece<string[]>[]): void {
    const buf = this.buf;
    const n = buf.length;
    const d = this.delimiter;
    let state = this.state;
    let i = this.pos;
    for (; i < n; i++) {
      const c = buf.charCodeAt(i);
      switch (state) {
        case State.FieldStart:
          if (c === QUOTE) {
            state = State.Quoted;
            this.fieldStart = i + 1;
          } else if (c === d) {
            this.pushField('');
          } else if (c === LF || c === CR) {
            this.pushField('');
            i = this.endRecord(i, c, out);
          } else {
            state = State.Unquoted;
            this.fieldStart = i;
          }
          break;
        case State.Unquoted:
          if (c === d) {
            this.pushField(buf.slice(this.fieldStart, i));
            state = State.FieldStart;
          } else if (c === LF || c === CR) {
            this.pushField(buf.slice(this.fieldStart, i));
            i = this.endRecord(i, c, out);
            state = State.FieldStart;
          }
          break;
        case State.Quoted:
          if (c === QUOTE) state = State.QuoteInQuoted;
          else if (c === LF) this.line++;
          else if (c === CR) {
            this.line++;
            if (i + 1 === n) this.crPending = true;
            else if (buf.charCodeAt(i + 1) === LF) i++;
          }
          break;
        case State.QuoteInQuoted:
          if (c === QUOTE) {
            state = State.Quoted;
            break;
          }
          if (c === d || c === LF || c === CR) {
            this.pushField(unescapeQuotes(buf.slice(this.fieldStart, i - 1)));
            state = State.FieldStart;
            if (c !== d) i = this.endRecord(i, c, out);
          } else {
            this.afterQuote = unescapeQuotes(buf.slice(this.fieldStart, i - 1));
            this.fieldStart = i;
            state = State.AfterQuoted;
          }
          break;
        case State.AfterQuoted:
          if (c === d || c === LF || c === CR) {
            this.pushField(this.afterQuote + buf.slice(this.fieldStart, i));
            state = State.FieldStart;
            if (c !== d) i = this.endRecord(i, c, out);
          }
          break;
      }
    }
    this.state = state;
    this.pos = i;
  }

  private pushField(value: string): void {
    if (this.oversize === null) this.fields.push(value);
  }

  /** Ends the record at the line break `c` at index i; returns the index of the break's last char. */
  private endRecord(i: number, c: number, out: Piece<string[]>[]): number {
    const end = i;
    if (c === CR) {
      if (i + 1 === this.buf.length) this.crPending = true;
      else if (this.buf.charCodeAt(i + 1) === LF) i++;
    }
    this.emit(end, out);
    this.line++;
    this.recStart = i + 1;
    this.recLine = this.line;
    return i;
  }

  private emit(end: number, out: Piece<string[]>[]): void {
    if (this.oversize !== null) {
      out.push(tooLarge(this.recLine, this.oversize, this.maxRecordChars));
    } else if (end - this.recStart > this.maxRecordChars) {
      out.push(tooLarge(this.recLine, this.buf.slice(this.recStart, end), this.maxRecordChars));
    } else {
      out.push({ kind: 'data', line: this.recLine, data: this.fields });
    }
    this.fields = [];
    this.oversize = null;
  }

  /** Keeps only the unfinished record; past the limit, keeps nothing of it but its head. */
  private compact(): void {
    const keep = this.buf.length - this.recStart;
    if (this.oversize === null && keep > this.maxRecordChars) {
      this.oversize = this.buf.slice(this.recStart, this.recStart + RAW_HEAD_CHARS);
      this.fields = [];
    }
    if (this.oversize !== null) {
      this.afterQuote = '';
      this.fieldStart = 0;
      this.recStart = 0;
      this.pos = 0;
      this.buf = '';
      return;
    }
    if (this.recStart === 0) return;
    this.buf = this.buf.slice(this.recStart);
    this.pos -= this.recStart;
    this.fieldStart -= this.recStart;
    this.recStart = 0;
  }

  /**
   * Rejects the first line of the record whose quote never closed and rewinds to the next line.
   * Returns false when that line is the last one (nothing to read again).
   */
  private resyncAfterUnclosedQuote(out: Piece<string[]>[]): boolean {
    const buf = this.buf;
    const lf = buf.indexOf('\n', this.recStart);
    const cr = buf.indexOf('\r', this.recStart);
    const brk = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
    if (brk === -1) return false;
    out.push(this.unclosed(buf.slice(this.recStart, brk)));
    const next = buf.charCodeAt(brk) === CR && buf.charCodeAt(brk + 1) === LF ? brk + 2 : brk + 1;
    this.fields = [];
    this.state = State.FieldStart;
    this.line = this.recLine + 1;
    this.recLine = this.line;
    this.recStart = next;
    this.pos = next;
    return true;
  }

  private unclosed(raw: string): Piece<string[]> {
    return {
      kind: 'bad',
      line: this.recLine,
      reason: 'unterminated_quote',
      detail: 'a quoted field is never closed',
      raw: raw.slice(0, RAW_HEAD_CHARS),
    };
  }
}
