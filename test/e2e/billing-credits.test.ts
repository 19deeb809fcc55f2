import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchRecord } from '../../services/lib/batch-tracker.ts';
import { querySql, sql } from '../../services/lib/clickhouse.ts';
import { keyspace } from '../../services/lib/redis.ts';
import { EndpointStore } from '../../services/webhooks/endpoints.ts';
import { billingOf, cleanLeadCsv, startSignedReceiver, until } from '../support/billing.ts';
import { gatewayOnPrefix } from '../support/gateway.ts';
import { type PipelineRun, startPipelineRun, submitUpload, waitForAnnounced } from '../support/pipeline.ts';
import { type RunningService, serviceEnv, startService } from '../support/services.ts';

// Credits metered by the pipeline, end to end: the seven lead services, the usage service and the
// webhook dispatcher, each its main.ts in its own process; payg opens accounts with CREDITS credits.
// A first batch costs one credit per lead (ClickHouse usage_events and the Redis balance agree); a
// second one runs the balance to zero, pauses with its remaining leads parked, and credits.low and
// credits.exhausted reach a loopback receiver signed; a top-up through the ledger resumes it, and it
// completes with every row counted once and no lead charged twice.

const CREDITS = 150;
const FIRST = 100;
const SECOND = 100;
const TOPUP = 80;
let ACCOUNT = '';
let token = '';

const first = cleanLeadCsv(FIRST, 'alpha');
const second = cleanLeadCsv(SECOND, 'beta');
let run: PipelineRun | undefined;
let usage: RunningService | undefined;
let dispatcher: RunningService | undefined;
let gateway: Awaited<ReturnType<typeof gatewayOnPrefix>> | undefined;
const receiver = await startSignedReceiver();

beforeAll(async () => {
  run = await startPipelineRun('e2e_billing', Buffer.concat([first, second]), {
    providers: 'sandbox',
    extra: { standardize: { BILLING_PLAN_CREDITS: `payg=${CREDITS}` } },
  });
  // A customer of the gateway on the run's prefix: the batches are theirs, read back through the API.
  // Its sign-up opens the account's ledger, so it must know the same plan credits as the meter.
  gateway = await gatewayOnPrefix(run.config, run.uploadDir, { BILLING_PLAN_CREDITS: `payg=${CREDITS}` });
  ({ token, accountId: ACCOUNT } = await gateway.signUp());
  const endpoint = await new EndpointStore(run.redis, keyspace(run.config.LEEDRUSH_PREFIX)).create(
    ACCOUNT,
    receiver.url,
    ['credits.low', 'credits.exhausted'],
  );
  receiver.setSecret(endpoint.secret);
  [usage, dispatcher] = await Promise.all([
    startService('usage', serviceEnv(run.config)),
    startService('webhooks', serviceEnv(run.config, { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' })),
  ]);
}, 240_000);

afterAll(async () => {
  await Promise.all([usage?.stop(), dispatcher?.stop(), gateway?.disconnect()]);
  await run?.close();
  await receiver.close();
}, 120_000);

const logs = () =>
  [run?.pipeline.output(), usage?.output(), dispatcher?.output()].filter(Boolean).join('\n').slice(-20_000);

describe('credits metered by the pipeline: pause at zero, resume after a top-up', () => {
  it('charges one credit per lead, pauses the batch that runs out, and resumes it after a top-up', async () => {
    if (!run) throw new Error('pipeline not started');
    const { config, tracker, uploadDir, ch } = run;
    const billing = billingOf(config, run.redis, ch);
    const submit = (name: string, bytes: Buffer) =>
      submitUpload(config, tracker, { uploadDir, accountId: ACCOUNT, filename: name, bytes });

    // 1. A batch of FIRST leads: FIRST credits, in Redis and in ClickHouse.
    const a = await submit('first.csv', first);
    const doneA = await waitForAnnounced(tracker, ACCOUNT, a.batch.batch_id, 180_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs()}`);
    });
    expect(doneA).toMatchObject({ status: 'completed', rows_done: FIRST });
    expect(await billing.balance(ACCOUNT)).toBe(CREDITS - FIRST);
    await until('first batch usage in ClickHouse', async () =>
      (await billing.consumed(ACCOUNT, a.batch.batch_id)) === FIRST ? true : undefined,
    );

    // 2. A batch of SECOND leads with CREDITS − FIRST credits left: it pauses with the rest parked.
    const b = await submit('second.csv', second);
    const id = b.batch.batch_id;
    const statuses = new Set<string>();
    const paused = await until(
      'second batch paused with its uncharged leads parked',
      async () => {
        const batch = await tracker.get(ACCOUNT, id);
        if (batch) statuses.add(batch.status);
        const parked = await billing.parking.count(ACCOUNT);
        return batch?.status === 'paused' && parked === FIRST + SECOND - CREDITS ? batch : undefined;
      },
      120_000,
      logs,
    );
    expect(await billing.balance(ACCOUNT)).toBe(0);
    // Without credits nothing moves: the batch stays paused (dedupe holds its charged leads until the
    // batch's last rows arrive), nothing more is charged, the parked leads stay parked.
    await sleep(3_000);
    expect(await billing.balance(ACCOUNT)).toBe(0);
    expect(await billing.parking.count(ACCOUNT)).toBe(FIRST + SECOND - CREDITS);
    expect((await tracker.get(ACCOUNT, id))?.rows_done).toBeLessThan(SECOND);
    // The API shows it: batch detail and list.
    const api = async <T>(path: string): Promise<T> => {
      const res = await (gateway as NonNullable<typeof gateway>).json('GET', path, undefined, token);
      expect(res.status, path).toBe(200);
      return (await res.json()) as T;
    };
    expect((await api<{ status: string }>(`/batches/${id}`)).status).toBe('paused');
    const listed = await api<{ batch_id: string; status: string }[]>('/batches');
    expect(listed.find((x) => x.batch_id === id)?.status).toBe('paused');
    expect(listed.find((x) => x.batch_id === a.batch.batch_id)?.status).toBe('completed');
    expect(paused.rows_total).toBe(SECOND);

    // credits.low (balance under 10 % of CREDITS) and credits.exhausted, each once, signed.
    const signals = await until(
      'credits.low and credits.exhausted delivered',
      () => {
        const got = receiver.received();
        return got.some((r) => r.event === 'credits.exhausted') && got.some((r) => r.event === 'credits.low')
          ? got
          : undefined;
      },
      60_000,
      logs,
    );
    expect(signals.every((r) => r.verified)).toBe(true);
    const exhausted = signals.find((r) => r.event === 'credits.exhausted');
    expect(exhausted?.body).toMatchObject({
      event: 'credits.exhausted',
      data: { plan_id: 'payg', credits_total: CREDITS, credits_remaining: 0 },
    });
    const low = signals.find((r) => r.event === 'credits.low');
    expect(Number(low?.body.data.credits_remaining) * 10).toBeLessThan(CREDITS);
    expect(new Set(signals.map((r) => r.eventId)).size).toBe(2);

    // 3. A top-up through the ledger: the parked leads are re-admitted, charged once, and the batch completes.
    const topup = await billing.topUp(ACCOUNT, TOPUP, 'ord_e2e_1');
    expect(topup).toMatchObject({ credits: TOPUP, balance_after: TOPUP });
    const doneB: BatchRecord = await waitForAnnounced(tracker, ACCOUNT, id, 180_000, (x) => {
      if (x) statuses.add(x.status);
    }).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs()}`);
    });
    expect(doneB).toMatchObject({ status: 'completed', rows_total: SECOND, rows_done: SECOND });
    expect(
      doneB.rows_qualified +
        doneB.rows_rejected +
        doneB.rows_invalid +
        doneB.rows_duplicate +
        doneB.rows_errored,
    ).toBe(SECOND);
    expect([...statuses]).toEqual(expect.arrayContaining(['paused', 'completed']));
    expect(await billing.parking.count(ACCOUNT)).toBe(0);

    // Every row of the batch reached ClickHouse once (leads + rejections), each lead charged once.
    const rows = await querySql<{ n: string }>(
      ch,
      sql`SELECT count() AS n FROM (
            SELECT lead_id FROM leads FINAL WHERE account_id = ${ACCOUNT} AND batch_id = ${id}
            UNION ALL
            SELECT lead_id FROM rejections FINAL WHERE account_id = ${ACCOUNT} AND batch_id = ${id})`,
    );
    expect(Number(rows[0]?.n)).toBe(SECOND);
    const total = FIRST + SECOND;
    expect(await billing.balance(ACCOUNT)).toBe(CREDITS + TOPUP - total);
    await until(
      'every movement in usage_events',
      async () => ((await billing.consumed(ACCOUNT)) === total ? true : undefined),
      60_000,
      logs,
    );
    expect(await billing.consumed(ACCOUNT, id)).toBe(SECOND);
    expect(await billing.distinctLeadsCharged(ACCOUNT)).toBe(total);
    // The audit: opening grant + top-up − consumption = the balance.
    await until('the usage table sums to the balance', async () =>
      (await billing.creditSum(ACCOUNT)) === CREDITS + TOPUP - total ? true : undefined,
    );
    const today = new Date().toISOString().slice(0, 10);
    const report = await api<{ total_consumed: number }>(`/billing/usage?start=${today}&end=${today}`);
    expect(report.total_consumed).toBe(total);
    expect((await api<{ status: string }>(`/batches/${id}`)).status).toBe('completed');
    // Still exactly one credits.exhausted delivery: re-admission did not exhaust the account again.
    expect(receiver.received().filter((r) => r.event === 'credits.exhausted')).toHaveLength(1);
  });
});
