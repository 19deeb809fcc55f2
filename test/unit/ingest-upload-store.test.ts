import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  displayFileName,
  LocalUploadStore,
  sanitizeFileName,
  UploadStoreError,
} from '../../services/lib/upload-store.ts';

let root: string;
let store: LocalUploadStore;
const now = () => new Date('2026-03-19T11:00:00Z');

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'leedrush-uploads-'));
  store = new LocalUploadStore(root, { maxBytes: 1000, now });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const body = (text: string) => Readable.from([Buffer.from(text)]);

async function readAll(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString();
}

describe('LocalUploadStore', () => {
  it('stores under a logical path with name, date and id, and reads it back', async () => {
    const stored = await store.put('acct_1', 'leads.csv', body('email\na@b.com\n'));
    expect(stored.file_path).toMatch(/^\/uploads\/leads_2026-03-19_[0-9a-f]{8}\.csv$/);
    expect(stored.size).toBe(14);
    expect(await readAll(await store.open('acct_1', stored.file_path))).toBe('email\na@b.com\n');
    expect(await store.stat('acct_1', stored.file_path)).toMatchObject({ size: 14 });
  });

  it('never overwrites: the same name twice gives two files', async () => {
    const a = await store.put('acct_1', 'leads.csv', body('one'));
    const b = await store.put('acct_1', 'leads.csv', body('two'));
    expect(a.file_path).not.toBe(b.file_path);
    expect(await readAll(await store.open('acct_1', a.file_path))).toBe('one');
  });

  it('keeps tenants apart: another account reads the path as not found', async () => {
    const stored = await store.put('acct_1', 'leads.csv', body('secret'));
    await expect(store.open('acct_2', stored.file_path)).rejects.toMatchObject({ code: 'not_found' });
    expect(await store.stat('acct_2', stored.file_path)).toBeNull();
  });

  it.each([
    '/uploads/../acct_2/leads.csv',
    '/uploads/..%2Facct_2%2Fleads.csv',
    '/uploads/../../etc/passwd',
    '/uploads/a/../../acct_2/x.csv',
    '/uploads/leads.csv\0.txt',
    '/uploads/',
    '/uploads/.',
    '/uploads/..',
    '/uploads/.incoming-abc',
    '/etc/passwd',
    'uploads/leads.csv',
    '../acct_2/leads.csv',
    '/uploads/\\..\\acct_2\\x.csv',
  ])('refuses the path %j as not found', async (path) => {
    writeFileSync(join(root, 'secret.csv'), 'x');
    await expect(store.open('acct_1', path)).rejects.toBeInstanceOf(UploadStoreError);
    expect(await store.stat('acct_1', path)).toBeNull();
  });

  it.each(['..', '../acct_2', 'a/b', '', '.hidden', 'acct\0'])(
    'refuses the account id %j',
    async (account) => {
      await expect(store.put(account, 'x.csv', body('x'))).rejects.toMatchObject({ code: 'invalid_account' });
      await expect(store.open(account, '/uploads/x.csv')).rejects.toMatchObject({ code: 'not_found' });
    },
  );

  it('refuses a too-large upload and leaves nothing behind', async () => {
    await expect(store.put('acct_1', 'big.csv', body('x'.repeat(1001)))).rejects.toMatchObject({
      code: 'too_large',
    });
    expect(readdirSync(join(root, 'acct_1'))).toEqual([]);
  });

  it('stores a hostile name under a safe one inside the account folder', async () => {
    const stored = await store.put('acct_1', '../../etc/CON.csv', body('x'));
    expect(stored.file_path).toMatch(/^\/uploads\/CON_file_2026-03-19_[0-9a-f]{8}\.csv$/);
    const [file] = readdirSync(join(root, 'acct_1'));
    expect(readFileSync(join(root, 'acct_1', file as string), 'utf8')).toBe('x');
    // ... and it opens again under that name (ingest reads it so).
    const chunks: Buffer[] = [];
    for await (const c of await store.open('acct_1', stored.file_path)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('x');
  });
});

it('opens again whatever it stored, however long or reserved the name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'leedrush-store-'));
  const store = new LocalUploadStore(dir);
  try {
    for (const name of [
      `${'x'.repeat(1_000)}.csv`,
      `${'y'.repeat(61)}.csv`,
      'CON',
      'nul.txt',
      '....',
      'a'.repeat(80),
    ]) {
      const stored = await store.put('acct_1', name, body('z'));
      expect(await store.stat('acct_1', stored.file_path), `${name} → ${stored.file_path}`).toMatchObject({
        size: 1,
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('displayFileName', () => {
  it.each([
    ['my leads.csv', 'my leads.csv'],
    ['../../etc/passwd.csv', 'passwd.csv'],
    ['a\u0000b\r\n\u001b[1m\u202e.csv', 'ab[1m.csv'],
    ['...', 'upload'],
    [`${'x'.repeat(1_000)}.csv`, `${'x'.repeat(251)}.csv`],
  ])('%j → %j', (name, shown) => {
    expect(displayFileName(name)).toBe(shown);
  });
});

describe('sanitizeFileName', () => {
  it.each([
    ['leads.csv', 'leads', 'csv'],
    ['Q1 Leads (final).CSV', 'Q1_Leads_final', 'csv'],
    ['../../etc/passwd', 'passwd', ''],
    ['C:\\Users\\x\\leads.tsv', 'leads', 'tsv'],
    ['.bashrc', 'bashrc', ''],
    ['a\u0000b\u001f.csv', 'a_b', 'csv'],
    ['NUL.json', 'NUL_file', 'json'],
    ['lpt1', 'lpt1_file', ''],
    ['ｆｕｌｌｗｉｄｔｈ.csv', 'fullwidth', 'csv'],
    ['données clients.csv', 'donn_es_clients', 'csv'],
    ['...', 'upload', ''],
    ['', 'upload', ''],
    ['a.tar.gz', 'a_tar', 'gz'],
    [`${'x'.repeat(300)}.csv`, 'x'.repeat(80), 'csv'],
  ])('%j → %s . %s', (name, stem, ext) => {
    expect(sanitizeFileName(name)).toEqual({ stem, ext });
  });
});
