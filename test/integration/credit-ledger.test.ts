import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../services/lib/config.ts';
import { CreditLedger } from '../../services/lib/credit-ledger.ts';
import { createRedis, keyspace } from '../../services/lib/redis.ts';
import { deleteRedisKeys } from '../support/isolated.ts';

const prefix = `t_ledger_${randomBytes(3).toString('hex')}`;
const redis = createRedis(loadConfig().REDIS_URL);
const ledger = (credits: number) => new CreditLedger(redis, keyspace(prefix), { planId: 'payg', credits });
const account = () => `acc_${randomBytes(4).toString('hex')}`;
const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `b1:${from + i}`);

afterAll(async () => {
  await deleteRedisKeys(redis, prefix);
  redis.disconnect();
});

describe('credit ledger (real Redis)', () => {
  it('opens an unseen account once, on the default plan for one month', async () => {
    const acc = account();
    const now = new Date('2026-03-31T12:00:00Z');
    expect(await ledger(50).state(acc)).toBeNull();
    const first = await ledger(50).ensure(acc, now);
    expect(first.state).toEqual({
      account_id: acc,
      plan_id: 'payg',
      credits_total: 50,
      balance: 50,
      cycle_start: '2026-03-31T12:00:00.000Z',
      cycle_end: '2026-04-30T12:00:00.000Z',
      exhausted: false,
      exhaustions: 0,
    });
    expect(first.movement).toMatchObject({
      event_id: `open:${acc}`,
      kind: 'grant',
      credits: 50,
      balance_after: 50,
    });
    const again = await ledger(999).ensure(acc);
    expect(again.movement).toBeNull();
    expect(again.state.balance).toBe(50);
  });

  it('charges one credit per lead id, exactly once under concurrent redelivery', async () => {
    const acc = account();
    const l = ledger(1000);
    const leads = ids(600);
    // every lead arrives twice, in overlapping concurrent chunks of 50
    const chunks = [];
    for (let i = 0; i < 600; i += 50) chunks.push(leads.slice(i, i + 50), leads.slice(i, i + 50));
    const results = await Promise.all(chunks.map((c) => l.charge(acc, 'b1', c)));
    expect((await l.state(acc))?.balance).toBe(400);
    expect(results.reduce((n, r) => n + r.charged, 0)).toBe(600);
    const byId = new Map<string, number[]>();
    for (const r of results)
      for (const m of r.movements) byId.set(m.event_id, [...(byId.get(m.event_id) ?? []), m.balance_after]);
    expect(byId.size).toBe(600);
    // both deliveries of a lead got the identical movement; balances_after are 0..599 distinct values above 400
    const afters = [...byId.values()].map((v) => {
      expect(new Set(v).size).toBe(1);
      return v[0] as number;
    });
    expect(new Set(afters).size).toBe(600);
    expect(Math.min(...afters)).toBe(400);
    expect(Math.max(...afters)).toBe(999);
  });

  it('never goes below zero: the leads beyond the balance are over, low and exhausted fire once', async () => {
    const acc = account();
    const l = ledger(20);
    const a = await l.charge(acc, 'b1', ids(17)); // balance 3 < 10 % of 20? no: 3*10=30 > 20
    expect(a).toMatchObject({ balance: 3, low: false, exhausted: false, over: [] });
    expect(a.opened).toMatchObject({ event_id: `open:${acc}`, credits: 20 });
    const b = await l.charge(acc, 'b1', ids(5, 17)); // 3 charged: 2 → 20 % ... 1 → low (10 < 20), 0 → exhausted
    expect(b.movements.map((m) => m.balance_after)).toEqual([2, 1, 0]);
    expect(b.over).toEqual(['b1:20', 'b1:21']);
    expect(b).toMatchObject({ balance: 0, low: true, exhausted: true });
    expect(b.state).toMatchObject({ exhausted: true, exhaustions: 1 });
    expect(b.opened).toBeNull();
    const c = await l.charge(acc, 'b1', ids(5, 22));
    expect(c).toMatchObject({ balance: 0, low: false, exhausted: false, movements: [] });
    expect(c.over).toHaveLength(5);
    // a redelivery of the chunk that signalled signals again (same cycle, same exhaustion number)
    const again = await l.charge(acc, 'b1', ids(5, 17));
    expect(again).toMatchObject({ low: true, exhausted: true, balance: 0, charged: 0 });
    expect(again.state.exhaustions).toBe(1);
    expect(again.movements).toEqual(b.movements);
    // and the first chunk replays the opening grant with it
    expect((await l.charge(acc, 'b1', ids(1))).opened).toEqual(a.opened);
  });

  it('apply is idempotent by event id, floors at 0, clears exhausted and moves the plan', async () => {
    const acc = account();
    const l = ledger(2);
    await l.charge(acc, 'b1', ids(3));
    expect((await l.state(acc))?.exhausted).toBe(true);
    const now = new Date('2026-05-01T00:00:00Z');
    const topup = await l.apply(acc, {
      eventId: 'topup:o1',
      kind: 'topup',
      mode: 'add',
      credits: 10,
      reference: 'pi_1',
      now,
    });
    expect(topup.applied).toBe(true);
    expect(topup.movement).toEqual({
      event_id: 'topup:o1',
      account_id: acc,
      kind: 'topup',
      credits: 10,
      balance_after: 10,
      batch_id: null,
      lead_id: null,
      reference: 'pi_1',
      occurred_at: now.getTime(),
    });
    expect(topup.state).toMatchObject({ balance: 10, exhausted: false, exhaustions: 1 });
    const twice = await l.apply(acc, { eventId: 'topup:o1', kind: 'topup', mode: 'add', credits: 10 });
    expect(twice).toMatchObject({ applied: false, movement: null });
    expect(twice.state.balance).toBe(10);
    const refund = await l.apply(acc, { eventId: 'refund:r1', kind: 'refund', mode: 'add', credits: -25 });
    expect(refund.movement).toMatchObject({ credits: -10, balance_after: 0 });
    const upgrade = await l.apply(acc, {
      eventId: 'evt_up',
      kind: 'upgrade',
      mode: 'set',
      credits: 5000,
      plan: {
        planId: 'professional',
        creditsTotal: 5000,
        cycleStart: '2026-05-01T00:00:00.000Z',
        cycleEnd: '2026-06-01T00:00:00.000Z',
      },
    });
    expect(upgrade.movement).toMatchObject({ credits: 5000, balance_after: 5000, kind: 'upgrade' });
    expect(upgrade.state).toMatchObject({
      plan_id: 'professional',
      credits_total: 5000,
      cycle_start: '2026-05-01T00:00:00.000Z',
      cycle_end: '2026-06-01T00:00:00.000Z',
    });
    // the two leads charged before keep their movements; the one that was over is charged now
    const again = await l.charge(acc, 'b1', ids(3));
    expect(again.movements.map((m) => m.balance_after)).toEqual([1, 0, 4999]);
    expect(again.over).toEqual([]);
    expect((await l.state(acc))?.balance).toBe(4999);
  });

  it('apply on an account never seen opens it first', async () => {
    const acc = account();
    const r = await ledger(7).apply(acc, { eventId: 'topup:x', kind: 'topup', mode: 'add', credits: 3 });
    expect(r.opened).toMatchObject({ event_id: `open:${acc}`, credits: 7 });
    expect(r.movement).toMatchObject({ credits: 3, balance_after: 10 });
  });

  it('the movements of an account sum to its balance', async () => {
    const acc = account();
    const l = ledger(30);
    const events = new Map<string, number>();
    const keep = (m: { event_id: string; credits: number } | null) => m && events.set(m.event_id, m.credits);
    for (let i = 0; i < 4; i++) {
      const r = await l.charge(acc, 'b1', ids(12, i * 12));
      keep(r.opened);
      r.movements.forEach(keep);
      keep((await l.apply(acc, { eventId: `topup:${i}`, kind: 'topup', mode: 'add', credits: 4 })).movement);
    }
    const sum = [...events.values()].reduce((a, b) => a + b, 0);
    expect(sum).toBe((await l.state(acc))?.balance);
  });
});
