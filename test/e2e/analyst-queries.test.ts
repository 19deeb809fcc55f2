import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../services/lib/config.ts';
import { billingOf, until } from '../support/billing.ts';
import {
  messyLeadCsv,
  type PipelineRun,
  startPipelineRun,
  submitUpload,
  waitForAnnounced,
} from '../support/pipeline.ts';
import { type RunningService, serviceEnv, startService } from '../support/services.ts';

// docs/analysts.md promises that every example query runs as written: a messy upload (rejections,
// duplicates, sandbox enrichment calls, credits consumed by the usage service) goes through the real
// pipeline into the run's ClickHouse database, then each ```sql block of the doc runs there and must
// answer rows.

const ROWS = 400;
const ACCOUNT = 'acct_e2e_analysts';
const bytes = messyLeadCsv(ROWS, 20261204);

const doc = readFileSync(join(REPO_ROOT, 'docs', 'analysts.md'), 'utf8');
const queries = [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => (m[1] ?? '').trim());

let run: PipelineRun | undefined;
let usage: RunningService | undefined;

beforeAll(async () => {
  run = await startPipelineRun('e2e_analysts', bytes, { providers: 'sandbox' });
  usage = await startService('usage', serviceEnv(run.config));
  const { config, tracker, uploadDir, redis, ch } = run;
  const { batch } = await submitUpload(config, tracker, {
    uploadDir,
    accountId: ACCOUNT,
    filename: 'analysts.csv',
    bytes,
  });
  const done = await waitForAnnounced(tracker, ACCOUNT, batch.batch_id, 180_000);
  expect(done.status).toBe('completed');
  // The usage service writes the batch's consumption a moment after the sink announced it.
  const billing = billingOf(config, redis, ch);
  await until('credit consumption in ClickHouse', async () =>
    (await billing.consumed(ACCOUNT)) > 0 ? true : undefined,
  );
}, 300_000);

afterAll(async () => {
  await usage?.stop();
  await run?.close();
}, 120_000);

describe('docs/analysts.md', () => {
  it('has example queries', () => {
    expect(queries.length).toBeGreaterThanOrEqual(8);
  });

  it.each(queries.map((q) => [q.split('\n')[0] ?? q, q]))('runs: %s', async (_first, query) => {
    if (!run) throw new Error('pipeline not started');
    const result = await run.ch.query({ query, format: 'JSONEachRow' });
    const rows = await result.json<Record<string, unknown>>();
    expect(rows.length, query).toBeGreaterThan(0);
  });
});
