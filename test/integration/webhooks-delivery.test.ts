/**
 * Webhooks end to end on the real stack: endpoints registered through the gateway, events published to
 * webhooks.outbox (Avro, registry), the dispatcher's main.ts in its own process, and a receiver written
 * in Python (stdlib only) that verifies every delivery with hmac.compare_digest.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookEvent } from '../../schemas/generated.ts';
import { REPO_ROOT } from '../../services/lib/config.ts';
import { TOPICS } from '../../services/lib/names.ts';
import { testGateway } from '../support/gateway.ts';
import { type RunningService, serviceEnv, startService } from '../support/services.ts';

interface Received {
  path: string;
  outcome: 'delivered' | 'failed_on_purpose' | 'bad_signature' | 'unknown_path';
  event_id: string;
  attempt: string;
  body: string;
}

const ALLOWED = '127.0.0.1,localhost';
const gw = await testGateway('whdeliver', { WEBHOOK_ALLOWED_HOSTS: ALLOWED });
const dir = mkdtempSync(join(tmpdir(), 'leedrush-webhooks-'));
const configPath = join(dir, 'endpoints.json');
const logPath = join(dir, 'received.jsonl');
let receiver: ChildProcess | undefined;
let dispatcher: RunningService | undefined;

afterAll(async () => {
  await dispatcher?.stop();
  receiver?.kill();
  await gw.close();
  rmSync(dir, { recursive: true, force: true });
});

async function startReceiver(): Promise<number> {
  writeFileSync(configPath, '{}');
  const proc = spawn(
    'python3',
    [join(REPO_ROOT, 'test/fixtures/webhooks/receiver.py'), configPath, logPath],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  receiver = proc;
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`receiver exited with ${code}`)));
    proc.stdout?.on('data', (chunk: Buffer) => {
      const m = /listening (\d+)/.exec(chunk.toString());
      if (m?.[1]) resolve(Number(m[1]));
    });
  });
}

const received = (): Received[] =>
  existsSync(logPath)
    ? readFileSync(logPath, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Received)
    : [];

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}\n${dispatcher?.output() ?? ''}`);
}

function event(accountId: string, name: string, id: string, data: object): WebhookEvent {
  return {
    event_id: id,
    account_id: accountId,
    event: name,
    batch_id: 'batch_wh1',
    data_json: JSON.stringify(data),
    occurred_at: Date.UTC(2026, 2, 21, 11, 0, 0),
  };
}

type Json = Record<string, unknown>;
const paths: Record<string, string> = {};
const ids: Record<string, string> = {};
let alice: Awaited<ReturnType<typeof gw.signUp>>;
let bob: Awaited<ReturnType<typeof gw.signUp>>;
const completedData = {
  filename: 'leads.csv',
  rows_total: 500,
  rows_qualified: 382,
  rows_failed: 23,
  quality_yield: 76.4,
  processing_time_s: 47,
};

beforeAll(async () => {
  const port = await startReceiver();
  [alice, bob] = await Promise.all([gw.signUp(), gw.signUp()]);
  const endpoints: Json = {};
  const register = async (name: string, token: string, events: string[], failFirst = 0) => {
    paths[name] = `/hooks/${name}`;
    const res = await gw.json(
      'POST',
      '/webhooks',
      { url: `http://127.0.0.1:${port}${paths[name]}`, events },
      token,
    );
    expect(res.status).toBe(201);
    const body = (await res.json()) as { id: string; secret: string };
    ids[name] = body.id;
    endpoints[paths[name]] = { secret: body.secret, fail_first: failFirst };
  };
  await register('steady', alice.token, ['batch.completed', 'lead.qualified']);
  await register('flaky', alice.token, ['batch.completed'], 3);
  await register('bobs', bob.token, ['batch.completed', 'batch.failed', 'lead.qualified']);
  writeFileSync(configPath, JSON.stringify(endpoints));

  dispatcher = await startService(
    'webhooks',
    serviceEnv(gw.config, {
      WEBHOOK_ALLOWED_HOSTS: ALLOWED,
      WEBHOOK_RETRY_SCHEDULE: '200ms,400ms,800ms,1s',
      WEBHOOK_POLL_MS: '50',
      WEBHOOK_LOG_FLUSH_MS: '200',
      WEBHOOK_TIMEOUT_MS: '5000',
    }),
  );
  const publish = (key: string, events: WebhookEvent[]) =>
    gw.deps.publisher.publish(TOPICS.webhooksOutbox, 'WebhookEvent', key, events);
  await publish('batch_wh1', [
    event(alice.accountId, 'batch.completed', 'batch.completed:batch_wh1', completedData),
    event(alice.accountId, 'lead.qualified', 'lead.qualified:l1', { status: 'QUALIFIED', score: 98.5 }),
    event(alice.accountId, 'batch.failed', 'batch.failed:batch_wh0', { error_reason: 'x' }),
    event(bob.accountId, 'batch.completed', 'batch.completed:batch_bob', completedData),
  ]);
  // The same outbox event again, as after a crash of its producer: one delivery, not two.
  await publish('batch_wh1', [
    event(alice.accountId, 'batch.completed', 'batch.completed:batch_wh1', completedData),
  ]);

  await until('the flaky endpoint to accept the event', () =>
    received().some((r) => r.path === paths.flaky && r.outcome === 'delivered') ? true : undefined,
  );
  await until('the other deliveries', () =>
    received().filter((r) => r.outcome === 'delivered').length >= 4 ? true : undefined,
  );
  // Room for a wrong extra delivery (the duplicate outbox event, a retry after success) to show up.
  await sleep(2_500);
}, 120_000);

describe('webhook delivery', () => {
  it('signs every delivery so that the Python receiver verifies it', () => {
    const all = received();
    expect(all.length).toBeGreaterThanOrEqual(7);
    expect(all.filter((r) => r.outcome === 'bad_signature' || r.outcome === 'unknown_path')).toEqual([]);
  });

  it('sends the documented body', () => {
    const steady = received().find(
      (r) => r.path === paths.steady && r.event_id === 'batch.completed:batch_wh1',
    );
    expect(JSON.parse(steady?.body ?? '{}')).toEqual({
      event: 'batch.completed',
      batch_id: 'batch_wh1',
      timestamp: '2026-03-21T11:00:00Z',
      data: completedData,
    });
  });

  it('delivers each subscribed event once per endpoint, even when the outbox holds it twice', () => {
    const delivered = received()
      .filter((r) => r.outcome === 'delivered')
      .map((r) => `${r.path} ${r.event_id}`)
      .sort();
    expect(delivered).toEqual(
      [
        `${paths.bobs} batch.completed:batch_bob`,
        `${paths.flaky} batch.completed:batch_wh1`,
        `${paths.steady} batch.completed:batch_wh1`,
        `${paths.steady} lead.qualified:l1`,
      ].sort(),
    );
  });

  it('retries a receiver that fails the first three attempts until it accepts, then stops', () => {
    const flaky = received().filter((r) => r.path === paths.flaky);
    expect(flaky.map((r) => [r.outcome, r.attempt])).toEqual([
      ['failed_on_purpose', '1'],
      ['failed_on_purpose', '2'],
      ['failed_on_purpose', '3'],
      ['delivered', '4'],
    ]);
  });

  it("never sends an unsubscribed event, nor one account's events to another's endpoint", () => {
    const all = received();
    expect(all.filter((r) => r.event_id.startsWith('batch.failed'))).toEqual([]);
    expect(all.filter((r) => r.path === paths.bobs).map((r) => r.event_id)).toEqual([
      'batch.completed:batch_bob',
    ]);
  });

  it('lists every attempt with its status code, from ClickHouse', async () => {
    const attempts = await until('four logged attempts', async () => {
      const res = await gw.json('GET', `/webhooks/${ids.flaky}/deliveries`, undefined, alice.token);
      expect(res.status).toBe(200);
      const rows = (await res.json()) as Json[];
      return rows.length >= 4 ? rows : undefined;
    });
    expect(
      attempts
        .map((a) => [a.event_id, a.attempt, a.status_code, a.success])
        .sort((x, y) => Number(x[1]) - Number(y[1])),
    ).toEqual([
      ['batch.completed:batch_wh1', 1, 500, false],
      ['batch.completed:batch_wh1', 2, 500, false],
      ['batch.completed:batch_wh1', 3, 500, false],
      ['batch.completed:batch_wh1', 4, 200, true],
    ]);
    for (const a of attempts) {
      expect(a.event).toBe('batch.completed');
      expect(a.latency_ms).toEqual(expect.any(Number));
      expect(String(a.timestamp)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    const failed = attempts.find((a) => a.attempt === 1);
    expect(failed?.error).toMatch(/500/);
  });

  it('counts attempts and pending jobs in /metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${dispatcher?.port}/metrics`)).text();
    expect(text).toMatch(/^leedrush_webhook_attempts_total\{result="success",service="webhooks"\} 4$/m);
    expect(text).toMatch(/^leedrush_webhook_attempts_total\{result="failure",service="webhooks"\} 3$/m);
    expect(text).toMatch(/^leedrush_webhook_pending_jobs\{service="webhooks"\} 0$/m);
  });

  it("answers 404 for another account's endpoint deliveries", async () => {
    const res = await gw.json('GET', `/webhooks/${ids.flaky}/deliveries`, undefined, bob.token);
    expect(res.status).toBe(404);
  });

  // Last: the counters checked above do not include it.
  it('delivers a test event, signed, to the one endpoint it was sent to, and logs it', async () => {
    const res = await gw.json('POST', `/webhooks/${ids.flaky}/test`, undefined, alice.token);
    expect(res.status).toBe(202);
    const { event_id } = (await res.json()) as { event_id: string };
    const delivery = await until('the test event', () =>
      received().find((r) => r.event_id === event_id && r.outcome === 'delivered'),
    );
    expect(delivery.path).toBe(paths.flaky);
    expect(received().filter((r) => r.event_id === event_id)).toHaveLength(1);
    const body = JSON.parse(delivery.body);
    expect(body).toMatchObject({ event: 'webhook.test', batch_id: null, data: { endpoint_id: ids.flaky } });
    const logged = await until('the logged test attempt', async () => {
      const rows = (await (
        await gw.json('GET', `/webhooks/${ids.flaky}/deliveries`, undefined, alice.token)
      ).json()) as Json[];
      return rows.find((a) => a.event_id === event_id);
    });
    expect(logged).toMatchObject({ event: 'webhook.test', attempt: 1, status_code: 200, success: true });
  });
});
