import { isAscii, isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';

/**
 * `utf-8?` is the undecided case: everything seen so far is ASCII. The decoder settles it on the first
 * chunk with a non-ASCII byte (valid UTF-8 → UTF-8, else Windows-1252), so a file whose first accent
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
  return isUtf8Prefix(bytes, complete) ? 'utf-8' : 'windows-1252';
}

/** Valid UTF-8, allowing (unless complete) a multi-byte character cut off at the end. */
function isUtf8Prefix(bytes: Uint8Array, complete: boolean): boolean {
  if (isUtf8(bytes)) return true;
  if (complete) return false;
  for (let cut = 1; cut <= 3 && cut < bytes.length; cut++) {
    if (isUtf8(bytes.subarray(0, bytes.length - cut))) return true;
  }
  return false;
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
  for await (let chunk of chunks) {
    if (skip > 0) {
      const n = Math.min(skip, chunk.length);
      chunk = chunk.subarray(n);
      skip -= n;
    }
    if (chunk.length === 0) continue;
    if (decoder === null) {
      if (isAscii(chunk)) {
        yield chunk.toString('latin1');
        continue;
      }
      const encoding = classify8bit(chunk, false);
      settled(encoding === 'utf-8?' ? 'utf-8' : encoding);
      decoder = iconvDecoder(encoding === 'windows-1252' ? 'windows-1252' : 'utf-8');
    }
    const text = decoder.write(chunk);
    if (text.length > 0) yield text;
  }
  const rest = decoder?.end();
  if (rest) yield rest;
}
