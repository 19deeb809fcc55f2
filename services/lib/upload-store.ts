import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, stat, unlink } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { REPO_ROOT } from './config.ts';

/**
 * Where uploaded files live. The gateway puts them, ingest opens them; both only ever see logical
 * paths (`/uploads/<name>_<date>_<id>.<ext>`) inside one account's space, never server paths, so the
 * local folder can become object storage behind the same interface.
 */
export interface UploadStore {
  /** Stores the whole stream, atomically: a failed or too-large upload leaves nothing behind. */
  put(accountId: string, logicalName: string, body: AsyncIterable<Uint8Array>): Promise<StoredUpload>;
  /** The file as a byte stream; UploadStoreError('not_found') if the account has no such file. */
  open(accountId: string, filePath: string): Promise<Readable>;
  /** null when the account has no such file. */
  stat(accountId: string, filePath: string): Promise<UploadStat | null>;
}

export interface StoredUpload {
  file_path: string;
  size: number;
}

export interface UploadStat {
  size: number;
  modifiedAt: Date;
}

/**
 * `not_found` covers both a missing file and a path that could never name one (traversal, bad account
 * id): the gateway answers 404 either way and learns nothing about other accounts. `too_large` → 413.
 */
export class UploadStoreError extends Error {
  constructor(
    readonly code: 'not_found' | 'too_large' | 'invalid_account',
    message: string,
  ) {
    super(message);
    this.name = 'UploadStoreError';
  }
}

export const UploadStoreSettings = z.object({
  /** Root folder of the local store; relative paths are from the repository root. */
  UPLOAD_DIR: z.string().min(1).default('.stack/uploads'),
  /** Largest upload stored, in bytes (0: no limit). */
  UPLOAD_MAX_BYTES: z.coerce.number().int().nonnegative().default(0),
});
export type UploadStoreSettings = z.infer<typeof UploadStoreSettings>;

const LOGICAL_PREFIX = '/uploads/';
/**
 * Read size for uploads. 64 KiB measured best (bench/parse.bench.ts): the rows parsed from one chunk
 * are consumed before the next young-generation GC and die young; with 256 KiB many survive into the
 * old generation and peak RSS grows by ~60 MiB for no speed gain.
 */
export const UPLOAD_READ_CHUNK = 64 * 1024;
const ACCOUNT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)$/i;
const MAX_STEM = 80;
/** `_<yyyy-mm-dd>_<8 hex>` after the stem of every stored name. */
const STORED_SUFFIX_CHARS = 20;
const MAX_EXTENSION = 10;

/**
 * A file name safe on every file system and in a URL: the last path segment only, NFKC, no control
 * characters, only letters, digits, `.`, `_` and `-`, no leading dot, no Windows device name, bounded
 * length. Returns stem and lower-cased extension separately.
 */
export function sanitizeFileName(name: string): { stem: string; ext: string } {
  const base = name.normalize('NFKC').split(/[/\\]/).pop() ?? '';
  const clean = base
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[._-]+|[._-]+$/g, '');
  const dot = clean.lastIndexOf('.');
  let stem = dot > 0 ? clean.slice(0, dot) : clean;
  let ext = dot > 0 ? clean.slice(dot + 1).toLowerCase() : '';
  stem = stem
    .replace(/\./g, '_')
    .slice(0, MAX_STEM)
    .replace(/[._-]+$/, '');
  if (stem === '') stem = 'upload';
  // A suffix, not a prefix: a leading "_" is what this function strips, so the stored name would not
  // come back unchanged from it, and open() would refuse it.
  if (WINDOWS_RESERVED.test(stem)) stem = `${stem}_file`;
  ext = ext.replace(/[^a-z0-9]/g, '').slice(0, MAX_EXTENSION);
  return { stem, ext };
}

/**
 * Characters a name shown back to people must not carry: controls (Cc: C0, DEL, C1 — terminal escapes,
 * header and log injection), format characters (Cf: bidirectional overrides and isolates that show
 * "gpj.exe" as "exe.jpg", zero-width characters, the BOM), line and paragraph separators.
 */
const UNSHOWABLE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;
const MAX_DISPLAY_NAME = 255;

/**
 * The name of an upload as it is reported and looked up (`filename` in API answers, batches and
 * webhook events): the client's own name, readable (spaces and any script kept), but only its last
 * path segment, without the characters above, whitespace collapsed, without leading dots, at most 255
 * characters (the extension kept); `upload` when nothing is left. The stored file's name is sanitizeFileName's, stricter.
 */
export function displayFileName(name: string): string {
  const base = name.normalize('NFC').split(/[/\\]/).pop() ?? '';
  const shown = base.replace(UNSHOWABLE, '').replace(/\s+/g, ' ').trim().replace(/^\.+/, '').trim();
  const chars = [...shown];
  if (chars.length <= MAX_DISPLAY_NAME) return shown || 'upload';
  // Shortened in the middle of the stem: the extension says what the file is, keep it.
  const ext = /\.[^.\s]{1,16}$/.exec(shown)?.[0] ?? '';
  return `${chars
    .slice(0, MAX_DISPLAY_NAME - ext.length)
    .join('')
    .trim()}${ext}`;
}

/** The local-folder store: `<root>/<accountId>/<file>`. */
export class LocalUploadStore implements UploadStore {
  private readonly root: string;

  constructor(
    root: string,
    private readonly options: { maxBytes?: number; now?: () => Date } = {},
  ) {
    this.root = resolve(REPO_ROOT, root);
  }

  static fromSettings(settings: UploadStoreSettings): LocalUploadStore {
    return new LocalUploadStore(settings.UPLOAD_DIR, { maxBytes: settings.UPLOAD_MAX_BYTES });
  }

  async put(accountId: string, logicalName: string, body: AsyncIterable<Uint8Array>): Promise<StoredUpload> {
    const dir = this.accountDir(accountId);
    if (dir === null)
      throw new UploadStoreError('invalid_account', `invalid account id ${JSON.stringify(accountId)}`);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.incoming-${randomBytes(8).toString('hex')}`);
    try {
      const size = await this.writeBounded(body, tmp);
      const { stem: full, ext } = sanitizeFileName(logicalName);
      // The stored name must come back unchanged from sanitizeFileName (open() checks so): its stem,
      // date and id together stay within MAX_STEM, or a long name would be stored but never opened.
      const stem = full.slice(0, MAX_STEM - STORED_SUFFIX_CHARS).replace(/[._-]+$/, '') || 'upload';
      const date = (this.options.now?.() ?? new Date()).toISOString().slice(0, 10);
      // link() refuses to replace an existing name, so two uploads can never overwrite each other.
      for (;;) {
        const name = `${stem}_${date}_${randomBytes(4).toString('hex')}${ext ? `.${ext}` : ''}`;
        try {
          await link(tmp, join(dir, name));
          return { file_path: LOGICAL_PREFIX + name, size };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
      }
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  async open(accountId: string, filePath: string): Promise<Readable> {
    const path = this.resolveFile(accountId, filePath);
    const found = path === null ? null : await statFile(path);
    if (path === null || found === null) throw notFound(filePath);
    return createReadStream(path, { highWaterMark: UPLOAD_READ_CHUNK });
  }

  async stat(accountId: string, filePath: string): Promise<UploadStat | null> {
    const path = this.resolveFile(accountId, filePath);
    return path === null ? null : statFile(path);
  }

  private async writeBounded(body: AsyncIterable<Uint8Array>, path: string): Promise<number> {
    const max = this.options.maxBytes ?? 0;
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (max > 0 && size > max) done(new UploadStoreError('too_large', `the upload exceeds ${max} bytes`));
        else done(null, chunk);
      },
    });
    await pipeline(body, counter, createWriteStream(path, { flags: 'wx' }));
    return size;
  }

  private accountDir(accountId: string): string | null {
    if (!ACCOUNT_ID.test(accountId)) return null;
    return this.within(this.root, accountId);
  }

  /**
   * The server path of a logical path, or null when it is not one: it must be `/uploads/<name>` with a
   * single name that sanitising leaves unchanged (so no `..`, separators, NUL or control characters),
   * and the resolved path must stay inside the account's folder.
   */
  private resolveFile(accountId: string, filePath: string): string | null {
    const dir = this.accountDir(accountId);
    if (dir === null || !filePath.startsWith(LOGICAL_PREFIX)) return null;
    const name = filePath.slice(LOGICAL_PREFIX.length);
    const { stem, ext } = sanitizeFileName(name);
    if (name !== (ext ? `${stem}.${ext}` : stem) || name.startsWith('.')) return null;
    return this.within(dir, name);
  }

  private within(dir: string, name: string): string | null {
    if (name.includes('\0') || isAbsolute(name)) return null;
    const path = resolve(dir, name);
    return path.startsWith(dir + sep) ? path : null;
  }
}

async function statFile(path: string): Promise<UploadStat | null> {
  try {
    const s = await stat(path);
    return s.isFile() ? { size: s.size, modifiedAt: s.mtime } : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

const notFound = (filePath: string) =>
  new UploadStoreError('not_found', `no upload ${JSON.stringify(filePath)}`);
