import { isAscii, isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';

/**
 * `utf-8?` is the undecided case: everything seen so far is ASCII. The decoder settles it on the bytes
 * from the first non-ASCII one (UTF-8 if they are, else Windows-1252), so a file whose first accent
 * comes after the sample is still decoded right.
 */
export type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252' | 'utf-8?';

export interface DetectedEncoding {
  encoding: Encoding;
  /** Bytes of byte-order mark to skip. */
  bomLength: number;
}

const BOMS: ReadonlyArray<[number[], Encoding]> = [
  [[0xef, 0xbb, 0xbf], 'utf-8'],
  [[0xff, 0xfe], 'utf-16le'],
  [[0xfe, 0xff], 'utf-16be'],
];

/**
 * Decides the encoding from a prefix of the file: a BOM wins; else UTF-16 without BOM shows as NUL
 * bytes on one side of most ASCII characters; else valid UTF-8 with non-ASCII bytes is UTF-8, invalid is
 * Windows-1252 (the encoding Excel on Windows writes), and pure ASCII stays undecided.
 * `complete` says the sample is the whole file (no multi-byte character can be cut at its end).
 */
export function detectEncoding(sample: Buffer, complete: boolean): DetectedEncoding {
  for (const [bom, encoding] of BOMS) {
    if (sample.length >= bom.length && bom.every((b, i) => sample[i] === b)) {
      return { encoding, bomLength: bom.length };
    }
  }
  const utf16 = utf16WithoutBom(sample);
  if (utf16) return { encoding: utf16, bomLength: 0 };
  return { encoding: classify8bit(sample, complete), bomLength: 0 };
}

function utf16WithoutBom(sample: Buffer): Encoding | null {
  const pairs = Math.min(sample.length >> 1, 4096);
  if (pairs < 2) return null;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < pairs; i++) {
    if (sample[2 * i] === 0) evenZeros++;
    if (sample[2 * i + 1] === 0) oddZeros++;
  }
  // Latin text in UTF-16 has a NUL in (nearly) every pair, always on the same side.
  if (oddZeros > pairs * 0.6 && evenZeros < pairs * 0.05) return 'utf-16le';
  if (evenZeros > pairs * 0.6 && oddZeros < pairs * 0.05) return 'utf-16be';
  return null;
}

function classify8bit(bytes: Uint8Array, complete: boolean): 'utf-8' | 'windows-1252' | 'utf-8?' {
  if (isAscii(bytes)) return 'utf-8?';
  const body = complete ? bytes : bytes.subarray(0, bytes.length - incompleteTail(bytes));
  if (isUtf8(body)) return 'utf-8';
  // Some invalid bytes in a file full of valid multi-byte characters are damage in a UTF-8 file (read
  // as U+FFFD and flagged); Windows-1252 text almost never forms valid UTF-8 sequences at all.
  const { valid, invalid } = utf8Evidence(body);
  return valid > 0 && valid >= invalid ? 'utf-8' : 'windows-1252';
}

/** How many trailing bytes are the start of a multi-byte character cut off by the chunk's end. */
function incompleteTail(bytes: Uint8Array): number {
  for (let k = 1; k <= 3 && k <= bytes.length; k++) {
    const b = bytes[bytes.length - k] as number;
    if ((b & 0xc0) === 0x80) continue;
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return length > k ? k : 0;
  }
  return 0;
}

/** Counts well-formed multi-byte UTF-8 sequences and bytes that cannot start or continue one. */
function utf8Evidence(bytes: Uint8Array): { valid: number; invalid: number } {
  let valid = 0;
  let invalid = 0;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    const length = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    let ok = length > 0 && i + length <= bytes.length;
    for (let k = 1; ok && k < length; k++) ok = ((bytes[i + k] as number) & 0xc0) === 0x80;
    if (ok) {
      valid++;
      i += length;
    } else {
      invalid++;
      i++;
    }
  }
  return { valid, invalid };
}

/**
 * An undecided (ASCII so far) file is decided on this many bytes from its first non-ASCII one: the
 * same bytes however the stream is chunked, so the gateway and ingest decide alike.
 */
const DECIDE_WINDOW = 4096;

function firstNonAscii(bytes: Buffer): number {
  if (isAscii(bytes)) return -1;
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) >= 0x80) return i;
  return -1;
}

interface TextDecoderLike {
  write(bytes: Buffer): string;
  end(): string | undefined;
}

const iconvName: Record<Exclude<Encoding, 'utf-8?'>, string> = {
  'utf-8': 'utf8',
  'utf-16le': 'utf16le',
  'utf-16be': 'utf16be',
  'windows-1252': 'win1252',
};

function iconvDecoder(encoding: Exclude<Encoding, 'utf-8?'>): TextDecoderLike {
  // BOMs are skipped by the reader itself (it knows their length); iconv must not eat a real U+FEFF.
  return iconv.getDecoder(iconvName[encoding], { stripBOM: false });
}

/**
 * Decodes a byte stream chunk by chunk (multi-byte characters split across chunks are joined).
 * `settled` reports the encoding finally used, once known.
 */
export async function* decodeStream(
  chunks: AsyncIterable<Buffer>,
  detected: DetectedEncoding,
  settled: (encoding: Encoding) => void = () => {},
): AsyncGenerator<string> {
  let skip = detected.bomLength;
  let decoder: TextDecoderLike | null =
    detected.encoding === 'utf-8?' ? null : iconvDecoder(detected.encoding);
  // Undecided: bytes from the first non-ASCII one on, until there are DECIDE_WINDOW of them.
  let held: Buffer | null = null;
  const decide = (window: Buffer, complete: boolean) => {
    const encoding = classify8bit(window, complete) === 'windows-1252' ? 'windows-1252' : 'utf-8';
    settled(encoding);
    return iconvDecoder(encoding);
  };
  for await (let chunk of chunks) {
    if (skip > 0) {
      const n = Math.min(skip, chunk.length);
      chunk = chunk.subarray(n);
      skip -= n;
    }
    if (chunk.length === 0) continue;
    if (decoder === null) {
      if (held === null) {
        const first = firstNonAscii(chunk);
        if (first === -1) {
          yield chunk.toString('latin1');
          continue;
        }
        if (first > 0) yield chunk.toString('latin1', 0, first);
        held = chunk.subarray(first);
      } else {
        held = Buffer.concat([held, chunk]);
      }
      if (held.length < DECIDE_WINDOW) continue;
      decoder = decide(held.subarray(0, DECIDE_WINDOW), false);
      chunk = held;
      held = null;
    }
    const text = decoder.write(chunk);
    if (text.length > 0) yield text;
  }
  if (held !== null) {
    decoder = decide(held, true);
    const text = decoder.write(held);
    if (text.length > 0) yield text;
  }
  const rest = decoder?.end();
  if (rest) yield rest;
}
