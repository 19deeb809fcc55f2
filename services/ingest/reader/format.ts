import { BINARY_SHARE, suspiciousShare } from './cells.ts';
import { UploadFormatError } from './errors.ts';

export type UploadFormat = 'csv' | 'json' | 'ndjson';

const SIGNATURES: ReadonlyArray<[number[], string]> = [
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document'],
  [[0x50, 0x4b, 0x03, 0x04], 'a ZIP archive (an Excel .xlsx workbook?)'],
  [[0xd0, 0xcf, 0x11, 0xe0], 'a legacy Office document (an Excel .xls workbook?)'],
  [[0x1f, 0x8b], 'a gzip archive'],
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
  [[0xff, 0xd8, 0xff], 'a JPEG image'],
  [[0x47, 0x49, 0x46, 0x38], 'a GIF image'],
  [[0x7b, 0x5c, 0x72, 0x74, 0x66], 'an RTF document'],
];

const EXPORT_HINT = 'export the leads as CSV or JSON';

/** Rejects well-known binary formats by their magic bytes, with a message the user can act on. */
export function checkNotBinary(sample: Uint8Array): void {
  for (const [magic, what] of SIGNATURES) {
    if (sample.length >= magic.length && magic.every((b, i) => sample[i] === b)) {
      throw new UploadFormatError(
        'unsupported_format',
        `the file is ${what}, not CSV or JSON: ${EXPORT_HINT}`,
      );
    }
  }
}

/**
 * CSV, a JSON array or NDJSON, from the first non-blank character of the decoded text; the file name
 * is only a hint for the cases content cannot settle. Text whose start is more than BINARY_SHARE NUL,
 * control characters or undecodable bytes is binary whatever its name (cells.ts); below that, damaged
 * cells cost their rows only.
 */
export function detectFormat(text: string, complete: boolean, filename = ''): UploadFormat {
  const first = /\S/.exec(text);
  if (!first) {
    if (complete) throw new UploadFormatError('empty_file', 'the file holds no data');
    return 'csv';
  }
  const share = suspiciousShare(text);
  if (share > BINARY_SHARE) {
    const percent = Math.round(share * 100);
    throw new UploadFormatError(
      'unsupported_format',
      `the file is binary, not CSV or JSON (${percent} % of its first 65,536 characters are NUL, control characters or undecodable bytes): ${EXPORT_HINT}`,
    );
  }
  const c = first[0];
  if (c === '[') return 'json';
  if (c === '{') return 'ndjson';
  if (/\.(json|jsonl|ndjson)$/i.test(filename)) {
    throw new UploadFormatError(
      'unsupported_format',
      'the file is named as JSON but does not start with [ (an array of objects) or { (one object per line)',
    );
  }
  return 'csv';
}
