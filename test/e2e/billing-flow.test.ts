import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { querySql, sql } from '../../services/lib/clickhouse.ts';
import { billingOf, cleanLeadCsv, startSignedReceiver, until } from '../support/billing.ts';
import { gatewayOnPrefix } from '../support/gateway.ts';
import { type PipelineRun, startPipelineRun, waitForAnnounced } from '../support/pipeline.ts';
import { type RunningService, serviceEnv, startService } from '../support/services.ts';
import { completedSession, postEvent, signedEvent } from '../support/stripe.ts';

// THE billing flow of issue 10, through the public API of a real gateway (stripe-mock behind it) and the
// whole pipeline as separate processes on one isolated prefix: checkout → signed
// checkout.session.completed → the subscription active with the plan's credits → a batch consumes one
// credit per lead (ClickHouse and the balance) → a second batch drives the credits to zero and pauses,
// credits.exhausted delivered signed → a top-up bought through Stripe Checkout → the batch resumes and
// completes, every row once, no lead charged twice.

const STARTER = 150;
const FIRST = 100;
const SECOND = 100;
const TOPUP = 100;
const SECRET = `whsec_${randomBytes(16).toString('hex')}`;

const first = cleanLeadCsv(FIRST, 'gamma');
const second = cleanLeadCsv(SECOND, 'delta');
let run: PipelineRun | undefined;
let gw: Awaited<ReturnType<typeof gatewayOnPrefix>> | undefined;
const services: RunningService[] = [];
const receiver = await startSignedReceiver();

beforeAll(async () => {
  run = await startPipelineRun('e2e_billing_flow', Buffer.concat([first, second]), { providers: 'sandbox' });
  gw = await gatewayOnPrefix(run.config, run.uploadDir, {
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    STRIPE_WEBHOOK_SECRET: SECRET,
    BILLING_PLAN_CREDITS: `payg=10,starter=${STARTER}`,
  });
  services.push(
    ...(await Promise.all([
      startService('usage', serviceEnv(run.config)),
      startService('webhooks', serviceEnv(run.config, { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' })),
    ])),
  );
}, 240_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await gw?.disconnect();
  await run?.close();
  await receiver.close();
}, 120_000);

const logs = () =>
  [run?.pipeline.output(), ...services.map((s) => s.output())].filter(Boolean).join('\n').slice(-20_000);

type Json = Record<string, unknown>;
async function api(method: string, path: string, token?: string, body?: unknown): Promise<Json> {
  if (!gw) throw new Error('no gateway');
  const res = await gw.json(method, path, body, token);
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as Json;
}

async function processFile(token: string, filename: string, bytes: Buffer): Promise<string> {
  if (!gw) throw new Error('no gateway');
  expect((await gw.upload(token, filename, new Uint8Array(bytes))).status).toBe(201);
  return String((await api('POST', '/process', token, { filename })).batch_id);
}

describe('billing end to end: checkout, metering, pause at zero, top-up through Stripe, resume', () => {
  it('charges every lead once and resumes the paused batch after a Stripe top-up', async () => {
    if (!run || !gw) throw new Error('not started');
    const { tracker, ch, config } = run;
    const billing = billingOf(config, run.redis, ch);
    const gateway = gw.app;
    const send = (type: string, object: object) => postEvent(gateway, signedEvent(type, object, SECRET));
    /** The first delivery of `event` to the receiver, its signature verified. */
    const delivered = async (event: string) => {
      const got = await until(
        `${event} delivered`,
        () => receiver.received().find((r) => r.event === event),
        60_000,
        logs,
      );
      expect(got.verified).toBe(true);
      return got;
    };

    const { token, accountId } = await gw.signUp();
    const hook = await api('POST', '/webhooks', token, {
      url: receiver.url,
      events: ['credits.low', 'credits.exhausted', 'topup.completed'],
    });
    receiver.setSecret(String(hook.secret));

    // 1. Checkout → Stripe's signed confirmation → starter active with its credits.
    const checkout = await api('POST', '/billing/checkout', token, { plan_id: 'starter' });
    const confirmed = await send(
      'checkout.session.completed',
      completedSession(checkout as never, accountId, 'subscription'),
    );
    expect(confirmed.status).toBe(200);
    expect(await api('GET', '/billing/subscription', token)).toMatchObject({
      plan_id: 'starter',
      credits_total: STARTER,
      credits_remaining: STARTER,
      status: 'active',
    });

    // 2. A batch of FIRST leads costs FIRST credits: the balance and ClickHouse agree.
    const a = await processFile(token, 'first.csv', first);
    const doneA = await waitForAnnounced(tracker, accountId, a, 180_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs()}`);
    });
    expect(doneA).toMatchObject({ status: 'completed', rows_done: FIRST });
    expect((await api('GET', '/billing/subscription', token)).credits_remaining).toBe(STARTER - FIRST);
    await until('the first batch in usage_events', async () =>
      (await billing.consumed(accountId, a)) === FIRST ? true : undefined,
    );
    const today = new Date().toISOString().slice(0, 10);
    expect(await api('GET', `/billing/usage?start=${today}&end=${today}`, token)).toMatchObject({
      total_consumed: FIRST,
      daily_usage: [{ date: today, credits: FIRST }],
    });

    // 3. A second batch runs the credits to zero: paused (in the API's list and detail), exhausted signed.
    const b = await processFile(token, 'second.csv', second);
    const statuses = new Set<string>();
    await until(
      'the second batch paused',
      async () => {
        const x = await tracker.get(accountId, b);
        if (x) statuses.add(x.status);
        return x?.status === 'paused' ? x : undefined;
      },
      120_000,
      logs,
    );
    const listed = (await api('GET', '/batches?limit=10', token)).items as Json[];
    expect(listed.find((x) => x.batch_id === b)?.status).toBe('paused');
    expect((await api('GET', `/batches/${b}`, token)).status).toBe('paused');
    expect((await api('GET', '/billing/subscription', token)).credits_remaining).toBe(0);
    const exhausted = await delivered('credits.exhausted');
    expect(exhausted.body.data).toMatchObject({ plan_id: 'starter', credits_remaining: 0 });

    // 4. A top-up through Stripe Checkout: credits added once (the event replayed), topup.completed signed.
    const topup = await api('POST', '/billing/topup', token, { credits: TOPUP });
    const paid = signedEvent(
      'checkout.session.completed',
      completedSession(topup as never, accountId, 'payment'),
      SECRET,
    );
    expect((await postEvent(gateway, paid)).status).toBe(200);
    expect(await (await postEvent(gateway, paid)).json()).toMatchObject({ duplicate: true });
    const done = await delivered('topup.completed');
    expect(done.body.data).toMatchObject({ order_id: topup.order_id, credits: TOPUP });

    // 5. The batch resumes where it stopped and completes; every row once, no lead charged twice.
    const doneB = await waitForAnnounced(tracker, accountId, b, 180_000, (x) => {
      if (x) statuses.add(x.status);
    }).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs()}`);
    });
    expect(doneB).toMatchObject({ status: 'completed', rows_total: SECOND, rows_done: SECOND });
    expect([...statuses]).toEqual(expect.arrayContaining(['paused', 'completed']));
    const rows = await querySql<{ n: string; d: string }>(
      ch,
      sql`SELECT count() AS n, uniqExact(lead_id) AS d FROM (
            SELECT lead_id FROM leads FINAL WHERE account_id = ${accountId} AND batch_id = ${b}
            UNION ALL
            SELECT lead_id FROM rejections FINAL WHERE account_id = ${accountId} AND batch_id = ${b})`,
    );
    expect(rows[0]).toMatchObject({ n: String(SECOND), d: String(SECOND) });
    const total = FIRST + SECOND;
    expect((await api('GET', '/billing/subscription', token)).credits_remaining).toBe(
      STARTER + TOPUP - total,
    );
    await until(
      'every consumption in usage_events',
      async () => ((await billing.consumed(accountId)) === total ? true : undefined),
      60_000,
      logs,
    );
    expect(await billing.distinctLeadsCharged(accountId)).toBe(total);
    // The audit: every movement (payg's opening, starter's credits, the leads, the top-up) sums to the balance.
    await until('usage_events sums to the balance', async () =>
      (await billing.creditSum(accountId)) === STARTER + TOPUP - total ? true : undefined,
    );
    expect(receiver.received().filter((r) => r.event === 'topup.completed')).toHaveLength(1);
    expect(receiver.received().filter((r) => r.event === 'credits.exhausted')).toHaveLength(1);
  });
});
