/**
 * The web dashboard in a real headless Chromium (Debian's, driven by playwright-core), as a customer
 * uses it: register and sign in, upload a lead file with progress, watch the batch list until the
 * batch completes (the real pipeline: every service's main.ts on an isolated prefix), open the
 * results and download the CSV, manage a webhook endpoint (secret shown once, a test event delivered
 * to a receiver on 127.0.0.1 and shown in the delivery log), and the account page (token, plan).
 *
 * The pages run under the Content-Security-Policy the gateway itself sends them (default-src 'self',
 * frame-ancestors 'none': gateway/middleware/security-headers.ts): any inline script, handler or style
 * would be refused and fail the test.
 * Screenshots of every step are kept in .artifacts/browser/.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../services/lib/config.ts';
import { BROWSER_ARTIFACTS, launchChromium } from '../support/browser.ts';
import { serveGateway } from '../support/gateway.ts';
import { type PipelineRun, startPipelineRun } from '../support/pipeline.ts';
import { type RunningService, serviceEnv, startService } from '../support/services.ts';

const SAMPLE = join(REPO_ROOT, 'test/fixtures/samples/leads.csv');
/** The dashboard's policy as the gateway sends it: its own files only, never framed. */
const CSP = /^default-src 'self';.*frame-ancestors 'none'/;

interface Delivery {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

let run: PipelineRun | undefined;
let dispatcher: RunningService | undefined;
let gateway: Awaited<ReturnType<typeof serveGateway>> | undefined;
let receiver: Server | undefined;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
let base = '';
let hookUrl = '';
const deliveries: Delivery[] = [];
/** Console errors and uncaught exceptions of the pages: CSP refusals show up here. */
const pageErrors: string[] = [];
/** "<status> <path>" of every API answer that was an error: only those the test asked for may be here. */
const failedRequests: string[] = [];

function startReceiver(): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  run = await startPipelineRun('web_dashboard', readFileSync(SAMPLE), { providers: 'sandbox' });
  // Loopback receivers are refused by the address guard unless allow-listed (development and tests).
  const allowLoopback = { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' };
  dispatcher = await startService(
    'webhooks',
    serviceEnv(run.config, { ...allowLoopback, WEBHOOK_POLL_MS: '100', WEBHOOK_LOG_FLUSH_MS: '200' }),
  );
  gateway = await serveGateway(run.config, { ...allowLoopback, UPLOAD_DIR: run.uploadDir });
  base = gateway.url;
  receiver = await startReceiver();
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/dashboard`;

  browser = await launchChromium();
  context = await browser.newContext({
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    locale: 'en-US',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const failed = /^Failed to load resource: the server responded with a status of (\d+)/.exec(msg.text());
    // The client waits out a 429 and sends again: not an error of the page.
    if (failed?.[1] === '429') return;
    if (failed) failedRequests.push(`${failed[1]} ${new URL(msg.location().url).pathname}`);
    else pageErrors.push(`${msg.text()} (${msg.location().url})`);
  });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  receiver?.close();
  await dispatcher?.stop();
  await gateway?.close();
  await run?.close();
});

/** The whole page, or only what the window shows (a results table runs long). */
const shot = (name: string, fullPage = true) =>
  page.screenshot({ path: join(BROWSER_ARTIFACTS, `${name}.png`), fullPage });
const text = async (selector: string) => (await page.locator(selector).textContent()) ?? '';
const token = () => page.evaluate<string>("sessionStorage.getItem('leedrush.token') ?? ''");

/** The API as a script would call it, with the browser's token: what the page must agree with. */
async function apiGet(path: string): Promise<Response> {
  return fetch(`${base}/api${path}`, { headers: { authorization: `Bearer ${await token()}` } });
}

const email = `web${Date.now()}@example.com`;
let batchId = '';

describe('the web dashboard in headless Chromium', () => {
  it('registers, signs in and lands on the batches page', async () => {
    const res = await page.goto(`${base}/app/`);
    expect(res?.headers()['content-security-policy']).toMatch(CSP);
    await shot('01-sign-in');
    // A too-short password: the server's own reason is shown.
    await page.fill('#register-form [name=email]', email);
    await page.fill('#register-form [name=password]', 'short');
    await page.fill('#register-form [name=company]', 'Acme Web');
    await page.click('#register-form button[type=submit]');
    await page.locator('#register-message[data-kind=error]').waitFor();
    expect(await text('#register-message')).toMatch(/password/i);

    await page.fill('#register-form [name=password]', 'a long enough password');
    await page.click('#register-form button[type=submit]');
    await page.waitForURL(`${base}/app/batches`);
    expect(await token()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(await text('header')).toContain(email);
    await page.locator('#batches td.empty').waitFor();
  });

  it('uploads a file with progress, then the batch list follows the batch until it is completed', async () => {
    await page.evaluate('window.notReloaded = true');
    await page.setInputFiles('#upload-form [name=file]', SAMPLE);
    await page.click('#upload-form button[type=submit]');
    await page.locator('#upload-message a').waitFor();
    expect(await page.locator('#upload-progress').getAttribute('value')).toBe('100');
    expect(await text('#upload-message')).toMatch(/^Batch batch_\w+ queued: 202 rows\.$/);
    batchId = (await text('#upload-message a')).trim();
    await shot('02-uploaded');

    // What the list shows, read every half second until the row says completed.
    const row = page.locator('#batches tbody tr', { hasText: batchId });
    const seen: string[] = [];
    let processingShot = false;
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      const status = (await row.locator('.badge').textContent()) ?? '';
      if (seen.at(-1) !== status) seen.push(status);
      if (status === 'completed') break;
      if (status === 'processing' && !processingShot) {
        processingShot = true;
        await shot('03-processing');
      }
      await sleep(500);
    }
    expect(seen.at(-1), `statuses seen: ${seen.join(' → ')}\n${run?.pipeline.output()}`).toBe('completed');
    expect(seen.length).toBeGreaterThan(1);
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    expect(await page.locator('#batches-state').getAttribute('data-polling')).toBe('false');

    const api = (await (await apiGet(`/batches/${batchId}`)).json()) as Record<string, number>;
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(0, 6)).toEqual([
      batchId,
      'leads.csv',
      'completed',
      '202',
      String(api.rows_qualified),
      String(api.rows_failed),
    ]);
    await shot('04-completed');
  }, 360_000);

  it("opens the batch's results and downloads the same CSV the API returns", async () => {
    await page.click(`#batches a:text("${batchId}")`);
    await page.waitForURL(`${base}/app/batch?id=${batchId}`);
    await page.locator('#results-state[data-count]').waitFor();
    const apiJson = (await (await apiGet(`/batches/${batchId}/download?format=json`)).json()) as Array<{
      contact: { email: string };
    }>;
    expect(apiJson.length).toBeGreaterThan(0);
    expect(await page.locator('#results tbody tr').count()).toBe(apiJson.length);
    const tableEmails = await page.locator('#results tbody tr td:nth-child(5)').allTextContents();
    expect(tableEmails).toEqual(apiJson.map((l) => l.contact.email));
    await shot('05-results', false);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
    expect(download.suggestedFilename()).toBe('leads_qualified.csv');
    const saved = join(BROWSER_ARTIFACTS, download.suggestedFilename());
    await download.saveAs(saved);
    const fromBrowser = readFileSync(saved, 'utf8');
    const fromApi = await (await apiGet(`/batches/${batchId}/download`)).text();
    expect(fromBrowser).toBe(fromApi);
    const rows = parse(fromBrowser, { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => r.email)).toEqual(tableEmails);
    expect(rows.every((r) => r.status === 'QUALIFIED')).toBe(true);

    // With every lead: the table grows to the batch's non-rejected rows, statuses other than QUALIFIED show.
    await page.check('#include-all');
    await expect
      .poll(async () => Number(await page.locator('#results-state').getAttribute('data-count')))
      .toBeGreaterThan(apiJson.length);
    const statuses = new Set(await page.locator('#results tbody tr td:nth-child(1)').allTextContents());
    expect(statuses.size).toBeGreaterThan(1);
  });

  it('creates a webhook endpoint, shows its secret once, and logs a delivered test event', async () => {
    await page.click('nav >> text=Webhooks');
    await page.waitForURL(`${base}/app/webhooks`);
    await page.locator('#webhooks td.empty').waitFor();

    // A target the address guard refuses: the server's reason, in clear.
    await page.fill('#webhook-form [name=url]', 'http://10.0.0.1/hooks');
    await page.check('#webhook-form [value="batch.completed"]');
    await page.click('#webhook-form button[type=submit]');
    await page.locator('#webhook-form-message[data-kind=error]').waitFor();
    expect(await text('#webhook-form-message')).toContain('non-public address 10.0.0.1');

    await page.fill('#webhook-form [name=url]', hookUrl);
    await page.click('#webhook-form button[type=submit]');
    await page.locator('#secret-panel:not([hidden])').waitFor();
    const secret = (await text('#secret-value')).trim();
    expect(secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    await page.click('#secret-copy');
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(secret);
    const row = page.locator('#webhooks tbody tr', { hasText: hookUrl });
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe('batch.completed');
    await shot('06-webhook-created');

    await page.reload();
    await row.waitFor();
    expect(await page.locator('#secret-panel').isHidden()).toBe(true);
    expect(await page.content()).not.toContain(secret);

    await row.locator('[data-action=send-test-event]').click();
    const logRow = page.locator('#deliveries tbody tr', { hasText: 'webhook.test' });
    await logRow.waitFor({ timeout: 30_000 });
    const logCells = await logRow.locator('td').allTextContents();
    expect(logCells.slice(1, 6)).toEqual([
      'webhook.test',
      expect.stringMatching(/^webhook\.test:/),
      '1',
      '200',
      'delivered',
    ]);
    await shot('07-webhook-delivery-log');

    // The receiver got it, signed with the secret the page showed (API.md's check).
    const got = deliveries.filter((d) => d.headers['x-leedrush-event'] === 'webhook.test');
    expect(got).toHaveLength(1);
    const [delivery] = got as [Delivery];
    expect(delivery.path).toBe('/hooks/dashboard');
    expect(delivery.headers['x-leedrush-event-id']).toBe(logCells[2]);
    expect(delivery.headers['x-leedrush-signature']).toBe(
      createHmac('sha256', secret).update(delivery.body).digest('hex'),
    );

    page.once('dialog', (d) => void d.accept());
    await row.locator('[data-action=delete]').click();
    await page.locator('#webhooks td.empty').waitFor();
    expect(await (await apiGet('/webhooks')).json()).toEqual([]);
  });

  it('shows the token with its expiry (copyable) and the plan and balance card', async () => {
    await page.click('nav >> text=Account');
    await page.waitForURL(`${base}/app/account`);
    await page.locator('#who dl').waitFor();
    expect(await text('#who')).toContain(email);
    // The token's own exp claim, as the page shows it (to the minute: the page counts from the login).
    const exp = JSON.parse(Buffer.from((await token()).split('.')[1] ?? '', 'base64url').toString()).exp;
    const expiry = await text('#token-expiry');
    expect(expiry).toContain(new Date(exp * 1000).toLocaleDateString('en-US'));
    const minutes = Number(/\(in (\d+) min\)$/.exec(expiry)?.[1]);
    expect(Math.abs(minutes - (exp * 1000 - Date.now()) / 60_000)).toBeLessThan(1.5);
    await page.click('#token-copy');
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(await token());

    await page.locator('#plan:not([data-state=loading])').waitFor();
    const billing = await apiGet('/billing/subscription');
    expect(billing.status).toBe(200);
    const s = (await billing.json()) as {
      plan_name: string;
      credits_remaining: number;
      credits_total: number;
    };
    expect(await page.locator('#plan').getAttribute('data-state')).toBe('available');
    expect(await text('#plan')).toContain(s.plan_name);
    expect(await text('#plan')).toContain(`of ${s.credits_total.toLocaleString('en-US')} credits left`);
    expect(await text('#credits-remaining')).toBe(s.credits_remaining.toLocaleString('en-US'));
    // The pipeline metered the batch this test uploaded: the card shows a balance below the plan's credits.
    expect(s.credits_remaining).toBeLessThan(s.credits_total);
    await shot('08-account');
  });

  it('signs out; the pages ran under the CSP without a refusal or an uncaught error', async () => {
    await page.click('#sign-out');
    await page.waitForURL(`${base}/app/`);
    expect(await token()).toBe('');
    await page.goto(`${base}/app/batches`);
    await page.waitForURL(`${base}/app/`);
    expect(pageErrors).toEqual([]);
    expect(failedRequests).toEqual(['400 /api/auth/register', '400 /api/webhooks']);
    // The policy is really enforced: a script injected inline does not run.
    const ran = await page.evaluate(`(() => {
      const s = document.createElement('script');
      s.textContent = 'window.inlineRan = true';
      document.head.append(s);
      return window.inlineRan === true;
    })()`);
    expect(ran).toBe(false);
  });
});
