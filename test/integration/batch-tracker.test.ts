import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchTracker, type TerminalOutcome } from '../../services/lib/batch-tracker.ts';
import { loadConfig } from '../../services/lib/config.ts';
import { createRedis, keyspace } from '../../services/lib/redis.ts';
import { deleteRedisKeys } from '../support/isolated.ts';

const prefix = `t_bt_${randomBytes(3).toString('hex')}`;
const redis = createRedis(loadConfig().REDIS_URL);
const tracker = new BatchTracker(redis, keyspace(prefix));

afterAll(async () => {
  await deleteRedisKeys(redis, prefix);
  redis.disconnect();
});

const newBatch = (account: string, rows: number) => ({
  account_id: account,
  filename: 'leads.csv',
  file_path: '/uploads/leads.csv',
  source: 'csv',
  rows_total: rows,
});

describe('batch tracker (real Redis)', () => {
  it('counts each row once under redelivery and completes exactly once', async () => {
    const batch = await tracker.create(newBatch('acc_a', 500), null);
    if (!batch) throw new Error('not created');
    const outcomes: TerminalOutcome[] = ['qualified', 'rejected', 'invalid', 'duplicate', 'failed'];
    // every row arrives once, a third of them again (redeliveries), in a shuffled order, concurrently
    const deliveries = [...Array(500).keys(), ...[...Array(500).keys()].filter((i) => i % 3 === 0)];
    deliveries.sort(() => Math.random() - 0.5);
    const results = await Promise.all(
      deliveries.map((row) =>
        tracker.recordTerminal(batch.batch_id, 'acc_a', row, outcomes[row % 5] as TerminalOutcome),
      ),
    );
    expect(results.filter((r) => r.fresh)).toHaveLength(500);
    expect(results.filter((r) => r.completedNow)).toHaveLength(1);
    const done = await tracker.get('acc_a', batch.batch_id);
    expect(done).toMatchObject({
      status: 'completed',
      rows_done: 500,
      rows_qualified: 100,
      rows_rejected: 100,
      rows_invalid: 100,
      rows_duplicate: 100,
      rows_errored: 100,
    });
    expect(done?.completed_at).not.toBeNull();
    expect(await tracker.activeCount('acc_a')).toBe(0);
  });

  it('stream batches count distinct lead ids', async () => {
    const batch = await tracker.create(newBatch('acc_s', 3), null);
    if (!batch) throw new Error('not created');
    for (const id of ['l1', 'l2', 'l1', 'l2', 'l3'])
      await tracker.recordTerminal(batch.batch_id, 'acc_s', id, 'qualified');
    expect((await tracker.get('acc_s', batch.batch_id))?.rows_qualified).toBe(3);
  });

  it('never lets parallel requests exceed the concurrent-batch limit', async () => {
    const created = await Promise.all(
      Array.from({ length: 10 }, () => tracker.create(newBatch('acc_c', 10), 3)),
    );
    expect(created.filter(Boolean)).toHaveLength(3);
    expect(await tracker.activeCount('acc_c')).toBe(3);
    const first = created.find(Boolean);
    if (!first) throw new Error('none created');
    await tracker.fail(first.batch_id, 'acc_c', 'file unreadable');
    expect(await tracker.create(newBatch('acc_c', 10), 3)).not.toBeNull();
    expect((await tracker.get('acc_c', first.batch_id))?.error_reason).toBe('file unreadable');
  });

  it("hides another tenant's batch and lists newest first", async () => {
    const a = await tracker.create(newBatch('acc_t1', 1), null, new Date('2026-01-01T00:00:00Z'));
    const b = await tracker.create(newBatch('acc_t1', 1), null, new Date('2026-01-02T00:00:00Z'));
    if (!a || !b) throw new Error('not created');
    expect(await tracker.get('acc_t2', a.batch_id)).toBeNull();
    expect((await tracker.list('acc_t1')).map((x) => x.batch_id)).toEqual([b.batch_id, a.batch_id]);
    expect(await tracker.list('acc_t2')).toEqual([]);
  });

  it('lists every field exactly as get reads it, and skips index entries whose batch is gone', async () => {
    const acc = 'acc_l1';
    const plain = await tracker.create(newBatch(acc, 2), null, new Date('2026-01-01T00:00:00Z'));
    const named = await tracker.create(
      { ...newBatch(acc, 2), filename: 'Übersicht "Q1"/\\ naïve 😀.csv' },
      null,
      new Date('2026-01-02T00:00:00Z'),
    );
    const failed = await tracker.create(newBatch(acc, 2), null, new Date('2026-01-03T00:00:00Z'));
    if (!plain || !named || !failed) throw new Error('not created');
    await tracker.recordTerminal(named.batch_id, acc, 0, 'qualified');
    await tracker.recordTerminal(named.batch_id, acc, 1, 'duplicate');
    await tracker.markAnnounced(named.batch_id);
    await tracker.fail(failed.batch_id, acc, 'file unreadable: bad "quote"');
    await redis.zadd(keyspace(prefix)('batches', acc), Date.now(), 'batch_vanished');

    const listed = await tracker.list(acc);
    const expected = await Promise.all([failed, named, plain].map((b) => tracker.get(acc, b.batch_id)));
    expect(listed).toEqual(expected);
    expect(listed[1]).toMatchObject({ status: 'completed', rows_qualified: 1, rows_duplicate: 1 });
    expect(listed[1]?.announced_at).not.toBeNull();
    expect(listed[2]).toMatchObject({ started_at: null, completed_at: null, error_reason: null });
  });

  it('lists each batch as one consistent snapshot while rows are being counted', async () => {
    const acc = 'acc_l2';
    const batches = await Promise.all(
      Array.from({ length: 5 }, () => tracker.create(newBatch(acc, 400), null)),
    );
    const outcomes: TerminalOutcome[] = ['qualified', 'rejected', 'invalid', 'duplicate', 'failed'];
    const counting = Promise.all(
      batches.flatMap((b) =>
        b
          ? Array.from({ length: 40 }, (_, chunk) =>
              tracker.recordTerminals(
                b.batch_id,
                acc,
                Array.from({ length: 10 }, (_, i) => ({
                  row: chunk * 10 + i,
                  outcome: outcomes[i % 5] as TerminalOutcome,
                })),
              ),
            )
          : [],
      ),
    );
    let reads = 0;
    let done = false;
    void counting.then(() => {
      done = true;
    });
    while (!done) {
      for (const b of await tracker.list(acc)) {
        const counted =
          b.rows_qualified + b.rows_rejected + b.rows_invalid + b.rows_duplicate + b.rows_errored;
        expect(counted).toBe(b.rows_done);
        expect(b.status).toBe(
          b.rows_done === 400 ? 'completed' : b.rows_done === 0 ? 'queued' : 'processing',
        );
      }
      reads++;
    }
    await counting;
    expect(reads).toBeGreaterThan(0);
    const final = await tracker.list(acc);
    expect(final.map((b) => b.rows_done)).toEqual([400, 400, 400, 400, 400]);
  });
  it('pauses a running batch and resumes it to the status it had, bumping batches-rev each time', async () => {
    const acc = 'acc_p1';
    const batch = await tracker.create(newBatch(acc, 3), null);
    if (!batch) throw new Error('not created');
    await tracker.start(batch.batch_id, acc);
    const rev = await tracker.revision(acc);
    expect(await tracker.pause(batch.batch_id, 'acc_other')).toBe(false);
    expect(await tracker.pause(batch.batch_id, acc)).toBe(true);
    expect(await tracker.pause(batch.batch_id, acc)).toBe(false);
    expect(await tracker.revision(acc)).toBe(rev + 1);
    // rows keep being counted while paused, and do not complete it until resumed
    await tracker.recordTerminal(batch.batch_id, acc, 0, 'qualified');
    expect((await tracker.list(acc))[0]).toMatchObject({ status: 'paused', rows_done: 1 });
    expect(await tracker.resume(batch.batch_id, acc)).toBe(true);
    expect(await tracker.revision(acc)).toBe(rev + 3);
    expect(await tracker.get(acc, batch.batch_id)).toMatchObject({ status: 'processing' });
    await tracker.recordTerminal(batch.batch_id, acc, 1, 'qualified');
    await tracker.recordTerminal(batch.batch_id, acc, 2, 'qualified');
    expect(await tracker.get(acc, batch.batch_id)).toMatchObject({ status: 'completed', rows_done: 3 });
    expect(await tracker.pause(batch.batch_id, acc)).toBe(false);
    expect(await tracker.resume(batch.batch_id, acc)).toBe(false);
  });

  it('a paused stream batch keeps growing its total and goes back to streaming', async () => {
    const acc = 'acc_p2';
    await tracker.recordTerminals('stream_acc_p2', acc, [{ row: 'l1', outcome: 'qualified' }], {
      openStream: true,
    });
    expect(await tracker.pause('stream_acc_p2', acc)).toBe(true);
    await tracker.recordTerminals('stream_acc_p2', acc, [{ row: 'l2', outcome: 'qualified' }], {
      openStream: true,
    });
    expect(await tracker.get(acc, 'stream_acc_p2')).toMatchObject({
      status: 'paused',
      rows_total: 2,
      rows_done: 2,
    });
    expect(await tracker.resume('stream_acc_p2', acc)).toBe(true);
    expect(await tracker.get(acc, 'stream_acc_p2')).toMatchObject({ status: 'streaming', rows_total: 2 });
  });
});
