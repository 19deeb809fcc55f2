import { type AddressInfo, createConnection, createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderCall } from '../../services/enrich/call-log.ts';
import { AttributedCallLog, CallLogWriter } from '../../services/enrich/call-log-writer.ts';
import { createClickHouse, querySql, sql } from '../../services/lib/clickhouse.ts';
import type { Config } from '../../services/lib/config.ts';
import { createLogger } from '../../services/runtime/index.ts';
import { cleanupIsolated, isolatedConfig } from '../support/isolated.ts';

// The enrich service's enrichment_calls writer against the real ClickHouse 18.16, reached through a
// TCP relay the test can take away: rows recorded while ClickHouse is unreachable are written once it
// is back, each attributed to its lead, with the table's status vocabulary.

let config: Config;
let relay: Server | null = null;
let relayPort = 0;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Forwards relayPort to ClickHouse's HTTP port. */
async function openRelay(): Promise<void> {
  const target = new URL(config.CLICKHOUSE_URL);
  relay = createServer((client) => {
    const upstream = createConnection(Number(target.port), target.hostname);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => relay?.listen(relayPort, '127.0.0.1', r));
}

beforeAll(async () => {
  config = await isolatedConfig('enrich_calls');
  relayPort = await freePort();
});

afterAll(async () => {
  if (relay) await new Promise((r) => relay?.close(r));
  if (config) await cleanupIsolated(config);
});

const call = (over: Partial<ProviderCall>): ProviderCall => ({
  provider: 'apollo',
  endpoint: 'people_match',
  started_at: Date.UTC(2026, 10, 28, 5, 0, 0),
  latency_ms: 12.6,
  status: 200,
  cost_usd: 0.03,
  cache_level: 'provider',
  error: '',
  ...over,
});

describe('enrichment_calls writer', () => {
  it('keeps the calls of a failed insert and writes them, attributed, once ClickHouse answers', async () => {
    const log = new AttributedCallLog();
    const ch = createClickHouse(
      { ...config, CLICKHOUSE_URL: `http://127.0.0.1:${relayPort}` },
      { requestTimeoutMs: 2_000 },
    );
    const writer = new CallLogWriter(
      log,
      ch,
      { intervalMs: 100, maxRows: 1_000, maxPending: 1_000 },
      createLogger('enrich-calls-it', 'fatal'),
    );
    writer.start();
    try {
      log.within({ account_id: 'acct_a', batch_id: 'b1', lead_id: 'l1' }, () => {
        log.record(call({}));
        log.record(call({ provider: 'hunter', endpoint: 'email_verifier', status: 404, cost_usd: 0 }));
      });
      // An await between record and the owner's end: async context carries the owner across it.
      await log.within({ account_id: 'acct_b', batch_id: 'b1', lead_id: 'l2' }, async () => {
        await sleep(5);
        log.record(call({ provider: 'snov', status: 429, error: 'throttled', cost_usd: 0 }));
        log.record(call({ provider: 'clearbit', status: 0, error: 'timeout', cost_usd: 0 }));
      });
      log.record(
        call({ provider: 'clearbit', endpoint: 'company_find', status: 503, error: 'server_error' }),
      );
      await sleep(500); // several ticks against a closed port
      expect(writer.written).toBe(0);
      await openRelay();
      const deadline = Date.now() + 10_000;
      while (writer.written < 5 && Date.now() < deadline) await sleep(100);
      expect(writer.written).toBe(5);
      expect(writer.dropped).toBe(0);
    } finally {
      await writer.stop();
      await ch.close();
    }
    const reader = createClickHouse(config);
    try {
      const rows = await querySql<Record<string, unknown>>(
        reader,
        sql`SELECT ts, provider, endpoint, account_id, batch_id, lead_id, status, http_status, latency_ms, cost, cache_level
            FROM enrichment_calls ORDER BY provider, endpoint`,
      );
      expect(rows).toEqual([
        row('apollo', 'people_match', 'acct_a', 'b1', 'l1', 'ok', 200, 0.03),
        row('clearbit', 'company_find', '', '', '', 'error', 503, 0.03),
        row('clearbit', 'people_match', 'acct_b', 'b1', 'l2', 'timeout', 0, 0),
        row('hunter', 'email_verifier', 'acct_a', 'b1', 'l1', 'not_found', 404, 0),
        row('snov', 'people_match', 'acct_b', 'b1', 'l2', 'rate_limited', 429, 0),
      ]);
    } finally {
      await reader.close();
    }
  });
});

function row(
  provider: string,
  endpoint: string,
  account_id: string,
  batch_id: string,
  lead_id: string,
  status: string,
  http_status: number,
  cost: number,
) {
  return {
    ts: '2026-11-28 05:00:00',
    provider,
    endpoint,
    account_id,
    batch_id,
    lead_id,
    status,
    http_status,
    latency_ms: 13,
    cost,
    cache_level: 'provider',
  };
}
