import { afterAll, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../schemas/generated.ts';
import { usageRow } from '../../services/usage/phase.ts';
import { testGateway } from '../support/gateway.ts';

// GET /api/billing/usage against the real ClickHouse: rows as the usage service writes them (usageRow),
// including a movement written twice (a redelivery) and other kinds and tenants that must not count.

const gw = await testGateway('billing_usage');
afterAll(() => gw.close());

const at = (iso: string) => Date.parse(iso);
const movement = (account: string, id: string, kind: string, credits: number, when: string): UsageEvent => ({
  event_id: id,
  account_id: account,
  kind,
  credits,
  balance_after: 0,
  batch_id: kind === 'consume' ? 'batch_x' : null,
  lead_id: kind === 'consume' ? `batch_x:${id}` : null,
  reference: null,
  occurred_at: at(when),
});

describe('GET /api/billing/usage', () => {
  it('answers consumed credits per day from usage_events FINAL, for the caller only', async () => {
    const me = await gw.signUp();
    const other = await gw.signUp();
    const consume = (n: number, day: string, from = 0) =>
      Array.from({ length: n }, (_, i) =>
        movement(me.accountId, `consume:l${day}${from + i}`, 'consume', -1, `${day}T10:00:00Z`),
      );
    const rows = [
      ...consume(3, '2026-02-01'),
      ...consume(2, '2026-02-01'), // the same movements again: a redelivery
      ...consume(5, '2026-02-03'),
      movement(me.accountId, 'consume:late', 'consume', -1, '2026-02-03T23:59:59Z'),
      movement(me.accountId, 'consume:next', 'consume', -1, '2026-02-04T00:00:00Z'),
      movement(me.accountId, 'open', 'grant', 250, '2026-02-01T00:00:00Z'),
      movement(me.accountId, 'topup:o1', 'topup', 100, '2026-02-02T00:00:00Z'),
      movement(other.accountId, 'consume:theirs', 'consume', -1, '2026-02-02T09:00:00Z'),
    ].map(usageRow);
    await gw.deps.clickhouse.insert({ table: 'usage_events', values: rows, format: 'JSONEachRow' });

    const res = await gw.json('GET', '/billing/usage?start=2026-02-01&end=2026-02-03', undefined, me.token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      total_consumed: 9,
      daily_usage: [
        { date: '2026-02-01', credits: 3 },
        { date: '2026-02-02', credits: 0 },
        { date: '2026-02-03', credits: 6 },
      ],
    });
    const theirs = await gw.json(
      'GET',
      '/billing/usage?start=2026-02-01&end=2026-02-04',
      undefined,
      other.token,
    );
    expect(((await theirs.json()) as { total_consumed: number }).total_consumed).toBe(1);
    const oneDay = await gw.json(
      'GET',
      '/billing/usage?start=2026-02-04&end=2026-02-04',
      undefined,
      me.token,
    );
    expect(await oneDay.json()).toEqual({
      total_consumed: 1,
      daily_usage: [{ date: '2026-02-04', credits: 1 }],
    });
    const recent = await gw.json('GET', '/billing/usage', undefined, me.token);
    expect(recent.status).toBe(200);
    expect(((await recent.json()) as { daily_usage: unknown[] }).daily_usage).toHaveLength(30);
  });

  it('refuses bad ranges with 400 and a detail, and anonymous callers with 401', async () => {
    const me = await gw.signUp();
    for (const [query, detail] of [
      ['start=2026-02-30&end=2026-03-01', 'start: expected a date YYYY-MM-DD'],
      ['start=yesterday&end=2026-03-01', 'start: expected a date'],
      ['start=2026-03-02&end=2026-03-01', 'start: must not be after end'],
      ['start=2024-01-01&end=2026-03-01', 'at most 366 days'],
    ] as const) {
      const res = await gw.json('GET', `/billing/usage?${query}`, undefined, me.token);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toContain(detail);
    }
    expect((await gw.json('GET', '/billing/usage')).status).toBe(401);
    const doc = (await (await gw.json('GET', '/openapi.json')).json()) as { paths: Record<string, object> };
    expect(doc.paths['/billing/usage']).toHaveProperty('get');
  });
});
