/**
 * Generated hostile files (test/support/hostile-files.ts, the reader fuzz's generator and seed) posted
 * to the real upload route over a real socket, some under hostile names too: never a 5xx, never an
 * answer later than the bound, a 201 or a 422 with a detail (a 400 only for a NUL in the part header,
 * which makes the multipart body malformed); after a 201 the stored file is the bytes
 * sent, and reading it back gives exactly rows_detected records, each a row or a rejection with a
 * known reason (structured files: their records, the rows the rules make rows). The reader fuzz
 * (test/unit/reader-fuzz.test.ts) checks the reader itself on 10,000 files; this checks the route.
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openUpload,
  type ReaderItem,
  UNREADABLE_REASONS,
  UploadFormatError,
} from '../../services/ingest/reader/index.ts';
import { testGateway } from '../support/gateway.ts';
import { FUZZ_SEED, type HostileFile, hostileFile } from '../support/hostile-files.ts';

/** UPLOAD_FUZZ_FILES=<n> runs another number; the suite posts this many (about 30 s here). */
const FILES = Number(process.env.UPLOAD_FUZZ_FILES ?? 1_500);
/** One upload may take this long at most: far above the milliseconds one takes, far below a hang. */
const PER_FILE_MS = 5_000;
const PARALLEL = 4;
const REASONS = new Set<string>(UNREADABLE_REASONS);
const HOSTILE_NAMES = ['../../x.csv', 'a\u0000b.json', 'r\r\nn.ndjson', '\u202ecsv.exe', 'CON', '.csv', ''];

const gw = await testGateway('gwupfuzz', { UPLOAD_MAX_BYTES: String(4 * 1024 * 1024) });
let server: Awaited<ReturnType<typeof gw.listen>>;
let token = '';
let accountId = '';

beforeAll(async () => {
  server = await gw.listen();
  const user = await gw.signUp();
  ({ token, accountId } = user);
  // Thousands of uploads a minute: more than any plan's rate limit but enterprise's.
  await gw.deps.redis.hset(gw.deps.key('user', user.userId), 'plan_id', 'enterprise');
});
afterAll(async () => {
  await server.close();
  await gw.close();
});

async function post(file: HostileFile, name: string) {
  const form = new FormData();
  form.append('file', new Blob([file.bytes]), name);
  const res = await fetch(`${server.url}/api/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
    signal: AbortSignal.timeout(PER_FILE_MS),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function readStored(filePath: string): Promise<{ bytes: Buffer; items: ReaderItem[] }> {
  const chunks: Buffer[] = [];
  for await (const c of await gw.deps.uploads.open(accountId, filePath)) chunks.push(c as Buffer);
  const bytes = Buffer.concat(chunks);
  const upload = await openUpload(Readable.from([bytes]), { filename: filePath });
  const items: ReaderItem[] = [];
  for await (const item of upload.items) items.push(item);
  return { bytes, items };
}

describe('upload route fuzz', () => {
  it(`answers ${FILES} hostile uploads with 201 or 422, in time, every record a row or a rejection`, async () => {
    const files = fc.sample(
      // One file in six goes under a hostile name.
      fc.tuple(
        hostileFile,
        fc.oneof(
          { weight: 5, arbitrary: fc.constant(null) },
          { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_NAMES) },
        ),
      ),
      { numRuns: FILES, seed: FUZZ_SEED },
    );
    const seen = { stored: 0, refused: 0, malformed: 0, records: 0, rejections: 0, slowestMs: 0 };
    let next = 0;
    async function worker() {
      while (next < files.length) {
        const [file, hostileName] = files[next++] as [HostileFile, string | null];
        const label = `${file.label.slice(0, 300)} named ${JSON.stringify(hostileName ?? file.filename)}`;
        // A name's extension is the reader's format hint: under another name only the invariants hold.
        const records = hostileName === null ? file.records : null;
        const started = performance.now();
        const { status, body } = await post(file, hostileName ?? file.filename);
        seen.slowestMs = Math.max(seen.slowestMs, performance.now() - started);
        // A raw NUL in the part's header makes the multipart body itself malformed: 400 is right then.
        const malformed = hostileName?.includes('\u0000') === true;
        expect(malformed ? [400] : [201, 422], `${status} ${JSON.stringify(body)} for ${label}`).toContain(
          status,
        );
        if (status === 400) {
          seen.malformed++;
          expect(body.detail, label).toMatch(/^malformed multipart body/);
          continue;
        }
        if (status === 422) {
          seen.refused++;
          expect(body.detail, label).toEqual(expect.any(String));
          // A structured file is refused whole only by the binary rule, near or over its share.
          if (records) expect(file.suspicious, label).toBeGreaterThan(0.08);
          continue;
        }
        seen.stored++;
        expect(body.size, label).toBe(file.bytes.length);
        const stored = await readStored(String(body.file_path));
        expect(stored.bytes.equals(file.bytes), label).toBe(true);
        expect(stored.items, label).toHaveLength(Number(body.rows_detected));
        stored.items.forEach((item, i) => {
          expect(item.rowIndex, label).toBe(i);
          if (item.kind === 'rejection')
            expect(REASONS.has(item.reason), `${item.reason}: ${label}`).toBe(true);
          // The route reads with the default limits, wider than the fuzz's: what the rules make a row is one.
          if (records?.[i] === 'row') expect(item.kind, label).toBe('row');
        });
        if (records) expect(stored.items.length, label).toBe(records.length);
        seen.records += stored.items.length;
        seen.rejections += stored.items.filter((i) => i.kind === 'rejection').length;
      }
    }
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    expect(seen.stored + seen.refused + seen.malformed).toBe(FILES);
    // Both outcomes really happened, and hostile cells cost rows, not files.
    expect(seen.stored).toBeGreaterThan(FILES / 2);
    expect(seen.refused).toBeGreaterThan(FILES / 50);
    expect(seen.rejections).toBeGreaterThan(FILES / 10);
    expect(seen.slowestMs).toBeLessThan(PER_FILE_MS);
    // The gateway is still well after all of it.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    console.info(`upload fuzz: ${JSON.stringify({ ...seen, slowestMs: Math.round(seen.slowestMs) })}`);
  }, 120_000);

  it('refuses what the reader refuses with the same detail', async () => {
    // One refused file of each kind, checked against the reader's own verdict.
    const cases: Array<[string, Buffer]> = [
      ['empty.csv', Buffer.alloc(0)],
      ['x.pdf', Buffer.from('%PDF-1.7\n\u0000\u0001\u0002binary')],
      ['names.csv', Buffer.from('first_name,city\nPat,Oslo\n')],
    ];
    for (const [name, bytes] of cases) {
      const verdict = await openUpload(Readable.from([bytes]), { filename: name }).then(
        () => null,
        (err: unknown) => (err instanceof UploadFormatError ? err.detail : String(err)),
      );
      const form = new FormData();
      form.append('file', new Blob([bytes]), name);
      const res = await fetch(`${server.url}/api/upload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: form,
      });
      expect(res.status, name).toBe(422);
      expect(((await res.json()) as { detail: string }).detail).toBe(verdict);
    }
  });
});
