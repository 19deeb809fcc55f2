/**
 * 10,000 generated hostile files through the reader (test/support/hostile-files.ts): CSV with control
 * characters, NUL, broken UTF-8, formula cells, over-long fields, many and duplicate columns, every
 * delimiter and newline style, BOMs and UTF-16; JSON arrays and NDJSON with bad, non-object, malformed
 * and deeply nested elements; and chaos files (truncated, flipped bytes, unbalanced quotes, binary
 * signatures, random bytes, BOM only, blank only, UTF-16 without BOM). Fixed seed: reproducible.
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  inspectUpload,
  openUpload,
  type ReaderItem,
  UNREADABLE_REASONS,
  UploadFormatError,
} from '../../services/ingest/reader/index.ts';
import { FUZZ_LIMITS, FUZZ_SEED, type HostileFile, hostileFile } from '../support/hostile-files.ts';

/** FUZZ_FILES=<n> runs fewer while working on the reader; the suite runs all of them. */
const FILES = Number(process.env.FUZZ_FILES ?? 10_000);
/** A file may take this long at most; far above the few milliseconds one takes, far below a hang. */
const PER_FILE_MS = 5_000;
const REASONS = new Set<string>(UNREADABLE_REASONS);
const FILE_ERRORS = new Set(['empty_file', 'unsupported_format', 'no_email_column']);

function chunks(bytes: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

type Outcome = { items: ReaderItem[] } | { error: UploadFormatError };

async function read(bytes: Buffer, chunk: number, filename: string): Promise<Outcome> {
  try {
    const upload = await openUpload(chunks(bytes, chunk), { ...FUZZ_LIMITS, filename });
    const items: ReaderItem[] = [];
    for await (const item of upload.items) items.push(item);
    return { items };
  } catch (err) {
    if (err instanceof UploadFormatError) return { error: err };
    throw err;
  }
}

function timeBoxed<T>(p: Promise<T>, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${PER_FILE_MS} ms: ${label}`)), PER_FILE_MS);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const valuesOf = (item: ReaderItem) =>
  item.kind === 'row' ? [...Object.values(item.fields), ...Object.values(item.extras)].sort() : null;

/** The invariants every outcome keeps, whatever the bytes. */
function checkInvariants(outcome: Outcome): void {
  if ('error' in outcome) {
    expect(FILE_ERRORS.has(outcome.error.code)).toBe(true);
    expect(outcome.error.detail.length).toBeGreaterThan(10);
    return;
  }
  const { items } = outcome;
  // Every record exactly once, numbered 0, 1, 2, ... in file (line) order.
  expect(items.map((i) => i.rowIndex)).toEqual(items.map((_, i) => i));
  for (let i = 1; i < items.length; i++) {
    expect((items[i] as ReaderItem).lineNumber).toBeGreaterThanOrEqual(
      (items[i - 1] as ReaderItem).lineNumber,
    );
  }
  for (const item of items) {
    if (item.kind === 'row') continue;
    expect(REASONS.has(item.reason)).toBe(true);
    expect(item.detail).not.toBe('');
    expect(item.raw.length).toBeLessThanOrEqual(1000);
  }
}

/** A structured file: its records exactly, each a row or a rejection as the rules say. */
function checkStructured(file: HostileFile, outcome: Outcome): void {
  const records = file.records as NonNullable<HostileFile['records']>;
  if ('error' in outcome) {
    // Only the binary rule may refuse a structured file, and only near or over its 10 % share.
    expect(outcome.error.code, outcome.error.detail).toBe('unsupported_format');
    expect(file.suspicious).toBeGreaterThan(0.08);
    return;
  }
  expect(file.suspicious).toBeLessThanOrEqual(0.12);
  const { items } = outcome;
  expect(items.map((i) => i.kind).length).toBe(records.length);
  items.forEach((item, i) => {
    const expected = records[i];
    if (expected !== 'either') expect(item.kind, JSON.stringify(item)).toBe(expected);
    const values = file.values?.[i];
    if (values) expect(valuesOf(item)).toEqual([...values].sort());
  });
}

describe('reader fuzz', () => {
  it(`reads ${FILES} hostile files: no crash, no hang, every record exactly once a row or a rejection`, async () => {
    const seen = { csv: 0, json: 0, ndjson: 0, chaos: 0, refused: 0, records: 0, rejections: 0 };
    let slowest = 0;
    await fc.assert(
      fc.asyncProperty(hostileFile, async (file) => {
        const started = performance.now();
        const outcome = await timeBoxed(read(file.bytes, file.chunk, file.filename), file.label);
        slowest = Math.max(slowest, performance.now() - started);
        seen[file.family]++;
        checkInvariants(outcome);
        if (file.records) checkStructured(file, outcome);
        if ('error' in outcome) {
          seen.refused++;
          return;
        }
        seen.records += outcome.items.length;
        seen.rejections += outcome.items.filter((i) => i.kind === 'rejection').length;
        // The gateway's count at upload (whole-file chunks) equals what ingest reads (other chunks).
        const inspected = await timeBoxed(
          inspectUpload(chunks(file.bytes, file.bytes.length || 1), {
            ...FUZZ_LIMITS,
            filename: file.filename,
          }),
          file.label,
        );
        expect(inspected.rows_detected).toBe(outcome.items.length);
        expect(inspected.rows_unreadable).toBe(outcome.items.filter((i) => i.kind === 'rejection').length);
      }),
      { numRuns: FILES, seed: FUZZ_SEED, endOnFailure: true },
    );
    const families = seen.csv + seen.json + seen.ndjson + seen.chaos;
    expect(families).toBe(FILES);
    // Every family well represented, and the hostile cells really did produce rejections.
    for (const n of [seen.csv, seen.json, seen.ndjson, seen.chaos]) expect(n).toBeGreaterThan(FILES / 10);
    expect(seen.rejections).toBeGreaterThan(FILES / 5);
    expect(slowest).toBeLessThan(PER_FILE_MS);
    console.info(`reader fuzz: ${JSON.stringify(seen)}, slowest file ${Math.round(slowest)} ms`);
  }, 300_000);
});
