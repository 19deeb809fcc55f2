import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchTracker } from '../../services/lib/batch-tracker.ts';
import { createClickHouse } from '../../services/lib/clickhouse.ts';
import { BaseConfig } from '../../services/lib/config.ts';
import { createRedis, keyspace } from '../../services/lib/redis.ts';
import { billingOf, cleanLeadCsv, until } from '../support/billing.ts';
import { cleanupIsolated, isolatedConfig } from '../support/isolated.ts';
import { submitUpload } from '../support/pipeline.ts';
import { type RunningService, serviceEnv, startService } from '../support/services.ts';

// Crashes of the metering path: ingest → standardize (the meter) → usage.events → usage (ClickHouse),
// each its main.ts in its own process. standardize is SIGKILLed with part of a batch charged, then
// restarted; later the usage service is SIGKILLed while writing, then restarted. Afterwards the balance
// and the usage table must equal the number of leads exactly: no lead charged twice, none missed.

const N = 20_000;
const CREDITS = 1_000_000;
const ACCOUNT = 'acct_billing_crash';

const config = await isolatedConfig('billing_crash', BaseConfig);
const uploadDir = mkdtempSync(join(tmpdir(), 'leedrush-billing-crash-'));
const redis = createRedis(config.REDIS_URL, 'billing-crash-test');
const ch = createClickHouse(config);
const billing = billingOf(config, redis, ch);
const env = (extra: Record<string, string> = {}) =>
  serviceEnv(config, { BILLING_PLAN_CREDITS: `payg=${CREDITS}`, ...extra });
const running = new Map<string, RunningService>();

async function start(name: string, extra: Record<string, string> = {}): Promise<RunningService> {
  const service = await startService(name, env(extra), { readyTimeoutMs: 120_000 });
  running.set(name, service);
  return service;
}

async function sigkill(service: RunningService): Promise<void> {
  const exited = new Promise((resolve) => service.proc.once('exit', resolve));
  service.proc.kill('SIGKILL');
  await exited;
}

const logs = () => [...running.values()].map((s) => `--- ${s.name}\n${s.output().slice(-4_000)}`).join('\n');

beforeAll(async () => {
  await Promise.all([start('ingest', { UPLOAD_DIR: uploadDir }), start('standardize'), start('usage')]);
}, 240_000);

afterAll(async () => {
  await Promise.all([...running.values()].map((s) => s.stop()));
  redis.disconnect();
  await ch.close();
  await cleanupIsolated(config);
  rmSync(uploadDir, { recursive: true, force: true });
}, 120_000);

describe('metering survives SIGKILL of the meter and of the usage writer', () => {
  it('ends with balance and usage_events exactly one credit per lead', async () => {
    const tracker = new BatchTracker(redis, keyspace(config.LEEDRUSH_PREFIX));
    await submitUpload(config, tracker, {
      uploadDir,
      accountId: ACCOUNT,
      filename: 'crash.csv',
      bytes: cleanLeadCsv(N, 'crash'),
    });
    const consumed = async () => {
      const balance = await billing.balance(ACCOUNT);
      return balance === undefined ? 0 : CREDITS - balance;
    };

    // The meter dies with the batch partly charged (and its last chunk's events possibly unsent).
    const atKill = await until(
      'a part of the batch charged',
      async () => {
        const n = await consumed();
        return n >= N / 5 ? n : undefined;
      },
      120_000,
      logs,
    );
    await sigkill(running.get('standardize') as RunningService);
    const afterKill = await consumed();
    expect(afterKill, 'killed halfway, not after the end').toBeLessThan(N);
    await start('standardize');

    // The usage writer dies while rows arrive.
    const rowsAtKill = await until(
      'usage rows arriving',
      async () => {
        const n = await billing.consumed(ACCOUNT);
        return n > 0 ? n : undefined;
      },
      120_000,
      logs,
    );
    await sigkill(running.get('usage') as RunningService);
    await start('usage');

    await until(
      'every lead charged',
      async () => ((await consumed()) >= N ? true : undefined),
      180_000,
      logs,
    );
    await until(
      'every consumption in usage_events',
      async () => ((await billing.consumed(ACCOUNT)) >= N ? true : undefined),
      180_000,
      logs,
    );
    // Let redeliveries land: nothing more may be charged or written.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await billing.balance(ACCOUNT)).toBe(CREDITS - N);
    expect(await billing.consumed(ACCOUNT)).toBe(N);
    expect(await billing.distinctLeadsCharged(ACCOUNT)).toBe(N);
    expect(await billing.creditSum(ACCOUNT)).toBe(CREDITS - N);
    console.log(
      `billing crash: standardize killed at ${atKill}–${afterKill} of ${N} charged; usage killed at ${rowsAtKill} rows`,
    );
  });
});
