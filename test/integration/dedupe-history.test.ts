import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { enrichedLead } from '../../bench/lib/dedup-dataset.ts';
import type { StandardizedFields } from '../../schemas/generated.ts';
import { BatchIndex } from '../../services/dedupe/batch-index.ts';
import { DEFAULT_SETTINGS } from '../../services/dedupe/config.ts';
import { DEFAULT_HISTORY_OPTIONS, HistoryIndex } from '../../services/dedupe/history-index.ts';
import { resolveBatch } from '../../services/dedupe/resolve.ts';
import { loadConfig } from '../../services/lib/config.ts';
import { createRedis, keyspace } from '../../services/lib/redis.ts';
import { deleteRedisKeys } from '../support/isolated.ts';

const prefix = `t_dd_${randomBytes(3).toString('hex')}`;
const redis = createRedis(loadConfig().REDIS_URL);
const ns = keyspace(prefix);
const DAY = 86_400_000;
const T0 = 1_780_000_000_000;

afterAll(async () => {
  await deleteRedisKeys(redis, prefix);
  redis.disconnect();
});

const person = (first: string, last: string, company = 'umbrella'): Partial<StandardizedFields> => ({
  first_name: first,
  last_name: last,
  email: `${first}.${last}@${company}.com`.toLowerCase(),
  company_name: company,
  company_key: company,
  domain: `${company}.com`,
  title_normalized: 'Head of Sales',
});
const lead = (batch: string, row: number, fields: Partial<StandardizedFields>, account = 'acct_1') =>
  enrichedLead({
    lead_id: `${batch}:${row}`,
    batch_id: batch,
    row_index: row,
    account_id: account,
    lead: fields,
  });

/** What the dedupe service does when a batch's last lead arrives: look up, resolve, remember. */
async function runBatch(index: HistoryIndex, account: string, leads: ReturnType<typeof lead>[], now: number) {
  const history = await index.candidatesFor(account, BatchIndex.of(leads, DEFAULT_SETTINGS), now);
  const resolution = resolveBatch(leads, history, DEFAULT_SETTINGS);
  await index.add(account, resolution.historyEntries, now);
  return resolution;
}

describe('dedup history index (real Redis)', () => {
  it('marks a lead of a later batch as a duplicate of the earlier survivor, per account only', async () => {
    const index = new HistoryIndex(redis, ns);
    const first = await runBatch(
      index,
      'acct_1',
      [
        lead('b1', 0, person('William', 'Turner')),
        lead('b1', 1, { ...person('Bill', 'Turner'), email: null }),
      ],
      T0,
    );
    expect(first.leads.map((l) => l.dedup.is_duplicate)).toEqual([false, true]);
    expect(await index.size('acct_1')).toBe(2);

    const later = [
      lead('b2', 0, { ...person('Will', 'Turner'), email: 'wturner@gmail.com' }),
      lead('b2', 1, person('Ada', 'Byron')),
    ];
    const second = await runBatch(index, 'acct_1', later, T0 + DAY);
    expect(second.leads[0]?.dedup).toMatchObject({ is_duplicate: true, survivor_id: 'b1:0' });
    expect(second.leads[1]?.dedup.is_duplicate).toBe(false);
    expect(second.stats.historyDuplicates).toBe(1);

    // Another account never sees acct_1's history.
    const other = await runBatch(
      index,
      'acct_2',
      [lead('b3', 0, person('William', 'Turner'), 'acct_2')],
      T0 + DAY,
    );
    expect(other.leads[0]?.dedup.is_duplicate).toBe(false);
  });

  it('finalizing a batch twice (redelivery after a crash) gives the same result and index', async () => {
    const index = new HistoryIndex(redis, ns);
    const leads = [lead('r1', 0, person('Grace', 'Hopper')), lead('r1', 1, person('Grace', 'Hoper'))];
    const once = await runBatch(index, 'acct_r', leads, T0);
    const sizeOnce = await index.size('acct_r');
    const twice = await runBatch(index, 'acct_r', [...leads].reverse(), T0 + 1000);
    expect(twice.leads).toEqual(once.leads);
    expect(await index.size('acct_r')).toBe(sizeOnce);
  });

  it('ignores entries older than the TTL and sets an expiry on every key', async () => {
    const index = new HistoryIndex(redis, ns, { ...DEFAULT_HISTORY_OPTIONS, ttlMs: 30 * DAY });
    await runBatch(index, 'acct_ttl', [lead('t1', 0, person('Alan', 'Turing'))], T0);
    const within = await runBatch(
      index,
      'acct_ttl',
      [lead('t2', 0, person('Alan', 'Turing'))],
      T0 + 29 * DAY,
    );
    expect(within.leads[0]?.dedup.survivor_id).toBe('t1:0');
    const after = await index.candidatesFor(
      'acct_ttl',
      BatchIndex.of([lead('t3', 0, person('Alan', 'Turing'))], DEFAULT_SETTINGS),
      T0 + 31 * DAY,
    );
    expect(after.map((r) => r.id)).toEqual(['t2:0']);
    // The next write deletes the expired record for good.
    await index.add('acct_ttl', [], T0 + 31 * DAY);
    expect(await redis.hexists(ns('dedup', '{acct_ttl}', 'rec'), 't1:0')).toBe(0);
    const keys = await redis.keys(`${prefix}:ld:dedup:{acct_ttl}:*`);
    expect(keys).toHaveLength(3);
    for (const k of keys) expect(await redis.pttl(k), k).toBeGreaterThan(0);
  });

  it('bounds the index: newest keyCap ids per blocking key, newest accountCap leads per account', async () => {
    const index = new HistoryIndex(redis, ns, { ...DEFAULT_HISTORY_OPTIONS, keyCap: 3, accountCap: 5 });
    // Eight different Lees at one company share the domain + surname block.
    const lees = ['Ann', 'Ben', 'Cal', 'Dan', 'Eve', 'Fay', 'Gus', 'Hal'].map((f, i) =>
      lead(`c${i}`, 0, person(f, 'Lee')),
    );
    for (const [i, l] of lees.entries()) await runBatch(index, 'acct_cap', [l], T0 + i);
    expect(await index.size('acct_cap')).toBe(5);
    const viaSurname = await index.lookup('acct_cap', ['d:umbrella.com:L'], T0 + 10);
    expect(viaSurname.map((r) => r.id)).toEqual(['c5:0', 'c6:0', 'c7:0']);
    // The oldest were evicted with their records and their blocking-key entries.
    expect(await index.lookup('acct_cap', ['e:ann.lee@umbrella.com'], T0 + 10)).toEqual([]);
    const blocks = await redis.hgetall(ns('dedup', '{acct_cap}', 'blocks'));
    expect(Object.values(blocks).join(' ')).not.toMatch(/\bc[0-2]:0\b/);
    expect((await index.lookup('acct_cap', ['e:hal.lee@umbrella.com'], T0 + 10)).map((r) => r.id)).toEqual([
      'c7:0',
    ]);
  });

  it('looks a batch up page by page with the same result as in one page', async () => {
    const names = ['Ada', 'Bo', 'Cy', 'Di', 'Ed', 'Flo', 'Gil', 'Hu', 'Ivy', 'Jo'];
    const earlier = names.map((f, i) => lead('p1', i, person(f, 'Page', `firm${i % 3}`), 'acct_page'));
    await runBatch(new HistoryIndex(redis, ns), 'acct_page', earlier, T0);
    const later = BatchIndex.of(
      names.map((f, i) => lead('p2', i, person(f, 'Page', `firm${i % 3}`), 'acct_page')),
      DEFAULT_SETTINGS,
    );
    const ids = async (keyPage: number) => {
      const index = new HistoryIndex(redis, ns, { ...DEFAULT_HISTORY_OPTIONS, keyPage });
      return (await index.candidatesFor('acct_page', later, T0 + 1)).map((r) => r.id);
    };
    const whole = await ids(DEFAULT_HISTORY_OPTIONS.keyPage);
    expect(whole).toEqual(earlier.map((l) => l.meta.lead_id).sort());
    expect(await ids(3)).toEqual(whole);
    expect(await ids(1)).toEqual(whole);
  });
});
