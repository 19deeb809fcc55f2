import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BatchRequest, LeadRejection, RawLead } from '../../schemas/generated.ts';
import { loadSchema } from '../../schemas/index.ts';
import { ingestBatch, ingestPhase } from '../../services/ingest/phase.ts';
import { isBatchFailure } from '../../services/lib/batch-tracker.ts';
import { LocalUploadStore } from '../../services/lib/upload-store.ts';
import { runEmbedded } from '../../services/runtime/index.ts';

let root: string;
let store: LocalUploadStore;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'leedrush-ingest-'));
  store = new LocalUploadStore(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const MESSY = [
  'Email Address;First Name;Surname;Company Name;Notes',
  'sarah.miller@techflow.com;Sarah;Miller;TechFlow Systems Inc.;"met at ""SaaStr""; follow up"',
  '',
  'jean-luc.picard@enterprise.fr;Jean-Luc;Picard;Starfleet S.A.',
  ';;;;',
  'anna@nordvik.se;Anna;"Lindqvist',
].join('\r\n');

async function request(content: string, overrides: Partial<BatchRequest> = {}): Promise<BatchRequest> {
  const stored = await store.put('acct_1', 'leads.csv', Readable.from([Buffer.from(content)]));
  return {
    batch_id: 'batch_0123456789ab',
    account_id: 'acct_1',
    file_path: stored.file_path,
    filename: 'leads.csv',
    format: 'csv',
    rows_total: 3,
    source: 'csv',
    requested_at: Date.parse('2026-03-19T11:00:00Z'),
    ...overrides,
  };
}

describe('ingest phase', () => {
  it('turns an upload into RawLeads in file order and unreadable rows into LeadRejections', async () => {
    const req = await request(MESSY);
    const result = await runEmbedded<RawLead>([ingestPhase({ store, now: () => 42 })], [req]);
    expect(result.errors).toEqual([]);
    expect(result.outputs.map((l) => [l.row_index, l.email, l.first_name, l.last_name, l.company])).toEqual([
      [0, 'sarah.miller@techflow.com', 'Sarah', 'Miller', 'TechFlow Systems Inc.'],
      [1, 'jean-luc.picard@enterprise.fr', 'Jean-Luc', 'Picard', 'Starfleet S.A.'],
    ]);
    expect(result.outputs[0]).toMatchObject({
      account_id: 'acct_1',
      batch_id: 'batch_0123456789ab',
      source: 'csv',
      received_at: req.requested_at,
      title: null,
      extras: { Notes: 'met at "SaaStr"; follow up' },
    });
    expect(result.rejections).toEqual([
      {
        lead_id: 'batch_0123456789ab:2',
        account_id: 'acct_1',
        batch_id: 'batch_0123456789ab',
        row_index: 2,
        line_number: 6,
        phase: 'ingest',
        reason: 'unterminated_quote',
        detail: 'a quoted field is never closed',
        original: { raw_line: 'anna@nordvik.se;Anna;"Lindqvist' },
        rejected_at: 42,
      },
    ]);
    const rejection = loadSchema('LeadRejection').type;
    expect(result.rejections.every((r) => rejection.isValid(r))).toBe(true);
  });

  it('gives every result a row_index, so rows_total = RawLeads + rejections', async () => {
    const results = [];
    for await (const r of ingestBatch(await request(MESSY), { store })) results.push(r);
    expect(results.map((r) => r.kind)).toEqual(['ok', 'ok', 'reject']);
  });

  it('keys each RawLead by its lead id, spreading a batch over partitions', async () => {
    const phase = ingestPhase({ store });
    const lead = { batch_id: 'batch_x', row_index: 7 } as RawLead;
    expect(phase.keyOf?.(lead)).toBe('batch_x:7');
  });

  it.each([
    [
      'a missing file',
      { file_path: '/uploads/nope_2026-03-19_00000000.csv' },
      'email\na@b.com\n',
      /^not_found/,
    ],
    ['another tenant', { account_id: 'acct_2' }, 'email\na@b.com\n', /^not_found/],
    ['no email column', {}, 'name,company\nJohn,Acme\n', /^no_email_column: /],
    ['a binary file', {}, '%PDF-1.4 ...', /^unsupported_format: .*PDF/],
  ])('fails the batch on %s with the batch-failure signal', async (_case, overrides, content, reason) => {
    const started: string[] = [];
    const deps = { store, startBatch: async (r: BatchRequest) => void started.push(r.batch_id) };
    const req = await request(content, overrides);
    const result = await runEmbedded<RawLead>([ingestPhase(deps)], [req]);
    expect(result.outputs).toEqual([]);
    expect(result.errors).toEqual([]);
    expect(result.rejections).toHaveLength(1);
    const signal = result.rejections[0] as LeadRejection;
    expect(isBatchFailure(signal)).toBe(true);
    expect(signal).toMatchObject({ lead_id: 'batch_0123456789ab:batch', phase: 'ingest', row_index: null });
    expect(signal.detail).toMatch(reason);
    expect(started).toEqual([]);
  });

  it('marks the batch processing once its file is open', async () => {
    const started: string[] = [];
    const deps = { store, startBatch: async (r: BatchRequest) => void started.push(r.batch_id) };
    await runEmbedded<RawLead>([ingestPhase(deps)], [await request(MESSY)]);
    expect(started).toEqual(['batch_0123456789ab']);
  });
});
