import { DEFAULT_MAX_RECORD_CHARS, type Piece, RAW_HEAD_CHARS, type Tokenizer, tooLarge } from './pieces.ts';

const LF = 10;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9;

enum State {
  /** Outside any element: whitespace, commas and array brackets separate elements. */
  Between,
  Container,
  String,
  Scalar,
}

/**
 * Splits a JSON array of values into the source text of each element, streaming, without building the
 * whole document: only the current element is held, and never more than `maxRecordChars` of it. Each
 * element is JSON.parse'd on its own later, so a malformed element is one rejection, not a failed file.
 *
 * Hand-written rather than stream-json: the rejections need each element's raw text and line, and a
 * malformed element must not stop the elements after it — a token-level parser gives neither.
 * Array brackets between elements are separators, so concatenated arrays (`[...][...]`) read as one.
 */
export class JsonArrayTokenizer implements Tokenizer<string> {
  private buf = '';
  private pos = 0;
  private start = 0;
  private state = State.Between;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private line = 1;
  private startLine = 1;
  private oversize: string | null = null;
  /** Between the top-level [ and its ]: a [ there starts an element, elsewhere another array. */
  private inArray = false;

  constructor(private readonly maxRecordChars = DEFAULT_MAX_RECORD_CHARS) {}

  push(text: string, out: Piece<string>[]): void {
    this.buf = this.buf.length === 0 ? text : this.buf + text;
    this.scan(out);
    this.compact();
  }

  end(out: Piece<string>[]): void {
    if (this.state === State.Scalar) {
      this.emit(this.buf.length, out);
    } else if (this.state !== State.Between) {
      out.push({
        kind: 'bad',
        line: this.startLine,
        reason: 'truncated_json',
        detail: 'the file ends inside this element',
        raw: (this.oversize ?? this.buf.slice(this.start)).slice(0, RAW_HEAD_CHARS),
      });
    }
  }

  private scan(out: Piece<string>[]): void {
    const buf = this.buf;
    const n = buf.length;
    for (let i = this.pos; i < n; i++) {
      const c = buf.charCodeAt(i);
      if (c === LF) this.line++;
      switch (this.state) {
        case State.Between:
          if (isSpace(c) || c === COMMA) break;
          if (c === CLOSE_BRACKET || (c === OPEN_BRACKET && !this.inArray)) {
            this.inArray = c === OPEN_BRACKET;
            break;
          }
          this.start = i;
          this.startLine = this.line;
          if (c === OPEN_BRACE || c === OPEN_BRACKET) {
            this.state = State.Container;
            this.depth = 1;
          } else if (c === QUOTE) {
            this.state = State.String;
          } else {
            this.state = State.Scalar;
          }
          break;
        case State.Container:
          if (this.inString) {
            if (this.escaped) this.escaped = false;
            else if (c === BACKSLASH) this.escaped = true;
            else if (c === QUOTE) this.inString = false;
          } else if (c === QUOTE) {
            this.inString = true;
          } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
            this.depth++;
          } else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --this.depth === 0) {
            this.emit(i + 1, out);
          }
          break;
        case State.String:
          if (this.escaped) this.escaped = false;
          else if (c === BACKSLASH) this.escaped = true;
          else if (c === QUOTE) this.emit(i + 1, out);
          break;
        case State.Scalar:
          if (isSpace(c) || c === COMMA || c === CLOSE_BRACKET) {
            this.emit(i, out);
            if (c === LF) this.line--;
            i--;
          }
          break;
      }
    }
    this.pos = n;
  }

  private emit(end: number, out: Piece<string>[]): void {
    if (this.oversize !== null) {
      out.push(tooLarge(this.startLine, this.oversize, this.maxRecordChars));
    } else if (end - this.start > this.maxRecordChars) {
      out.push(tooLarge(this.startLine, this.buf.slice(this.start, end), this.maxRecordChars));
    } else {
      out.push({ kind: 'data', line: this.startLine, data: this.buf.slice(this.start, end) });
    }
    this.oversize = null;
    this.state = State.Between;
    this.start = end;
  }

  private compact(): void {
    if (this.state === State.Between) {
      this.buf = '';
      this.pos = 0;
      this.start = 0;
      return;
    }
    if (this.oversize === null && this.buf.length - this.start > this.maxRecordChars) {
      this.oversize = this.buf.slice(this.start, this.start + RAW_HEAD_CHARS);
    }
    const from = this.oversize === null ? this.start : this.buf.length;
    this.buf = this.buf.slice(from);
    this.pos -= from;
    this.start -= from;
  }
}

/**
 * One JSON value per line. Lines are split on LF (a CR before it is dropped); blank lines are skipped;
 * a line longer than `maxRecordChars` is rejected without being held.
 */
export class NdjsonTokenizer implements Tokenizer<string> {
  private partial = '';
  private line = 1;
  private oversize: string | null = null;

  constructor(private readonly maxRecordChars = DEFAULT_MAX_RECORD_CHARS) {}

  push(text: string, out: Piece<string>[]): void {
    let from = 0;
    for (let lf = text.indexOf('\n'); lf !== -1; lf = text.indexOf('\n', from)) {
      this.take(text.slice(from, lf), out);
      from = lf + 1;
    }
    this.hold(text.slice(from));
  }

  end(out: Piece<string>[]): void {
    if (this.partial !== '' || this.oversize !== null) this.take('', out);
  }

  private hold(rest: string): void {
    if (this.oversize !== null) return;
    this.partial += rest;
    if (this.partial.length > this.maxRecordChars) {
      this.oversize = this.partial.slice(0, RAW_HEAD_CHARS);
      this.partial = '';
    }
  }

  private take(tail: string, out: Piece<string>[]): void {
    const line = this.line++;
    if (this.oversize !== null) {
      out.push(tooLarge(line, this.oversize, this.maxRecordChars));
      this.oversize = null;
      return;
    }
    const text = this.partial === '' ? tail : this.partial + tail;
    this.partial = '';
    if (text.length > this.maxRecordChars) out.push(tooLarge(line, text, this.maxRecordChars));
    else if (text.trim() !== '') out.push({ kind: 'data', line, data: text });
  }
}
