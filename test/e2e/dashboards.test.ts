/**
 * The operator dashboards against real data: a lead file goes through the real pipeline (every service
 * its own process on an isolated prefix, the sandbox providers), uploaded through a real gateway with
 * webhook endpoints that answer, fail once, and always fail; a poison message reaches a DLQ; the plan's
 * rate limit refuses requests. The stack's own Prometheus scrapes every one of those processes (their
 * file_sd targets, labelled with the run's prefix). Then every panel of every provisioned dashboard runs
 * its query — PromQL through Prometheus's HTTP API, SQL through the ClickHouse client on the run's
 * database — with the dashboard's variables resolved as it defines them, and none may fail or be empty.
 * The dashboard server renders each page, and headless Chromium keeps a screenshot of it in
 * .artifacts/dashboards/.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve } from '@hono/node-server';
import { Kafka } from 'kafkajs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProvisioning, type Provisioned } from '../../scripts/dashboards/model.ts';
import {
  hasData,
  type PanelResult,
  parseTime,
  resolveVariables,
  runPanel,
  type TimeRange,
} from '../../scripts/dashboards/query.ts';
import { dashboardApp } from '../../scripts/dashboards/server.ts';
import { prometheusTargetsDir, writeScrapeTarget } from '../../scripts/stack/components/prometheus.ts';
import { stackPaths } from '../../scripts/stack/paths.ts';
import { REPO_ROOT } from '../../services/lib/config.ts';
import { TOPICS, topicName } from '../../services/lib/names.ts';
import { launchChromium } from '../support/browser.ts';
import { serveGateway } from '../support/gateway.ts';
import { type PipelineRun, startPipelineRun, waitForAnnounced } from '../support/pipeline.ts';
import { PLENTY_OF_CREDITS, type RunningService, serviceEnv, startService } from '../support/services.ts';

const SAMPLE = join(REPO_ROOT, 'test/fixtures/samples/leads.csv');
const ARTIFACTS = join(REPO_ROOT, '.artifacts', 'dashboards');
const PROMETHEUS_URL = () => process.env.PROMETHEUS_URL ?? 'http://127.0.0.1:9090';
const allowLoopback = { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' };

let run: PipelineRun | undefined;
let gateway: Awaited<ReturnType<typeof serveGateway>> | undefined;
const extra: RunningService[] = [];
const targetFiles: string[] = [];
let receiver: Server | undefined;
let dashboardServer: Server | undefined;
let browser: Browser | undefined;
/** Attempts per receiver path: /flaky fails its first attempt, /down every attempt. */
const attempts = new Map<string, number>();
/** What the receiver answered: every attempt the dispatcher made, by outcome. */
const answered = { ok: 0, failed: 0 };

function startReceiver(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '';
      const n = (attempts.get(path) ?? 0) + 1;
      attempts.set(path, n);
      const fail = path === '/down' || (path === '/flaky' && n === 1);
      answered[fail ? 'failed' : 'ok']++;
      res.writeHead(fail ? 503 : 200).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function promQuery(
  query: string,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`${PROMETHEUS_URL()}/api/v1/query?${new URLSearchParams({ query })}`);
  const body = (await res.json()) as { status: string; data: { result: never[] }; error?: string };
  if (body.status !== 'success') throw new Error(`${query}: ${body.error}`);
  return body.data.result;
}

/** Polls until `check` returns true; the last reading goes into the timeout's message. */
async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  detail = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(2_000);
  }
  throw new Error(`${what}: not after ${timeoutMs} ms ${detail()}`);
}

const prefix = () => run?.config.LEEDRUSH_PREFIX ?? '';
const scraped = (service: string, port: number) => {
  targetFiles.push(
    writeScrapeTarget(prometheusTargetsDir(stackPaths()), `${prefix()}-${service}`, `127.0.0.1:${port}`, {
      service,
      prefix: prefix(),
    }),
  );
};

type Api = (method: string, path: string, body?: unknown, token?: string) => Promise<Response>;
const api: Api = (method, path, body, token) =>
  fetch(`${gateway?.url}/api${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

async function ok<T>(res: Promise<Response>, status = 200): Promise<T> {
  const r = await res;
  const text = await r.text();
  if (r.status !== status) throw new Error(`${r.url}: ${r.status} ${text}`);
  return JSON.parse(text) as T;
}

const batchIds: string[] = [];
let accountId = '';
/** 429s the bursts got, both rounds: the gateway's last requests, so Prometheus has all once it has these. */
let refusedTotal = 0;

/** Uploads the sample under `filename`, starts its batch and waits until the sink announced it. */
async function processSample(token: string, filename: string): Promise<string> {
  const upload = () => {
    const form = new FormData();
    form.append('file', new Blob([readFileSync(SAMPLE)], { type: 'text/csv' }), filename);
    return fetch(`${gateway?.url}/api/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
  };
  expect((await waitingOut429(upload)).status).toBe(201);
  const { batch_id } = await ok<{ batch_id: string }>(
    waitingOut429(() => api('POST', '/process', { filename }, token)),
    201,
  );
  batchIds.push(batch_id);
  if (!run) throw new Error('no run');
  await waitForAnnounced(run.tracker, accountId, batch_id, 240_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${run?.pipeline.output().slice(-6_000)}`);
  });
  return batch_id;
}

/** Sends again after a 429's Retry-After (a burst before may have used up the minute), as a client does. */
async function waitingOut429(send: () => Promise<Response>): Promise<Response> {
  for (let i = 0; ; i++) {
    const res = await send();
    if (res.status !== 429 || i === 3) return res;
    await res.arrayBuffer();
    await sleep(Number(res.headers.get('retry-after') ?? 5) * 1000 + 250);
  }
}

/** payg allows 30 requests a minute: a burst of 40 gets some refused with 429. */
async function burst(token: string): Promise<void> {
  const statuses = await Promise.all(
    Array.from({ length: 40 }, () => api('GET', '/batches', undefined, token)),
  );
  await Promise.all(statuses.map((r) => r.arrayBuffer()));
  const refused = statuses.filter((r) => r.status === 429).length;
  expect(refused).toBeGreaterThan(0);
  refusedTotal += refused;
}

beforeAll(async () => {
  run = await startPipelineRun('dashboards', readFileSync(SAMPLE), { providers: 'sandbox' });
  const config = run.config;
  const [usage, webhooks] = await Promise.all([
    startService('usage', serviceEnv(config)),
    startService(
      'webhooks',
      serviceEnv(config, {
        ...allowLoopback,
        WEBHOOK_POLL_MS: '100',
        WEBHOOK_LOG_FLUSH_MS: '200',
        // Three attempts 300 ms apart: /down is given up within the test.
        WEBHOOK_RETRY_SCHEDULE: '300ms,300ms',
      }),
    ),
  ]);
  extra.push(usage as RunningService, webhooks as RunningService);
  // The gateway opens accounts with the same plenty of credits as the meter: both batches run through.
  gateway = await serveGateway(config, {
    ...allowLoopback,
    UPLOAD_DIR: run.uploadDir,
    BILLING_PLAN_CREDITS: PLENTY_OF_CREDITS,
  });
  for (const s of [...run.pipeline.services, ...extra]) scraped(s.name, s.port);
  scraped('gateway', Number(new URL(gateway.url).port));
  receiver = await startReceiver();
  const hooks = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  // Counters scraped before the work starts: Prometheus sees every rise (a series first scraped at its
  // final value has no increase), as it does for services that run for long.
  const p = `prefix="${prefix()}"`;
  const targets = run.pipeline.services.length + extra.length + 1;
  await until(
    'every target scraped',
    async () => (await promQuery(`count(up{job="leedrush",${p}} == 1) >= ${targets}`)).length > 0,
    120_000,
  );

  // Round 1, the customer's side through the gateway's HTTP API: an account, three webhook endpoints, a batch.
  const email = `ops${Date.now()}@example.com`;
  const password = 'a long enough password';
  const user = await ok<{ user_id: string }>(
    api('POST', '/auth/register', { email, password, company: 'Ops' }),
    201,
  );
  const { access_token: token } = await ok<{ access_token: string }>(
    api('POST', '/auth/login', { email, password }),
  );
  accountId = (await gateway.deps.accounts.byId(user.user_id))?.account_id ?? '';
  for (const path of ['/ok', '/flaky', '/down']) {
    await ok(api('POST', '/webhooks', { url: `${hooks}${path}`, events: ['batch.completed'] }, token), 201);
  }
  await processSample(token, 'leads.csv');
  // Client errors the gateway panels must show: a bad body, a missing token.
  expect((await api('POST', '/process', { filename: 42 }, token)).status).toBe(400);
  expect((await api('GET', '/batches')).status).toBe(401);
  // A message that is not Avro: standardize copies it to its DLQ.
  const kafka = new Kafka({ clientId: 'dashboards-e2e', brokers: config.KAFKA_BROKERS, logLevel: 0 });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: topicName(prefix(), TOPICS.raw),
    messages: [{ key: 'poison', value: '{"not":"avro"}' }],
  });
  await producer.disconnect();
  await burst(token);

  // Round 2 once round 1 is scraped: the series born in round 1 (each route and status, each rejection
  // reason) now rise from a sample Prometheus has, as on a gateway that has been up for a while.
  await until(
    'round 1 scraped',
    async () => (await promQuery(`sum(leedrush_http_requests_total{${p},status="429"}) > 0`)).length > 0,
    120_000,
  );
  await processSample(token, 'leads-again.csv');
  await burst(token);
}, 600_000);

afterAll(async () => {
  await browser?.close();
  dashboardServer?.close();
  receiver?.close();
  for (const f of targetFiles) rmSync(f, { force: true });
  await Promise.all(extra.map((s) => s.stop()));
  await gateway?.close();
  await run?.close();
}, 120_000);

describe('operator dashboards on a real batch', () => {
  let provisioned: Provisioned;
  let range: TimeRange;
  const results = new Map<string, PanelResult[]>();

  it('the stack Prometheus scrapes the run: lag, DLQ, webhook failures and the gateway are in', async () => {
    const p = `prefix="${prefix()}"`;
    // Everything the run did, once scraped after it happened (15 s scrapes).
    const wanted: Record<string, string> = {
      'both batch requests consumed by ingest': `sum(leedrush_runtime_consumed_total{${p},service="ingest"}) >= 2`,
      'lag per consumer group': `count(count by (group) (leedrush_runtime_consumer_lag{${p}})) >= 9`,
      'the poison record in a DLQ': `sum(leedrush_runtime_dlq_total{${p},service="standardize",cause="decode"}) >= 1`,
      'every successful delivery': `sum(leedrush_webhook_attempts_total{${p},result="success"}) >= ${answered.ok}`,
      'every failed attempt': `sum(leedrush_webhook_attempts_total{${p},result="failure"}) >= ${answered.failed}`,
      'a delivery given up per batch': `sum(leedrush_webhook_given_up_total{${p}}) >= 2`,
      'credits charged for both batches': `sum(leedrush_billing_credits_charged_total{${p}}) >= 400`,
      'every 429 of both bursts': `sum(leedrush_http_requests_total{${p},status="429"}) >= ${refusedTotal}`,
    };
    const missing = new Set(Object.keys(wanted));
    await until(
      'Prometheus has the run',
      async () => {
        for (const [what, q] of Object.entries(wanted)) if ((await promQuery(q)).length) missing.delete(what);
        return missing.size === 0;
      },
      120_000,
      () => `; missing: ${[...missing].join(', ')}`,
    );
  }, 180_000);

  it('every panel of every dashboard answers with data', async () => {
    provisioned = loadProvisioning(join(REPO_ROOT, 'grafana'), {
      ...process.env,
      LEEDRUSH_DASHBOARDS_DIR: join(REPO_ROOT, 'grafana', 'dashboards'),
    });
    expect(provisioned.dashboards.map((d) => d.dashboard.uid).sort()).toEqual([
      'leedrush-billing',
      'leedrush-enrichment',
      'leedrush-gateway',
      'leedrush-pipeline',
      'leedrush-webhooks',
    ]);
    range = { from: parseTime('now-15m'), to: parseTime('now') };
    const failures: string[] = [];
    const summary: Record<string, Record<string, unknown>> = {};
    for (const { dashboard } of provisioned.dashboards) {
      // $prefix is a query variable: the run's prefix must be among the values it offers.
      const { vars, options } = await resolveVariables(
        dashboard,
        { datasources: provisioned.datasources, range },
        { prefix: prefix(), database: run?.config.CLICKHOUSE_DATABASE },
      );
      expect(options.prefix).toContain(prefix());
      const panels = await Promise.all(
        dashboard.panels.map((p) => runPanel(p, { datasources: provisioned.datasources, range, vars })),
      );
      results.set(dashboard.uid, panels);
      summary[dashboard.uid] = {};
      for (const r of panels) {
        for (const t of r.targets) {
          const where = `${dashboard.uid} / "${r.panel.title}" / ${t.refId}`;
          if (t.error) failures.push(`${where}: ${t.error}\n    ${t.query}`);
          else if (!hasData(t.frame)) failures.push(`${where}: no data\n    ${t.query}`);
        }
        (summary[dashboard.uid] as Record<string, unknown>)[r.panel.title] = r.targets.map((t) =>
          t.frame?.kind === 'table'
            ? { columns: t.frame.columns, rows: t.frame.rows.slice(0, 8) }
            : t.frame?.series.map((s) => ({
                name: s.name,
                last: s.points.at(-1)?.[1],
                max: Math.max(...s.points.map((x) => x[1])),
              })),
        );
      }
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'panels.json'), `${JSON.stringify(summary, null, 2)}\n`);
    expect(failures).toEqual([]);
  }, 120_000);

  it('shows what the run did: its batches, the DLQ record, deliveries given up, the 429s', () => {
    const table = (uid: string, title: string) => {
      const frame = results.get(uid)?.find((r) => r.panel.title === title)?.targets[0]?.frame;
      if (frame?.kind !== 'table') throw new Error(`${uid} / ${title}: no table`);
      return frame.rows.map((row) => Object.fromEntries(frame.columns.map((c, i) => [c, row[i]])));
    };
    const stat = (uid: string, title: string) =>
      results
        .get(uid)
        ?.find((r) => r.panel.title === title)
        ?.targets.flatMap((t) => (t.frame?.kind === 'series' ? t.frame.series : []))
        .map((s) => ({ name: s.name, value: s.points.at(-1)?.[1] ?? Number.NaN })) ?? [];
    const batches = table('leedrush-pipeline', 'Processing time per lead batch');
    // 202 rows in the sample: every one accounted for in each batch.
    for (const [i, id] of batchIds.entries()) {
      const batch = batches.find((r) => r.batch_id === id);
      expect(batch).toMatchObject({ filename: ['leads.csv', 'leads-again.csv'][i], status: 'completed' });
      expect(Number(batch?.rows_total)).toBe(202);
    }
    expect(
      stat('leedrush-pipeline', 'DLQ records in range').find((s) => s.name === 'standardize')?.value,
    ).toBeGreaterThanOrEqual(1);
    // /down fails all three attempts of each batch's event.
    expect(stat('leedrush-webhooks', 'Deliveries given up in range')[0]?.value).toBeGreaterThanOrEqual(2);
    expect(stat('leedrush-gateway', 'Rate-limited requests (429) per route').some((s) => s.value > 0)).toBe(
      true,
    );
    // The delivery log agrees with what the receiver answered, attempt for attempt.
    const deliveries = table('leedrush-webhooks', 'Deliveries per event').find(
      (r) => r.event === 'batch.completed',
    );
    expect(deliveries).toMatchObject({
      delivered: String(answered.ok),
      failed_attempts: String(answered.failed),
      max_attempt: 3,
    });
    // One credit per lead that entered the pipeline (the row ingest rejected never did).
    const credits = table('leedrush-billing', 'Credits per batch');
    for (const id of batchIds) {
      expect(Number(credits.find((r) => r.batch_id === id)?.credits_consumed), id).toBe(201);
    }
  });

  it('the dashboard server renders every dashboard with data, and Chromium screenshots it', async () => {
    const app = dashboardApp({
      env: { ...process.env, LEEDRUSH_DASHBOARDS_DIR: join(REPO_ROOT, 'grafana', 'dashboards') },
    });
    dashboardServer = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
    });
    const base = `http://127.0.0.1:${(dashboardServer.address() as AddressInfo).port}`;
    const query = new URLSearchParams({
      'var-prefix': prefix(),
      'var-database': run?.config.CLICKHOUSE_DATABASE ?? '',
      // The run's whole life fits in five minutes: the pictures show its shape, not 10 idle minutes.
      from: 'now-5m',
    });
    // A prefix the variable does not offer is refused with the reason.
    const bad = await fetch(`${base}/d/leedrush-pipeline?var-prefix=nope`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('is not among');

    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const { dashboard } of provisioned.dashboards) {
      const res = await page.goto(`${base}/d/${dashboard.uid}?${query}`);
      expect(res?.status()).toBe(200);
      const panels = await page.locator('section.panel').count();
      expect(panels).toBe(dashboard.panels.length);
      expect(await page.locator('[data-state]').allTextContents()).toEqual([]);
      await page.screenshot({ path: join(ARTIFACTS, `${dashboard.uid}.png`), fullPage: true });
    }
  }, 120_000);
});
