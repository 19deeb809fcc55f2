import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig, REPO_ROOT } from '../../services/lib/config.ts';
import { heapFlags } from '../../services/lib/heap-limits.ts';
import { PHASE_CHAIN } from '../../topology/topics.ts';
import { cleanupIsolated, isolatedPrefix } from '../support/isolated.ts';
import { freeTcpPort, freeTcpPortRun } from '../support/services.ts';

/**
 * The documented client flow (scripts/api-flow.sh: curl and jq only, following API.md literally)
 * against the whole product started the way a developer starts it (`npm start`), on a prefix of its own.
 */
const prefix = isolatedPrefix('flow');
const workDir = mkdtempSync(join(tmpdir(), 'leedrush-flow-'));
const port = await freeTcpPort();
const env = {
  ...process.env,
  LEEDRUSH_PREFIX: prefix,
  CLICKHOUSE_DATABASE: `${prefix}_leedrush`,
  GATEWAY_PORT: String(port),
  // npm start gives each service the next port up from this base.
  METRICS_BASE_PORT: String(await freeTcpPortRun(16)),
  UPLOAD_DIR: join(workDir, 'uploads'),
  LOG_LEVEL: 'warn',
  // The gateway verifies, and scripts/stripe-event.sh signs, Stripe's events with this secret.
  STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(16).toString('hex')}`,
};
const start = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
  cwd: REPO_ROOT,
  env,
  stdio: ['ignore', 'pipe', 'pipe'],
});
let log = '';
for (const s of [start.stdout, start.stderr]) s.on('data', (b: Buffer) => (log += b.toString()));

afterAll(async () => {
  if (start.exitCode === null) {
    start.kill('SIGTERM');
    await new Promise((r) => start.once('exit', r));
  }
  await cleanupIsolated(loadConfig(undefined, env) as Config);
  rmSync(workDir, { recursive: true, force: true });
});

async function waitForGateway(): Promise<void> {
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    if (start.exitCode !== null) throw new Error(`npm start exited ${start.exitCode}:\n${log}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`gateway not up:\n${log}`);
}

describe('the documented curl + jq client against npm start', () => {
  it('registers, buys a plan, processes, downloads, tops up and downloads an invoice PDF', async () => {
    await waitForGateway();
    const out = join(workDir, 'qualified.csv');
    const invoicePdf = join(workDir, 'invoice.pdf');
    const run = spawnSync('bash', ['scripts/api-flow.sh', 'test/fixtures/samples/leads.csv', out], {
      cwd: REPO_ROOT,
      env: { ...env, BASE_URL: `http://127.0.0.1:${port}/api`, TIMEOUT_S: '240', INVOICE_PDF: invoicePdf },
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(run.status, `${run.stderr}\n${log.slice(-4000)}`).toBe(0);
    const [billingLine, summaryLine] = run.stdout.trim().split('\n').slice(-2);
    const summary = JSON.parse(summaryLine ?? '{}');
    expect(summary).toMatchObject({ status: 'completed', rows_total: 202 });
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(
      /^status,score,full_name,title_normalized,email,email_status,phone,phone_status/,
    );
    expect(lines.length - 1).toBe(summary.rows_qualified);
    expect(summary.rows_qualified).toBeGreaterThan(0);
    for (const line of lines.slice(1)) expect(line.startsWith('QUALIFIED,')).toBe(true);

    // Billing: starter's default 2,500 credits, less the leads metered, plus the 1,000 topped up.
    const billing = JSON.parse(billingLine ?? '{}');
    expect(billing).toMatchObject({ plan_id: 'starter', credits_total: 2500 });
    expect(billing.total_consumed).toBeGreaterThan(0);
    expect(billing.total_consumed).toBeLessThanOrEqual(summary.rows_total);
    expect(billing.credits_remaining).toBeLessThan(3500);
    expect(billing.invoices.map((i: { amount: number }) => i.amount)).toEqual([100, 99]);
    const pdf = spawnSync('pdftotext', [invoicePdf, '-'], { encoding: 'utf8' });
    expect(pdf.status, pdf.stderr).toBe(0);
    expect(pdf.stdout).toContain(`Invoice ${billing.invoices[0].invoice_number}`);
    expect(pdf.stdout).toContain('Total: 100.00 USD');
  });

  it('runs every pipeline service with the heap limit services/lib/heap-limits.ts gives it', async () => {
    await waitForGateway();
    for (const [i, name] of PHASE_CHAIN.map((p) => p.name).entries()) {
      const metrics = await fetch(`http://127.0.0.1:${Number(env.METRICS_BASE_PORT) + i}/metrics`).then((r) =>
        r.text(),
      );
      const limit = /^nodejs_heap_size_limit_bytes\{[^}]*\} (\d+)$/m.exec(metrics)?.[1];
      expect(Number(limit), name).toBe(heapLimitWith(heapFlags(name)));
    }
    expect(heapLimitWith(heapFlags('standardize'))).toBeLessThan(heapLimitWith([]) / 4);
  });
});

/** V8's heap size limit in a node started with these flags. */
function heapLimitWith(flags: string[]): number {
  const out = spawnSync(
    process.execPath,
    [...flags, '-p', 'require("v8").getHeapStatistics().heap_size_limit'],
    {
      encoding: 'utf8',
    },
  );
  return Number(out.stdout.trim());
}
