import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { querySql, sql } from '../../services/lib/clickhouse.ts';
import { resultRowIndexes } from '../fixtures/sink/records.ts';
import {
  messyLeadCsv,
  type PipelineRun,
  startPipelineRun,
  submitUpload,
  waitForAnnounced,
} from '../support/pipeline.ts';

// The whole pipeline as deployed: seven services, each its main.ts in its own process, chained through
// the real Kafka, registry, Redis and ClickHouse. A messy 10,000-row export (broken rows, duplicates)
// goes in the way the gateway puts it in; the batch must complete with every row accounted for exactly
// once, and the tracker, the leads/rejections tables and the batches table must tell the same story.

const ROWS = 10_000;
const ACCOUNT = 'acct_e2e_pipeline';

let run: PipelineRun | undefined;
const bytes = messyLeadCsv(ROWS);

beforeAll(async () => {
  run = await startPipelineRun('e2e_pipeline', bytes, { providers: 'sandbox' });
}, 240_000);

afterAll(async () => {
  const codes = await run?.close();
  if (codes) expect(codes, 'services drain and exit 0 on SIGTERM').toEqual(mapValues(codes, 0));
}, 120_000);

const mapValues = <T>(o: Record<string, unknown>, v: T) =>
  Object.fromEntries(Object.keys(o).map((k) => [k, v]));

describe('the whole pipeline through Kafka (ingest → standardize → verify → enrich → dedupe → score → sink)', () => {
  it('completes a messy 10,000-row upload with every row exactly once and the same counts everywhere', async () => {
    if (!run) throw new Error('pipeline not started');
    const { config, tracker, ch, pipeline, uploadDir } = run;
    const { batch: created, inspection } = await submitUpload(config, tracker, {
      uploadDir,
      accountId: ACCOUNT,
      filename: 'Messy CRM export.csv',
      bytes,
    });
    const N = inspection.rows_detected;
    expect(N).toBe(ROWS);
    expect(inspection.rows_unreadable).toBe(1);
    const id = created.batch_id;

    const batch = await waitForAnnounced(tracker, ACCOUNT, id, 300_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${pipeline.output()}`);
    });
    const logs = pipeline.output();
    expect(batch.status, logs).toBe('completed');
    expect(batch.rows_total).toBe(N);
    expect(batch.rows_done).toBe(N);
    expect(
      batch.rows_qualified +
        batch.rows_rejected +
        batch.rows_invalid +
        batch.rows_duplicate +
        batch.rows_errored,
    ).toBe(N);
    expect(batch.rows_qualified).toBeGreaterThan(0);
    // The copies appended to the file are caught as duplicates; the rows nobody can be reached by and
    // the unreadable last record are rejections.
    expect(batch.rows_duplicate).toBeGreaterThanOrEqual(ROWS / 20);
    expect(batch.rows_errored).toBeGreaterThanOrEqual(ROWS / 100 + 1);

    // ClickHouse agrees with the tracker.
    const byStatus = await querySql<{ status: string; n: string }>(
      ch,
      sql`SELECT status, count() AS n FROM leads FINAL WHERE account_id = ${ACCOUNT} AND batch_id = ${id} GROUP BY status`,
    );
    expect(Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)]))).toEqual(
      Object.fromEntries(
        (
          [
            ['QUALIFIED', batch.rows_qualified],
            ['REJECTED', batch.rows_rejected],
            ['INVALID', batch.rows_invalid],
            ['DUPLICATE', batch.rows_duplicate],
          ] as const
        ).filter(([, n]) => n > 0),
      ),
    );
    const [rejections] = await querySql<{ n: string }>(
      ch,
      sql`SELECT count() AS n FROM rejections FINAL WHERE account_id = ${ACCOUNT} AND batch_id = ${id}`,
    );
    expect(Number(rejections?.n)).toBe(batch.rows_errored);

    // Every row index of the file is in exactly one of the two tables, once.
    expect(await resultRowIndexes(ch, ACCOUNT, id)).toEqual([...Array(N).keys()]);

    // The batches table holds the same final figures.
    const [chBatch] = await querySql<Record<string, unknown>>(
      ch,
      sql`SELECT status, rows_total, rows_processed, rows_qualified, rows_failed, rows_duplicate, filename
          FROM batches FINAL WHERE account_id = ${ACCOUNT} AND batch_id = ${id}`,
    );
    expect(chBatch).toEqual({
      status: 'completed',
      rows_total: String(N),
      rows_processed: String(N),
      rows_qualified: String(batch.rows_qualified),
      rows_failed: String(batch.rows_errored + batch.rows_invalid),
      rows_duplicate: String(batch.rows_duplicate),
      filename: 'Messy CRM export.csv',
    });
  }, 360_000);
});
