/**
 * The retry queue and the dispatcher in-process on the real Redis and ClickHouse, with a local HTTP
 * receiver: leases, done markers, the address check repeated at delivery time, giving up, deleted
 * endpoints.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, querySql, sql } from '../../services/lib/clickhouse.ts';
import { createRedis, keyspace } from '../../services/lib/redis.ts';
import { DeliveryLog } from '../../services/webhooks/delivery-log.ts';
import { Dispatcher } from '../../services/webhooks/dispatcher.ts';
import { EndpointStore } from '../../services/webhooks/endpoints.ts';
import { type DeliveryJob, RetryQueue } from '../../services/webhooks/retry-queue.ts';
import { cleanupIsolated, isolatedConfig } from '../support/isolated.ts';

const config = await isolatedConfig('whdispatch');
const redis = createRedis(config.REDIS_URL, 'test-webhooks');
const key = keyspace(config.LEEDRUSH_PREFIX);
const ch = createClickHouse(config);
const queue = new RetryQueue(redis, key);
const endpoints = new EndpointStore(redis, key);
const log = pino({ level: 'silent' });
let server: Server;
let port: number;
let hits = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    req.resume();
    res.writeHead(200).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  redis.disconnect();
  await ch.close();
  await cleanupIsolated(config);
});

const job = (endpointId: string, eventId: string): DeliveryJob => ({
  endpoint_id: endpointId,
  account_id: 'acct_1',
  event_id: eventId,
  event: 'batch.completed',
  batch_id: 'batch_1',
  occurred_at: Date.now(),
  data_json: '{}',
  attempts: 0,
});

function dispatcher(
  allowedHosts: string[],
  deliveries: DeliveryLog,
  over: { queue?: RetryQueue; leaseMs?: number } = {},
) {
  return new Dispatcher({
    queue: over.queue ?? queue,
    endpoints,
    deliveries,
    policy: { allowedHosts },
    schedule: [50, 50],
    timeoutMs: 2_000,
    pollMs: 20,
    leaseMs: over.leaseMs ?? 5_000,
    concurrency: 4,
    log,
    registry: new Registry(),
  });
}

async function until(what: string, probe: () => Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('RetryQueue', () => {
  it('creates one job per (endpoint, event), leases claimed jobs, and never re-creates a delivered one', async () => {
    const j = job('wh_lease', 'ev_1');
    const now = Date.now();
    expect(await queue.enqueue(j, now)).toBe(true);
    expect(await queue.enqueue(j, now)).toBe(false);
    expect(await queue.claim(now, 1_000, 10)).toEqual([j]);
    expect(await queue.claim(now + 999, 1_000, 10)).toEqual([]);
    // The lease ran out (the dispatcher died): the job is due again.
    expect(await queue.claim(now + 1_001, 1_000, 10)).toEqual([j]);
    await queue.delivered(j);
    expect(await queue.isDelivered(j)).toBe(true);
    expect(await queue.enqueue(j, now)).toBe(false);
    expect(await queue.claim(now + 10_000, 1_000, 10)).toEqual([]);
  });

  it('claims only due jobs, at most the limit', async () => {
    const now = Date.now();
    await queue.enqueue(job('wh_due', 'a'), now - 10);
    await queue.enqueue(job('wh_due', 'b'), now - 5);
    await queue.enqueue(job('wh_due', 'c'), now + 60_000);
    expect((await queue.claim(now, 1_000, 1)).map((x) => x.event_id)).toEqual(['a']);
    expect((await queue.claim(now, 1_000, 10)).map((x) => x.event_id)).toEqual(['b']);
    for (const id of ['a', 'b', 'c']) await queue.finish(job('wh_due', id));
  });
});

describe('Dispatcher', () => {
  it('checks the address again at delivery time: a refused target is logged, retried, then given up', async () => {
    // Registered while 127.0.0.1 was allowed (the gateway's check); the dispatcher does not allow it.
    const ep = await endpoints.create('acct_1', `http://127.0.0.1:${port}/x`, ['batch.completed']);
    const deliveries = new DeliveryLog(ch, log, { flushMs: 100, maxBuffered: 1_000 });
    const d = dispatcher([], deliveries);
    const before = hits;
    await queue.enqueue({ ...job(ep.id, 'ev_refused'), account_id: ep.account_id }, Date.now());
    d.start();
    await until('three logged attempts', async () => {
      await deliveries.flush();
      const [row] = await querySql<{ n: string }>(
        ch,
        sql`SELECT count() AS n FROM webhook_deliveries WHERE endpoint_id = ${ep.id}`,
      );
      return Number(row?.n) === 3;
    });
    await d.stop();
    await deliveries.close();
    expect(hits).toBe(before);
    const rows = await querySql<{ attempt: number; status_code: number; error: string }>(
      ch,
      sql`SELECT attempt, status_code, error FROM webhook_deliveries WHERE endpoint_id = ${ep.id} ORDER BY attempt`,
    );
    expect(rows.map((r) => [r.attempt, r.status_code])).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
    expect(rows[0]?.error).toMatch(/refused target: .*non-public address 127\.0\.0\.1/);
    expect(await queue.pending()).toBe(0);
  });

  it('sends an event once when Redis refuses its done marker for a while after the 2xx', async () => {
    // The real queue, whose first two done markers fail as they would while Redis restarts.
    class FlakyQueue extends RetryQueue {
      refusals = 2;
      override async delivered(j: DeliveryJob): Promise<void> {
        if (this.refusals-- > 0) throw new Error('Connection is closed.');
        return super.delivered(j);
      }
    }
    const flaky = new FlakyQueue(redis, key);
    const ep = await endpoints.create('acct_1', `http://127.0.0.1:${port}/once`, ['batch.completed']);
    const deliveries = new DeliveryLog(ch, log, { flushMs: 100, maxBuffered: 1_000 });
    const d = dispatcher(['127.0.0.1'], deliveries, { queue: flaky, leaseMs: 1_000 });
    const before = hits;
    const sent = { ...job(ep.id, 'ev_marker'), account_id: ep.account_id };
    await queue.enqueue(sent, Date.now());
    d.start();
    await until('the done marker', () => queue.isDelivered(sent));
    // Past the lease: a job whose marker was lost would have been claimed and sent again by now.
    await sleep(1_500);
    await d.stop();
    await deliveries.close();
    expect(flaky.refusals).toBe(-1);
    expect(hits - before).toBe(1);
    expect(await queue.pending()).toBe(0);
  });

  it('drops the jobs of a deleted endpoint without sending', async () => {
    const ep = await endpoints.create('acct_1', `http://127.0.0.1:${port}/gone`, ['batch.completed']);
    await endpoints.delete('acct_1', ep.id);
    const deliveries = new DeliveryLog(ch, log, { flushMs: 100, maxBuffered: 1_000 });
    const d = dispatcher(['127.0.0.1'], deliveries);
    const before = hits;
    await queue.enqueue({ ...job(ep.id, 'ev_gone'), account_id: ep.account_id }, Date.now());
    d.start();
    await until('the job to go', async () => (await queue.pending()) === 0);
    await d.stop();
    await deliveries.close();
    expect(hits).toBe(before);
  });

  it('sends a due job once and marks it delivered', async () => {
    const ep = await endpoints.create('acct_1', `http://127.0.0.1:${port}/ok`, ['batch.completed']);
    const deliveries = new DeliveryLog(ch, log, { flushMs: 100, maxBuffered: 1_000 });
    const d = dispatcher(['127.0.0.1'], deliveries);
    const j = { ...job(ep.id, 'ev_ok'), account_id: ep.account_id };
    const before = hits;
    await queue.enqueue(j, Date.now());
    d.start();
    await until('the delivery', async () => queue.isDelivered(j));
    await sleep(200);
    await d.stop();
    await deliveries.close();
    expect(hits).toBe(before + 1);
    expect(await queue.pending()).toBe(0);
  });
});
