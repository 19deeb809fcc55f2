import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type BatchRecord, batchFailure } from '../../services/lib/batch-tracker.ts';
import { REPO_ROOT } from '../../services/lib/config.ts';
import { leadObject } from '../../services/lib/lead-object.ts';
import { rejectionEntry, scoredEntry } from '../../services/sink/entries.ts';
import { batchFinalEvent } from '../../services/sink/events.ts';
import { batchRow } from '../../services/sink/flush.ts';
import { leadRow, rejectionRow } from '../../services/sink/rows.ts';
import { loadMigrations } from '../../topology/migrations.ts';
import { rejection, scoredLead } from '../fixtures/sink/records.ts';

/** Column names of a table: those its CREATE in the first migration names, then the ones later ALTERs add. */
function columnsOf(table: string): string[] {
  const ddl = readFileSync(join(REPO_ROOT, 'topology', 'clickhouse', '001_initial.sql'), 'utf8');
  const body = new RegExp(`CREATE TABLE IF NOT EXISTS ${table} \\(([\\s\\S]*?)\\) ENGINE`).exec(ddl)?.[1];
  if (!body) throw new Error(`no table ${table}`);
  const created = body
    .split('\n')
    .map((l) => /^\s*([a-z_0-9]+)\s+[A-Z]/.exec(l)?.[1])
    .filter((c): c is string => c !== undefined);
  const added = loadMigrations()
    .flatMap((m) => m.statements)
    .filter((st) => new RegExp(`^ALTER TABLE ${table}\\s`).test(st))
    .flatMap((st) => [...st.matchAll(/ADD COLUMN ([a-z_0-9]+)/g)].map((m) => m[1] as string));
  return [...created, ...added];
}

const batch = (over: Partial<BatchRecord>): BatchRecord => ({
  batch_id: 'batch_1',
  account_id: 'acc',
  status: 'completed',
  filename: 'leads.csv',
  file_path: '/uploads/leads.csv',
  source: 'csv',
  rows_total: 500,
  rows_done: 500,
  rows_qualified: 382,
  rows_rejected: 70,
  rows_invalid: 13,
  rows_duplicate: 25,
  rows_errored: 10,
  created_at: '2026-03-21T10:59:13.000Z',
  started_at: '2026-03-21T10:59:14.000Z',
  completed_at: '2026-03-21T11:00:00.400Z',
  error_reason: null,
  revision: 42,
  announced_at: null,
  ...over,
});

describe('sink rows carry every column of their table', () => {
  it.each([
    ['leads', Object.keys(leadRow(scoredLead('acc', 'b', 0, 'QUALIFIED'), 1_764_300_002_000, 1))],
    ['rejections', Object.keys(rejectionRow(rejection('acc', 'b', 0), 1))],
    ['batches', Object.keys(batchRow(batch({}), new Date()))],
  ])('%s', (table, keys) => {
    expect([...keys].sort()).toEqual(columnsOf(table).sort());
  });

  it('renders times as UTC DateTime text and flags as 0/1', () => {
    const row = leadRow(scoredLead('acc', 'b', 3, 'DUPLICATE'), Date.UTC(2026, 2, 19, 11, 0, 9), 7);
    expect(row).toMatchObject({
      received_at: '2025-11-28 03:20:00',
      scored_at: '2026-03-19 11:00:09',
      is_duplicate: 1,
      email_role: 0,
      multi_source: 1,
      version: 7,
      extras_json: JSON.stringify({ note: 'row 3', "o'quote": 'a\nb' }),
    });
  });
});

describe('sink entries', () => {
  it.each([
    ['QUALIFIED', 'qualified'],
    ['REJECTED', 'rejected'],
    ['INVALID', 'invalid'],
    ['DUPLICATE', 'duplicate'],
  ] as const)('a %s lead counts as %s under its row index', (status, outcome) => {
    const r = scoredEntry(scoredLead('acc', 'batch_x', 17, status), 1_764_300_002_000, 1);
    if (!r.ok || r.entry.kind !== 'lead') throw new Error('expected a lead entry');
    expect(r.entry.terminal).toEqual({ row: 17, outcome });
    expect(r.entry.event !== null).toBe(status === 'QUALIFIED');
  });

  it('a qualified lead carries its lead.qualified event with the API lead object', () => {
    const lead = scoredLead('acc', 'batch_x', 4, 'QUALIFIED');
    const r = scoredEntry(lead, 1_764_300_002_000, 1);
    if (!r.ok || r.entry.kind !== 'lead') throw new Error('expected a lead entry');
    expect(r.entry.event).toEqual({
      event_id: 'lead.qualified:batch_x:4',
      account_id: 'acc',
      event: 'lead.qualified',
      batch_id: 'batch_x',
      data_json: JSON.stringify(leadObject(lead)),
      occurred_at: 1_764_300_002_000,
    });
  });

  it('a lead without a file row counts by its lead id', () => {
    const lead = scoredLead('acc', 'stream_acc', 0, 'REJECTED', {
      lead_id: 'stream_acc:9f2c',
      row_index: -1,
    });
    const r = scoredEntry(lead, 1_764_300_002_000, 1);
    expect(r.ok && r.entry.kind === 'lead' && r.entry.terminal.row).toBe('stream_acc:9f2c');
  });

  it('refuses an unknown status or a time outside DateTime, with the reason', () => {
    const odd = scoredLead('acc', 'b', 1, 'QUALIFIED');
    odd.score.status = 'MAYBE';
    expect(scoredEntry(odd, 1_764_300_002_000, 1)).toEqual({
      ok: false,
      reason: 'unknown score status "MAYBE"',
    });
    const ancient = scoredLead('acc', 'b', 2, 'QUALIFIED');
    ancient.meta.received_at = -5;
    const r = scoredEntry(ancient, 1_764_300_002_000, 1);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/^lead b:2 cannot be stored: .*outside DateTime/);
  });

  it('a rejection counts as failed; the batch failure signal becomes a batch-failure entry', () => {
    const r = rejectionEntry(rejection('acc', 'batch_y', 5, 'ingest'), 1);
    expect(r.ok && r.entry.kind === 'rejection' && r.entry.terminal).toEqual({ row: 5, outcome: 'failed' });
    const f = rejectionEntry(batchFailure('batch_y', 'acc', 'no_email_column: name, company'), 1);
    expect(f).toEqual({
      ok: true,
      entry: {
        kind: 'batch-failure',
        batchId: 'batch_y',
        accountId: 'acc',
        source: 'kafka',
        reason: 'no_email_column: name, company',
      },
    });
  });
});

describe('batch events', () => {
  it('batch.completed carries the API data object', () => {
    const e = batchFinalEvent(batch({}) as BatchRecord & { status: 'completed' });
    expect(e).toMatchObject({
      event_id: 'batch.completed:batch_1',
      event: 'batch.completed',
      batch_id: 'batch_1',
      occurred_at: Date.parse('2026-03-21T11:00:00.400Z'),
    });
    expect(JSON.parse(e.data_json)).toEqual({
      filename: 'leads.csv',
      rows_total: 500,
      rows_qualified: 382,
      rows_failed: 23,
      quality_yield: 76.4,
      processing_time_s: 47,
    });
  });

  it('batch.failed adds the error reason', () => {
    const e = batchFinalEvent(
      batch({
        status: 'failed',
        rows_done: 0,
        rows_qualified: 0,
        error_reason: 'empty_file: no data',
      }) as BatchRecord & {
        status: 'failed';
      },
    );
    expect(e.event_id).toBe('batch.failed:batch_1');
    expect(JSON.parse(e.data_json)).toMatchObject({ error_reason: 'empty_file: no data', rows_qualified: 0 });
  });
});
