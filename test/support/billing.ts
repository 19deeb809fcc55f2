/**
 * Billing on the real stack, for tests: the ledger, parked leads and usage table of an isolated prefix,
 * a top-up applied and published the way the gateway does it, and a loopback webhook receiver that
 * checks every delivery's signature exactly as API.md tells customers to.
 *
 *   const billing = billingOf(config, redis, ch);
 *   await billing.topUp(accountId, 80, 'ord_1');
 *   const n = await billing.consumed(accountId);
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { type ClickHouseClient, querySql, sql } from '../../services/lib/clickhouse.ts';
import type { Config } from '../../services/lib/config.ts';
import { CreditLedger, type CreditMovement } from '../../services/lib/credit-ledger.ts';
import { TOPICS } from '../../services/lib/names.ts';
import { DEFAULT_PLAN_ID } from '../../services/lib/plan-credits.ts';
import { RecordPublisher } from '../../services/lib/publisher.ts';
import { keyspace } from '../../services/lib/redis.ts';
import { ParkingLot } from '../../services/runtime/parking.ts';

/**
 * Polls `probe` every `everyMs` until it returns something other than undefined; throws with `what`
 * (and `detail()`) on timeout.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
  detail: () => string = () => '',
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}\n${detail()}`);
}

/**
 * A CSV of `rows` distinct, reachable leads (email, name, company): every one enters the pipeline, so
 * each costs exactly one credit. `tag` keeps files of one test apart.
 */
export function cleanLeadCsv(rows: number, tag: string): Buffer {
  const lines = ['email,first_name,last_name,company,website'];
  for (let i = 0; i < rows; i++) {
    const domain = `${tag}co${i % 7}.com`;
    lines.push(
      `person${i}.${tag}@${domain},Person${i},${tag}Last${i},${tag} Company ${i % 7},https://${domain}`,
    );
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

export function billingOf(config: Config, redis: Redis, ch: ClickHouseClient) {
  const key = keyspace(config.LEEDRUSH_PREFIX);
  const ledger = new CreditLedger(redis, key, {
    planId: DEFAULT_PLAN_ID,
    credits: config.BILLING_PLAN_CREDITS[DEFAULT_PLAN_ID] ?? 0,
  });
  const parking = new ParkingLot(redis, key);
  const count = async (where: ReturnType<typeof sql>) =>
    Number(
      (await querySql<{ n: string }>(ch, sql`SELECT count() AS n FROM usage_events FINAL WHERE ${where}`))[0]
        ?.n ?? 0,
    );
  return {
    ledger,
    parking,
    /** Credits added through the ledger (an order's top-up) and the movement published to usage.events, as the gateway does. */
    async topUp(accountId: string, credits: number, orderId: string): Promise<CreditMovement | null> {
      const r = await ledger.apply(accountId, {
        eventId: `topup:${orderId}`,
        kind: 'topup',
        mode: 'add',
        credits,
        reference: orderId,
      });
      const movements = [r.opened, r.movement].filter((m): m is CreditMovement => m !== null);
      if (movements.length) {
        const publisher = await RecordPublisher.connect(config, 'test-billing');
        try {
          await publisher.publish(TOPICS.usage, 'UsageEvent', accountId, movements);
        } finally {
          await publisher.disconnect();
        }
      }
      return r.movement;
    },
    /** Consumption rows in usage_events (FINAL: each movement once), for the account or one of its batches. */
    consumed: (accountId: string, batchId?: string) =>
      count(
        batchId === undefined
          ? sql`account_id = ${accountId} AND kind = 'consume'`
          : sql`account_id = ${accountId} AND kind = 'consume' AND batch_id = ${batchId}`,
      ),
    /** Distinct leads charged, however many rows: equals consumed() when nothing was charged twice. */
    async distinctLeadsCharged(accountId: string): Promise<number> {
      const rows = await querySql<{ n: string }>(
        ch,
        sql`SELECT uniqExact(lead_id) AS n FROM usage_events FINAL WHERE account_id = ${accountId} AND kind = 'consume'`,
      );
      return Number(rows[0]?.n ?? 0);
    },
    /** The sum of every movement of the account: its balance, if the table holds every movement once. */
    async creditSum(accountId: string): Promise<number> {
      const rows = await querySql<{ s: string }>(
        ch,
        sql`SELECT sum(credits) AS s FROM usage_events FINAL WHERE account_id = ${accountId}`,
      );
      return Number(rows[0]?.s ?? 0);
    },
    async balance(accountId: string): Promise<number | undefined> {
      return (await ledger.state(accountId))?.balance;
    },
  };
}

export interface ReceivedWebhook {
  event: string;
  eventId: string;
  /** The signature matched HMAC-SHA256 of the exact body bytes with the endpoint's secret. */
  verified: boolean;
  body: { event: string; batch_id: string | null; timestamp: string; data: Record<string, unknown> };
}

/**
 * An HTTP receiver on 127.0.0.1 (the dispatcher needs WEBHOOK_ALLOWED_HOSTS=127.0.0.1): answers 200 to
 * every POST and records it with whether its X-Leedrush-Signature verifies against `secret` (set once the
 * endpoint is registered).
 */
export async function startSignedReceiver() {
  const received: ReceivedWebhook[] = [];
  let secret = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const expected = Buffer.from(createHmac('sha256', secret).update(body).digest('hex'));
      const given = Buffer.from(String(req.headers['x-leedrush-signature'] ?? ''));
      received.push({
        event: String(req.headers['x-leedrush-event'] ?? ''),
        eventId: String(req.headers['x-leedrush-event-id'] ?? ''),
        verified: given.length === expected.length && timingSafeEqual(given, expected),
        body: JSON.parse(body.toString('utf8')) as ReceivedWebhook['body'],
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    setSecret: (s: string) => {
      secret = s;
    },
    received: () => [...received],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
