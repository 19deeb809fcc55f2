/**
 * Generated hostile upload files for the reader fuzz test (all of them) and the upload-route fuzz test
 * (a sample through HTTP). Each structured file knows how many data records it holds and which of them
 * the documented rules (services/ingest/README.md) make rows or rejections; chaos files (mutated,
 * truncated, random) know nothing and are checked on invariants only.
 */
import fc from 'fast-check';
import { suspiciousShare } from '../../services/ingest/reader/cells.ts';

/** Limits the fuzz reads with: small, so over-long fields and records are cheap to generate. */
export const FUZZ_LIMITS = { maxRecordChars: 4096, maxFieldChars: 512 };

/** What one data record must become: `either` where the encoding decision may go both ways. */
export type Expected = 'row' | 'rejection' | 'either';

export interface HostileFile {
  family: 'csv' | 'json' | 'ndjson' | 'chaos';
  /** What it holds, for a failure message. */
  label: string;
  filename: string;
  bytes: Buffer;
  /** One entry per data record in file order; null for chaos files. */
  records: Expected[] | null;
  /** CSV: the non-empty cell values of each record the rules make a row, to check nothing is altered. */
  values: (string[] | null)[] | null;
  /** Share of NUL/control/U+FFFD characters in the text written (the binary rule's measure). */
  suspicious: number;
  /** Chunk size the file is fed in. */
  chunk: number;
  [fc.toStringMethod](): string;
}

/** fast-check prints a failing file by its label and start, not as megabytes of byte values. */
function hostile(file: Omit<HostileFile, typeof fc.toStringMethod>): HostileFile {
  return {
    ...file,
    [fc.toStringMethod]: () =>
      `${file.label} (${file.bytes.length} bytes: ${JSON.stringify(file.bytes.subarray(0, 300).toString('latin1'))}...)`,
  };
}

/** Stands for a broken UTF-8 sequence in the text; replaced by invalid bytes once encoded. */
const BROKEN = '\uE000';
const BROKEN_BYTES = [Buffer.from([0xc3, 0x28]), Buffer.from([0xff]), Buffer.from([0xe2, 0x82])];

const CONTROLS = [
  '\u0000',
  '\u0001',
  '\u0007',
  '\u0008',
  '\u000b',
  '\u000c',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u009f',
];
const FORMULAS = [
  '=SUM(A1:A9)',
  '+1 202 555 0143',
  '-2+3',
  '@cmd',
  '\t=1+1',
  '\r=1',
  '=HYPERLINK("http://x","y")',
];
const PLAIN = [..."abcXYZ019 .@-_()'", 'é', 'ü', 'ß', '日', 'Ω', '😀'];
const SPECIAL = [',', ';', '\t', '|', '"', '\n', '\r', '\r\n'];
const HEADERS = [
  'name',
  'Name',
  'notes',
  'notes',
  '',
  'E-mail',
  'phone',
  'company',
  '__proto__',
  'Téléphone',
  'x',
];

type Cell = { text: string; bad: boolean; broken: boolean };

const plainCell = fc
  .array(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...PLAIN) }, fc.constantFrom(...SPECIAL)), {
    maxLength: 10,
  })
  .map((cs): Cell => ({ text: cs.join(''), bad: false, broken: false }));

/** Any value a hostile export holds, with whether the rules reject its record. */
const cell: fc.Arbitrary<Cell> = fc.oneof(
  { weight: 20, arbitrary: plainCell },
  {
    weight: 2,
    arbitrary: fc
      .tuple(plainCell, fc.constantFrom(...CONTROLS), plainCell)
      .map(([a, c, b]) => ({ text: `${a.text}${c}${b.text}`, bad: true, broken: false })),
  },
  { weight: 2, arbitrary: fc.constantFrom(...FORMULAS).map((text) => ({ text, bad: false, broken: false })) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: FUZZ_LIMITS.maxFieldChars + 1, max: 3 * FUZZ_LIMITS.maxFieldChars })
      .map((n) => ({ text: 'x'.repeat(n), bad: true, broken: false })),
  },
  { weight: 1, arbitrary: plainCell.map((c) => ({ text: `${c.text}${BROKEN}`, bad: true, broken: true })) },
);

const ENCODINGS = ['utf-8', 'utf-8-bom', 'utf-16le', 'utf-16be'] as const;
type Encoding = (typeof ENCODINGS)[number];

function encode(text: string, encoding: Encoding): Buffer {
  switch (encoding) {
    case 'utf-8':
    case 'utf-8-bom': {
      const parts = text.split(BROKEN);
      const pieces: Buffer[] = encoding === 'utf-8-bom' ? [Buffer.from([0xef, 0xbb, 0xbf])] : [];
      parts.forEach((p, i) => {
        if (i > 0) pieces.push(BROKEN_BYTES[i % BROKEN_BYTES.length] as Buffer);
        pieces.push(Buffer.from(p));
      });
      return Buffer.concat(pieces);
    }
    case 'utf-16le':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    case 'utf-16be':
      return Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
  }
}

const suspiciousOf = (text: string) => suspiciousShare(text.slice(0, 65_536).replaceAll(BROKEN, '\uFFFD'));
const isBlank = (cells: string[]) => cells.every((c) => c.trim() === '');
const hasNonAscii = (s: string) => [...s].some((c) => (c.codePointAt(0) as number) > 0x7f);

const csvFile = fc
  .record({
    delimiter: fc.constantFrom(',', ';', '\t', '|'),
    encoding: fc.constantFrom(...ENCODINGS),
    newline: fc.constantFrom('\n', '\r\n', '\r'),
    quoteAll: fc.boolean(),
    trailingNewline: fc.boolean(),
    preamble: fc.constantFrom('', 'sep', 'title'),
    headers: fc.array(fc.constantFrom(...HEADERS), { minLength: 1, maxLength: 60 }),
    emailAt: fc.nat(),
    rows: fc.array(fc.array(cell, { minLength: 1, maxLength: 12 }), { maxLength: 30 }),
    chunk: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 64, max: 65_536 })),
  })
  .map((f) => {
    const header = [...f.headers];
    header.splice(f.emailAt % (header.length + 1), 0, 'email');
    // The encodings without a way to carry broken UTF-8 get the marker as plain text.
    const utf16 = f.encoding.startsWith('utf-16');
    const rows = f.rows.map((r) =>
      r.map((c) =>
        utf16 && c.broken ? { text: c.text.replace(BROKEN, 'z'), bad: false, broken: false } : c,
      ),
    );
    const quote = (v: string) => (f.quoteAll || /[,;\t|"\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
    const lines = [
      header.join(f.delimiter),
      ...rows.map((r) => r.map((c) => quote(c.text)).join(f.delimiter)),
    ];
    if (f.preamble === 'sep') lines.unshift(`sep=${f.delimiter}`);
    if (f.preamble === 'title') lines.unshift('Leads export 2026');
    const text = lines.join(f.newline) + (f.trailingNewline ? f.newline : '');
    const anyBroken = rows.some((r) => r.some((c) => c.broken));
    const records: Expected[] = [];
    const values: (string[] | null)[] = [];
    for (const r of rows) {
      const texts = r.map((c) => c.text);
      if (isBlank(texts)) continue;
      const written = r.map((c) => quote(c.text)).join(f.delimiter).length;
      const bad = r.some((c) => c.bad) || written > FUZZ_LIMITS.maxRecordChars;
      // Broken bytes may tip the whole file to Windows-1252: then its non-ASCII cells read otherwise.
      const unsure = anyBroken && (r.some((c) => c.broken) || r.some((c) => hasNonAscii(c.text)));
      records.push(unsure ? 'either' : bad ? 'rejection' : 'row');
      values.push(bad || unsure ? null : texts.filter((t) => t !== ''));
    }
    return hostile({
      family: 'csv',
      label: `csv ${JSON.stringify({ ...f, rows: rows.length })}`,
      filename: 'leads.csv',
      bytes: encode(text, f.encoding),
      records,
      values,
      suspicious: suspiciousOf(text),
      chunk: f.chunk,
    });
  });

/** One JSON element as written, with what it must become. */
type Element = { text: string; expect: Expected };

const jsonString = fc
  .array(
    fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...PLAIN, ...SPECIAL) }, fc.constantFrom(...FORMULAS)),
    {
      maxLength: 10,
    },
  )
  .map((cs) => cs.join(''));

const jsonElement: fc.Arbitrary<Element> = fc.oneof(
  {
    weight: 20,
    arbitrary: fc
      .record({
        email: jsonString,
        name: fc.option(jsonString),
        employees: fc.option(fc.integer()),
        active: fc.option(fc.boolean()),
        tags: fc.option(fc.array(jsonString, { maxLength: 3 })),
        nested: fc.option(fc.record({ a: fc.array(fc.record({ b: fc.nat() }), { maxLength: 2 }) })),
      })
      .map((o) => ({ text: JSON.stringify(o), expect: 'row' as const })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(jsonString, fc.constantFrom(...CONTROLS))
      .map(([s, c]) => ({ text: JSON.stringify({ email: `${s}${c}` }), expect: 'rejection' as const })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...CONTROLS).map((c) => ({
      text: JSON.stringify({ email: 'a@x.com', [`k${c}`]: 'v' }),
      expect: 'rejection' as const,
    })),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: FUZZ_LIMITS.maxFieldChars + 1, max: 3 * FUZZ_LIMITS.maxFieldChars })
      .map((n) => ({
        text: JSON.stringify({ email: 'a@x.com', notes: 'n'.repeat(n) }),
        expect: 'rejection' as const,
      })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 65, max: 400 }).map((d) => ({
      text: `{"email":"deep@x.com","x":${'['.repeat(d)}${']'.repeat(d)}}`,
      expect: 'rejection' as const,
    })),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('1', '"text"', 'null', 'true', '[1,2]', '[]', '-0.5e3', '[{"email":"in@array.com"}]')
      .map((text) => ({ text, expect: 'rejection' as const })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        '{"email": }',
        '{"email":"a@x.com",}',
        "{'email':'a@x.com'}",
        '{"email":"a\\q"}',
        '{email:1}',
      )
      .map((text) => ({ text, expect: 'rejection' as const })),
  },
);

const jsonFamily = (family: 'json' | 'ndjson') =>
  fc
    .record({
      encoding: fc.constantFrom(...ENCODINGS),
      newline: fc.constantFrom('\n', '\r\n'),
      // The first element names the email key, as exports do (the layout looks at the first 100).
      elements: fc.array(jsonElement, { maxLength: 30 }),
      blankLines: fc.array(fc.nat(30), { maxLength: 4 }),
      chunk: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 64, max: 65_536 })),
    })
    .map((f) => {
      const elements: Element[] = [{ text: '{"email":"first@x.com"}', expect: 'row' }, ...f.elements];
      const records = elements.map((e) =>
        e.text.length > FUZZ_LIMITS.maxRecordChars ? 'rejection' : e.expect,
      );
      let text: string;
      if (family === 'json') {
        text = `[${f.newline}${elements.map((e) => `  ${e.text}`).join(`,${f.newline}`)}${f.newline}]`;
      } else {
        const lines = elements.map((e) => e.text);
        for (const at of f.blankLines) lines.splice(Math.min(at, lines.length), 0, '   ');
        text = lines.join(f.newline) + f.newline;
      }
      return hostile({
        family,
        label: `${family} ${JSON.stringify({ ...f, elements: elements.length })}`,
        filename: family === 'json' ? 'leads.json' : 'leads.ndjson',
        bytes: encode(text, f.encoding),
        records,
        values: null,
        suspicious: suspiciousOf(text),
        chunk: f.chunk,
      });
    });

const MAGIC = [
  Buffer.from('%PDF-1.7\n'),
  Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]),
  Buffer.from([0x1f, 0x8b, 0x08, 0x00]),
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
];

type Mutation = (bytes: Buffer, rnd: number[]) => Buffer;
const at = (bytes: Buffer, r: number) => (bytes.length === 0 ? 0 : r % (bytes.length + 1));

const MUTATIONS: Record<string, Mutation> = {
  truncate: (b, [r = 0]) => b.subarray(0, at(b, r)),
  unbalancedQuote: (b, [r = 0]) =>
    Buffer.concat([b.subarray(0, at(b, r)), Buffer.from('"'), b.subarray(at(b, r))]),
  flipBytes: (b, rnd) => {
    const out = Buffer.from(b);
    for (let i = 0; i + 1 < rnd.length && out.length > 0; i += 2) {
      out[(rnd[i] as number) % out.length] = (rnd[i + 1] as number) & 0xff;
    }
    return out;
  },
  insertGarbage: (b, [r = 0, ...rest]) =>
    Buffer.concat([b.subarray(0, at(b, r)), Buffer.from(rest.map((x) => x & 0xff)), b.subarray(at(b, r))]),
  binaryMagic: (b, [r = 0]) => Buffer.concat([MAGIC[r % MAGIC.length] as Buffer, b]),
  utf16NoBom: (b) => Buffer.from(b.toString('latin1'), 'utf16le'),
  randomOnly: (_b, rnd) => Buffer.from(rnd.map((x) => x & 0xff)),
  bomOnly: (_b, [r = 0]) =>
    [Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from([0xff, 0xfe]), Buffer.from([0xfe, 0xff])][r % 3] as Buffer,
  blankOnly: (_b, [r = 0]) => Buffer.from([' ', '\n\n\r\n', '\t \r', ''][r % 4] as string),
  deepArray: (_b, [r = 0]) =>
    Buffer.from(`${'['.repeat(1000 + (r % 200) * 50)}${']'.repeat(r % 2 ? 1000 + (r % 200) * 50 : 3)}`),
  unclosedObject: (_b, [r = 0]) => Buffer.from(`[{"email":"a@x.com"},{"email":"${'x'.repeat(r % 10_000)}`),
};

const chaosFile = fc
  .record({
    base: fc.oneof(csvFile, jsonFamily('json'), jsonFamily('ndjson')),
    mutation: fc.constantFrom(...Object.keys(MUTATIONS)),
    rnd: fc.array(fc.nat(1 << 20), { minLength: 1, maxLength: 64 }),
    chunk: fc.integer({ min: 1, max: 512 }),
  })
  .map(({ base, mutation, rnd, chunk }) => {
    const bytes = (MUTATIONS[mutation] as Mutation)(base.bytes, rnd);
    return hostile({
      family: 'chaos',
      label: `chaos ${mutation} of ${base.label}`,
      filename: base.filename,
      bytes,
      records: null,
      values: null,
      suspicious: 0,
      chunk,
    });
  });

/** The mix both fuzz tests draw from: structured files of each family, and chaos. */
export const hostileFile: fc.Arbitrary<HostileFile> = fc.oneof(
  { weight: 4, arbitrary: csvFile },
  { weight: 2, arbitrary: jsonFamily('json') },
  { weight: 2, arbitrary: jsonFamily('ndjson') },
  { weight: 3, arbitrary: chaosFile },
);

/** The fixed seed of both fuzz tests (FC_SEED replays another), so a run is reproducible. */
export const FUZZ_SEED = Number(process.env.FC_SEED ?? 20261204);
