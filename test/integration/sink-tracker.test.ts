/**
 * What the sink needs from the batch tracker, on the real Redis: bulk counting (several Lua calls per
 * batch) once per row under concurrent redelivery, stream batches opened on first sight, tenancy, a
 * guarded fail, the revision that versions ClickHouse copies, and the announced mark.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchTracker, type TerminalOutcome, type TerminalRow } from '../../services/lib/batch-tracker.ts';
import { loadConfig } from '../../services/lib/config.ts';
import { createRedis, keyspace } from '../../services/lib/redis.ts';
import { deleteRedisKeys } from '../support/isolated.ts';

const prefix = `t_sinktr_${randomBytes(3).toString('hex')}`;
const redis = createRedis(loadConfig().REDIS_URL);
const tracker = new BatchTracker(redis, keyspace(prefix));

afterAll(async () => {
  await deleteRedisKeys(redis, prefix);
  redis.disconnect();
});

const newBatch = (account: string, rows: number) =>
  tracker.create(
    { account_id: account, filename: 'f.csv', file_path: '/uploads/f.csv', source: 'csv', rows_total: rows },
    null,
  );

const OUTCOMES: TerminalOutcome[] = ['qualified', 'rejected', 'invalid', 'duplicate', 'failed'];

describe('batch tracker for the sink (real Redis)', () => {
  it('counts 4,500 rows once in bulk calls under concurrent redelivery and completes in exactly one call', async () => {
    const batch = await newBatch('acc_bulk', 4_500);
    if (!batch) throw new Error('not created');
    const rows: TerminalRow[] = Array.from({ length: 4_500 }, (_, i) => ({
      row: i,
      outcome: OUTCOMES[i % 5] as TerminalOutcome,
    }));
    // Six overlapping deliveries of slices, at once: every row arrives two or three times.
    const slices = [
      rows,
      rows.slice(0, 3_000),
      rows.slice(1_500),
      rows.slice(1_000, 4_000),
      rows.slice(0, 10),
      rows,
    ];
    const results = await Promise.all(
      slices.map((s) => tracker.recordTerminals(batch.batch_id, 'acc_bulk', s, { openStream: true })),
    );
    expect(results.every((r) => r.state === 'counted')).toBe(true);
    expect(results.reduce((sum, r) => sum + r.fresh, 0)).toBe(4_500);
    expect(results.filter((r) => r.completedNow)).toHaveLength(1);
    expect(await tracker.get('acc_bulk', batch.batch_id)).toMatchObject({
      status: 'completed',
      rows_done: 4_500,
      rows_qualified: 900,
      rows_errored: 900,
    });
  });

  it('opens an unknown batch as the account stream batch, outside the concurrent-batch limit', async () => {
    const rows: TerminalRow[] = [
      { row: 'stream_acc_s:a', outcome: 'qualified' },
      { row: 'stream_acc_s:b', outcome: 'invalid' },
      { row: 'stream_acc_s:a', outcome: 'qualified' },
    ];
    const first = await tracker.recordTerminals('stream_acc_s', 'acc_s', rows, {
      openStream: true,
      source: 'kafka',
    });
    expect(first).toEqual({ state: 'counted', fresh: 2, rowsDone: 2, completedNow: false });
    await tracker.recordTerminals('stream_acc_s', 'acc_s', [{ row: 'stream_acc_s:c', outcome: 'failed' }], {
      openStream: true,
    });
    expect(await tracker.get('acc_s', 'stream_acc_s')).toMatchObject({
      status: 'streaming',
      rows_total: 3,
      rows_done: 3,
      rows_qualified: 1,
      rows_invalid: 1,
      rows_errored: 1,
      source: 'kafka',
      revision: 2,
    });
    expect((await tracker.list('acc_s')).map((b) => b.batch_id)).toEqual(['stream_acc_s']);
    expect(await tracker.activeCount('acc_s')).toBe(0);
    // Without openStream an unknown batch stays unknown.
    expect((await tracker.recordTerminals('nope', 'acc_s', rows)).state).toBe('unknown');
    expect(await tracker.getAny('nope')).toBeNull();
  });

  it("refuses to count rows in another account's batch", async () => {
    const batch = await newBatch('acc_owner', 5);
    if (!batch) throw new Error('not created');
    const r = await tracker.recordTerminals(batch.batch_id, 'acc_other', [{ row: 0, outcome: 'qualified' }], {
      openStream: true,
    });
    expect(r.state).toBe('foreign');
    expect(await tracker.get('acc_owner', batch.batch_id)).toMatchObject({ status: 'queued', rows_done: 0 });
    await expect(tracker.recordTerminal(batch.batch_id, 'acc_other', 0, 'qualified')).rejects.toThrow(
      'foreign',
    );
  });

  it('counts row indexes and lead ids of one batch apart, each once', async () => {
    const batch = await newBatch('acc_mix', 3);
    if (!batch) throw new Error('not created');
    await tracker.recordTerminals(batch.batch_id, 'acc_mix', [
      { row: 0, outcome: 'qualified' },
      { row: 'producer-lead-1', outcome: 'rejected' },
      { row: 0, outcome: 'qualified' },
    ]);
    const last = await tracker.recordTerminals(batch.batch_id, 'acc_mix', [{ row: 1, outcome: 'duplicate' }]);
    expect(last).toMatchObject({ fresh: 1, rowsDone: 3, completedNow: true });
  });

  it('fails a running batch once; a completed batch stays completed; every change bumps the revision', async () => {
    const running = await newBatch('acc_f', 10);
    const done = await newBatch('acc_f', 1);
    if (!running || !done) throw new Error('not created');
    await tracker.recordTerminal(running.batch_id, 'acc_f', 0, 'qualified');
    await tracker.recordTerminal(done.batch_id, 'acc_f', 0, 'qualified');

    await tracker.fail(running.batch_id, 'acc_f', 'empty_file: nothing to read');
    await tracker.fail(running.batch_id, 'acc_f', 'a second reason');
    await tracker.fail(done.batch_id, 'acc_f', 'too late');
    await tracker.fail(running.batch_id, 'acc_other', 'not yours');
    expect(await tracker.get('acc_f', running.batch_id)).toMatchObject({
      status: 'failed',
      error_reason: 'empty_file: nothing to read',
      revision: 2,
      announced_at: null,
    });
    expect(await tracker.get('acc_f', done.batch_id)).toMatchObject({
      status: 'completed',
      error_reason: null,
    });
    expect(await tracker.activeCount('acc_f')).toBe(0);

    await tracker.markAnnounced(running.batch_id, new Date('2026-03-21T11:00:00Z'));
    expect((await tracker.get('acc_f', running.batch_id))?.announced_at).toBe('2026-03-21T11:00:00.000Z');
  });

  it('starts a queued batch once (processing before any row ends), only for its own account', async () => {
    const batch = await newBatch('acc_start', 2);
    if (!batch) throw new Error('not created');
    await tracker.start(batch.batch_id, 'acc_other', new Date('2026-03-21T10:00:00Z'));
    expect(await tracker.get('acc_start', batch.batch_id)).toMatchObject({
      status: 'queued',
      started_at: null,
    });
    await tracker.start(batch.batch_id, 'acc_start', new Date('2026-03-21T10:00:01Z'));
    await tracker.start(batch.batch_id, 'acc_start', new Date('2026-03-21T10:00:02Z'));
    expect(await tracker.get('acc_start', batch.batch_id)).toMatchObject({
      status: 'processing',
      started_at: '2026-03-21T10:00:01.000Z',
      revision: 1,
    });
    await tracker.recordTerminals(batch.batch_id, 'acc_start', [
      { row: 0, outcome: 'qualified' },
      { row: 1, outcome: 'failed' },
    ]);
    await tracker.start(batch.batch_id, 'acc_start');
    expect((await tracker.get('acc_start', batch.batch_id))?.status).toBe('completed');
  });
});
