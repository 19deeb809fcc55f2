/**
 * SSRF on webhook targets through the real gateway route and the real dispatcher, both resolving
 * through a DNS server that answers what an attacker's would (WEBHOOK_DNS_SERVERS): every private,
 * loopback, link-local and metadata address in its literal, decimal, octal, hex, short and IPv6 forms
 * is refused at registration; a name that answers a public address to the checks and 127.0.0.1 after
 * (DNS rebinding between check and connect) never reaches the loopback receiver; a redirect is not
 * followed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { querySql, sql } from '../../services/lib/clickhouse.ts';
import { targetPolicy } from '../../services/webhooks/address-guard.ts';
import { DeliveryLog } from '../../services/webhooks/delivery-log.ts';
import { Dispatcher } from '../../services/webhooks/dispatcher.ts';
import { testGateway } from '../support/gateway.ts';
import { startRebindingDns } from '../support/rebinding-dns.ts';

/** Public (globally routed) but unreachable from this machine: what the checks see of the host. */
const PUBLIC = '93.184.216.34';
const zone: Record<string, (n: number) => string[]> = {
  // Public to the first two queries (registration, then the dispatcher's check), loopback after.
  'rebind.attacker.test': (n) => (n < 2 ? [PUBLIC] : ['127.0.0.1']),
  'mixed.attacker.test': () => [PUBLIC, '127.0.0.1'],
  'metadata.attacker.test': () => ['169.254.169.254'],
  'private.attacker.test': () => ['10.1.2.3'],
};
const dns = await startRebindingDns((name, n) => zone[name]?.(n) ?? []);
const gw = await testGateway('whssrf', { WEBHOOK_DNS_SERVERS: dns.address });
const log = pino({ level: 'silent' });
let loopback: Server;
let loopbackPort = 0;
const loopbackHits: string[] = [];

beforeAll(async () => {
  // What a rebound or redirected request would reach: it counts everything it gets.
  loopback = createServer((req, res) => {
    loopbackHits.push(req.url ?? '');
    req.resume();
    res.writeHead(200).end();
  });
  await new Promise<void>((r) => loopback.listen(0, '127.0.0.1', r));
  loopbackPort = (loopback.address() as AddressInfo).port;
});
afterAll(async () => {
  loopback.closeAllConnections();
  loopback.close();
  await dns.stop();
  await gw.close();
});

const register = (token: string, url: string) =>
  gw.json('POST', '/webhooks', { url, events: ['batch.completed'] }, token);

function dispatcherWith(policy: ReturnType<typeof targetPolicy>, deliveries: DeliveryLog) {
  return new Dispatcher({
    queue: gw.deps.webhookQueue,
    endpoints: gw.deps.webhooks,
    deliveries,
    policy,
    schedule: [100],
    timeoutMs: 1_500,
    pollMs: 20,
    leaseMs: 10_000,
    concurrency: 2,
    log,
    registry: new Registry(),
  });
}

async function attempts(endpointId: string, n: number, deliveries: DeliveryLog) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    await deliveries.flush();
    const rows = await querySql<{ attempt: number; status_code: number; error: string }>(
      gw.deps.clickhouse,
      sql`SELECT attempt, status_code, error FROM webhook_deliveries WHERE endpoint_id = ${endpointId} ORDER BY attempt`,
    );
    if (rows.length >= n) return rows;
    if (Date.now() > deadline) throw new Error(`only ${rows.length} of ${n} attempts logged`);
    await sleep(100);
  }
}

const job = (endpointId: string, accountId: string, eventId: string) => ({
  endpoint_id: endpointId,
  account_id: accountId,
  event_id: eventId,
  event: 'batch.completed',
  batch_id: 'batch_x',
  occurred_at: Date.now(),
  data_json: '{}',
  attempts: 0,
});

describe('webhook targets', () => {
  it('refuses every non-public target at registration with 400 and a detail', async () => {
    const { token, userId } = await gw.signUp();
    // More requests than payg's 30 a minute.
    await gw.deps.redis.hset(gw.deps.key('user', userId), 'plan_id', 'enterprise');
    const refused = [
      'http://127.0.0.1/x',
      'http://2130706433/x', // decimal 127.0.0.1
      'http://0177.0.0.1/x', // octal
      'http://0x7f.0x0.0x0.0x1/x', // hex
      'http://0x7f000001/x',
      'http://127.1/x', // short form
      'http://0/x',
      'http://0.0.0.0/x',
      'http://localhost/x',
      'http://localhost./x',
      'http://[::1]/x',
      'http://[::]/x',
      'http://[::ffff:127.0.0.1]/x', // IPv4-mapped
      'http://[::127.0.0.1]/x', // IPv4-compatible
      'http://[0:0:0:0:0:ffff:7f00:1]/x',
      'http://[fe80::1]/x', // link-local
      'http://[fc00::1]/x', // unique-local
      'http://[fd00:ec2::254]/x', // AWS metadata over IPv6
      'http://[64:ff9b::7f00:1]/x', // NAT64 of 127.0.0.1
      'http://[2002:7f00:1::1]/x', // 6to4 of 127.0.0.1
      'http://[2001::1]/x', // Teredo
      'http://169.254.169.254/latest/meta-data/', // cloud metadata
      'http://100.100.100.200/x', // CGNAT (Alibaba metadata)
      'http://10.0.0.1/x',
      'http://172.16.0.1/x',
      'http://192.168.1.1/x',
      'http://224.0.0.1/x',
      'http://255.255.255.255/x',
      'http://198.18.0.1/x', // benchmarking
      'http://%31%32%37.0.0.1/x', // percent-encoded host
      'http://①②⑦.0.0.1/x', // full-width digits
      'http://evil.test@127.0.0.1/x', // credentials
      `http://metadata.attacker.test/x`,
      `http://private.attacker.test/x`,
      `http://mixed.attacker.test:${loopbackPort}/x`, // one private answer among public ones
      'http://nxdomain.attacker.test/x',
      'gopher://127.0.0.1:6379/_INFO',
      'file:///etc/passwd',
    ];
    for (const url of refused) {
      const res = await register(token, url);
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as { detail: string }).detail, url).toMatch(/^url: /);
    }
    expect(await (await gw.json('GET', '/webhooks', undefined, token)).json()).toEqual([]);
  });

  it('connects to the address it checked: a host rebinding to 127.0.0.1 after the check never reaches it', async () => {
    const { token, accountId } = await gw.signUp();
    const url = `http://rebind.attacker.test:${loopbackPort}/rebound`;
    const created = await register(token, url);
    expect(created.status).toBe(201);
    expect(dns.queries('rebind.attacker.test')).toBe(1);
    const { id } = (await created.json()) as { id: string };

    const deliveries = new DeliveryLog(gw.deps.clickhouse, log, { flushMs: 100, maxBuffered: 1_000 });
    const d = dispatcherWith(targetPolicy(gw.config), deliveries);
    await gw.deps.webhookQueue.enqueue(job(id, accountId, 'ev_rebind'), Date.now());
    d.start();
    const rows = await attempts(id, 2, deliveries);
    await d.stop();
    await deliveries.close();

    // Attempt 1: checked (public), and sent to that public address, not to a fresh resolution.
    expect(rows[0]?.status_code).toBe(0);
    expect(rows[0]?.error).toContain(PUBLIC);
    console.info(
      `rebinding: attempt 1 ${JSON.stringify(rows[0]?.error)}, attempt 2 ${JSON.stringify(rows[1]?.error)}`,
    );
    // Attempt 2: the check now sees 127.0.0.1 and refuses.
    expect(rows[1]?.error).toMatch(/refused target: .*non-public address 127\.0\.0\.1/);
    // One query per check, none at connect time; and the loopback receiver saw nothing.
    expect(dns.queries('rebind.attacker.test')).toBe(3);
    expect(loopbackHits.filter((u) => u === '/rebound')).toEqual([]);
  });

  it('does not follow a redirect to an internal address', async () => {
    const redirector = createServer((req, res) => {
      req.resume();
      res.writeHead(307, { location: `http://127.0.0.1:${loopbackPort}/redirected` }).end();
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    try {
      const port = (redirector.address() as AddressInfo).port;
      const { accountId } = await gw.signUp();
      // The redirector itself is allow-listed (a development receiver); its target is not the point.
      const endpoint = await gw.deps.webhooks.create(accountId, `http://127.0.0.1:${port}/hook`, [
        'batch.completed',
      ]);
      const deliveries = new DeliveryLog(gw.deps.clickhouse, log, { flushMs: 100, maxBuffered: 1_000 });
      const d = dispatcherWith({ allowedHosts: ['127.0.0.1'] }, deliveries);
      await gw.deps.webhookQueue.enqueue(job(endpoint.id, accountId, 'ev_redirect'), Date.now());
      d.start();
      const rows = await attempts(endpoint.id, 2, deliveries);
      await d.stop();
      await deliveries.close();
      expect(rows.map((r) => r.status_code)).toEqual([307, 307]);
      expect(rows[0]?.error).toMatch(/^HTTP 307/);
      expect(loopbackHits.filter((u) => u === '/redirected')).toEqual([]);
    } finally {
      redirector.close();
    }
  });
});
