/**
 * The sink against the real stack (Kafka, registry, ClickHouse 18.16, Redis), in-process: rows land
 * once in ClickHouse whatever the redeliveries, batches count each row once and complete once, and the
 * outbox holds the batch and lead events. Every test uses its own batch ids; one sink serves them all.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeadRejection, WebhookEvent } from '../../schemas/generated.ts';
import { type BatchRecord, BatchTracker, batchFailure } from '../../services/lib/batch-tracker.ts';
import {
  type ClickHouseClient,
  createClickHouse,
  ident,
  querySql,
  sql,
} from '../../services/lib/clickhouse.ts';
import { TOPICS } from '../../services/lib/names.ts';
import { createRedis, keyspace } from '../../services/lib/redis.ts';
import { SinkConfig } from '../../services/sink/config.ts';
import { type SinkService, startSink } from '../../services/sink/service.ts';
import { waitFor } from '../fixtures/runtime/harness.ts';
import {
  completedCounts,
  fileBatch,
  fileRows,
  rejection,
  resultRowIndexes,
  type SinkKafka,
  STATUSES,
  scoredLead,
  sinkKafka,
} from '../fixtures/sink/records.ts';
import { cleanupIsolated, isolatedConfig } from '../support/isolated.ts';

let config: SinkConfig;
let redis: Redis;
let tracker: BatchTracker;
let ch: ClickHouseClient;
let kafka: SinkKafka;
let sink: SinkService;

beforeAll(async () => {
  config = await isolatedConfig('sink', SinkConfig, { ...process.env, LOG_LEVEL: 'warn' });
  redis = createRedis(config.REDIS_URL, 'test-sink');
  tracker = new BatchTracker(redis, keyspace(config.LEEDRUSH_PREFIX));
  ch = createClickHouse(config);
  kafka = await sinkKafka(config);
  sink = await startSink(config, { handleSignals: false });
  await sink.service.ready;
}, 120_000);

afterAll(async () => {
  await sink?.close();
  await kafka?.close();
  await ch?.close();
  redis?.disconnect();
  if (config) await cleanupIsolated(config);
});

const account = () => `acc_${randomBytes(3).toString('hex')}`;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  await waitFor(what, check, timeoutMs, 50);
}

async function announced(accountId: string, batchId: string): Promise<BatchRecord> {
  let batch: BatchRecord | null = null;
  await until(`batch ${batchId} announced`, async () => {
    batch = await tracker.get(accountId, batchId);
    return batch?.announced_at != null;
  });
  return batch as unknown as BatchRecord;
}

const byStatus = async (accountId: string, batchId: string) =>
  Object.fromEntries(
    (
      await querySql<{ status: string; n: string }>(
        ch,
        sql`SELECT status, count() AS n FROM leads FINAL
            WHERE account_id = ${accountId} AND batch_id = ${batchId} GROUP BY status`,
      )
    ).map((r) => [r.status, Number(r.n)]),
  ) as Record<string, number>;

async function countFinal(table: 'leads' | 'rejections', accountId: string, batchId: string) {
  const [r] = await querySql<{ n: string }>(
    ch,
    sql`SELECT count() AS n FROM ${ident(table)} FINAL WHERE account_id = ${accountId} AND batch_id = ${batchId}`,
  );
  return Number(r?.n);
}

const eventsOf = (events: WebhookEvent[], batchId: string, event: string) =>
  events.filter((e) => e.batch_id === batchId && e.event === event);

describe('sink service (real Kafka, ClickHouse 18.16, Redis)', () => {
  it('writes every row once, counts it once under redelivery, completes and announces the batch once', async () => {
    const N = 3_000;
    const acc = account();
    const created = await fileBatch(tracker, acc, 'leads.csv', N);
    const id = created.batch_id;
    const { leads, rejections } = fileRows(acc, id, N);
    // Redeliveries: every 7th lead and every 3rd rejection arrives twice, the second time later.
    const again = leads.filter((_, i) => i % 7 === 0);
    await kafka.produce(
      TOPICS.failed,
      'LeadRejection',
      rejections.map((r) => ({ key: r.lead_id, value: r })),
    );
    await kafka.produce(
      TOPICS.scored,
      'ScoredLead',
      [...leads, ...again].map((l) => ({ key: l.meta.lead_id, value: l })),
    );
    await kafka.produce(
      TOPICS.failed,
      'LeadRejection',
      rejections.filter((_, i) => i % 3 === 0).map((r) => ({ key: r.lead_id, value: r })),
    );

    const batch = await announced(acc, id);
    expect(batch).toMatchObject(completedCounts(leads, rejections));
    expect(batch.started_at).not.toBeNull();
    expect(batch.completed_at).not.toBeNull();

    // ClickHouse agrees with the tracker, and every row is in exactly one of the two tables.
    expect(await byStatus(acc, id)).toEqual({
      QUALIFIED: batch.rows_qualified,
      REJECTED: batch.rows_rejected,
      INVALID: batch.rows_invalid,
      DUPLICATE: batch.rows_duplicate,
    });
    expect(await countFinal('rejections', acc, id)).toBe(batch.rows_errored);
    expect(await resultRowIndexes(ch, acc, id)).toEqual([...Array(N).keys()]);

    const [chBatch] = await querySql<Record<string, unknown>>(
      ch,
      sql`SELECT status, rows_total, rows_processed, rows_qualified, rows_failed, rows_duplicate, quality_yield,
                 filename, completed_at IS NOT NULL AS has_completed_at
          FROM batches FINAL WHERE account_id = ${acc} AND batch_id = ${id}`,
    );
    expect(chBatch).toEqual({
      status: 'completed',
      rows_total: String(N),
      rows_processed: String(N),
      rows_qualified: String(batch.rows_qualified),
      rows_failed: String(batch.rows_errored + batch.rows_invalid),
      rows_duplicate: String(batch.rows_duplicate),
      quality_yield: Math.round((batch.rows_qualified / N) * 1000) / 10,
      filename: 'leads.csv',
      has_completed_at: 1,
    });

    const events = await kafka.readOutbox();
    const completed = eventsOf(events, id, 'batch.completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]?.event_id).toBe(`batch.completed:${id}`);
    expect(JSON.parse(completed[0]?.data_json ?? '')).toMatchObject({
      filename: 'leads.csv',
      rows_total: N,
      rows_qualified: batch.rows_qualified,
      rows_failed: batch.rows_errored + batch.rows_invalid,
      quality_yield: Math.round((batch.rows_qualified / N) * 1000) / 10,
    });
    // One lead.qualified per qualified lead (a redelivered lead may publish its event again, same id).
    const qualified = eventsOf(events, id, 'lead.qualified');
    const ids = new Set(qualified.map((e) => e.event_id));
    expect(ids).toEqual(
      new Set(
        leads.filter((l) => l.score.status === 'QUALIFIED').map((l) => `lead.qualified:${l.meta.lead_id}`),
      ),
    );
    for (const e of qualified) expect(JSON.parse(e.data_json)).toMatchObject({ status: 'QUALIFIED' });
    // The completion comes after every lead.qualified of the batch on the outbox (same key, same partition).
    const last = events.lastIndexOf(completed[0] as WebhookEvent);
    expect(events.slice(last + 1).some((e) => e.batch_id === id && e.event === 'lead.qualified')).toBe(false);
  });

  it('an ingest failure signal fails the batch with its reason, writes it and publishes batch.failed', async () => {
    const acc = account();
    const created = await fileBatch(tracker, acc, 'scan.pdf', 40);
    const id = created.batch_id;
    const reason = 'unsupported_format: the file is a PDF document, not CSV or JSON';
    const signal = batchFailure(id, acc, reason);
    // Delivered twice: one failure, one announcement.
    await kafka.produce(TOPICS.failed, 'LeadRejection', [
      { key: signal.lead_id, value: signal },
      { key: signal.lead_id, value: signal },
    ]);
    const batch = await announced(acc, id);
    expect(batch).toMatchObject({ status: 'failed', error_reason: reason, rows_done: 0 });
    expect(await tracker.activeCount(acc)).toBe(0);

    const [row] = await querySql<Record<string, unknown>>(
      ch,
      sql`SELECT status, error_reason, filename FROM batches FINAL WHERE account_id = ${acc} AND batch_id = ${id}`,
    );
    expect(row).toEqual({ status: 'failed', error_reason: reason, filename: 'scan.pdf' });
    // The signal is not a row of the file: nothing lands in rejections.
    expect(await countFinal('rejections', acc, id)).toBe(0);

    const failed = eventsOf(await kafka.readOutbox(), id, 'batch.failed');
    expect(failed.map((e) => e.event_id)).toEqual([`batch.failed:${id}`]);
    expect(JSON.parse(failed[0]?.data_json ?? '')).toMatchObject({
      filename: 'scan.pdf',
      error_reason: reason,
    });
  });

  it('leads without a batch join the account stream batch: status streaming, counted by lead id', async () => {
    const acc = account();
    const stream = `stream_${acc}`;
    const leads = Array.from({ length: 25 }, (_, i) =>
      scoredLead(acc, stream, i, STATUSES[i % 4] ?? 'QUALIFIED', {
        lead_id: `${stream}:${randomBytes(10).toString('hex')}`,
        row_index: -1,
      }),
    );
    const dropped: LeadRejection = {
      ...rejection(acc, stream, 0),
      lead_id: `${stream}:rej1`,
      row_index: null,
    };
    await kafka.produce(
      TOPICS.scored,
      'ScoredLead',
      [...leads, ...leads.slice(0, 5)].map((l) => ({ key: l.meta.lead_id, value: l })),
    );
    await kafka.produce(TOPICS.failed, 'LeadRejection', [{ key: dropped.lead_id, value: dropped }]);

    await until('26 stream rows counted', async () => (await tracker.get(acc, stream))?.rows_done === 26);
    const batch = await tracker.get(acc, stream);
    expect(batch).toMatchObject({
      status: 'streaming',
      rows_total: 26,
      rows_qualified: 7,
      rows_rejected: 6,
      rows_invalid: 6,
      rows_duplicate: 6,
      rows_errored: 1,
      source: 'csv',
    });
    // Listed with the account's batches, like an upload.
    expect((await tracker.list(acc)).map((b) => b.batch_id)).toEqual([stream]);
    await until('stream batch row in ClickHouse', async () => {
      const [row] = await querySql<{ status: string; rows_total: string }>(
        ch,
        sql`SELECT status, rows_total FROM batches FINAL WHERE account_id = ${acc} AND batch_id = ${stream}`,
      );
      return row?.status === 'streaming' && row.rows_total === '26';
    });
    expect(await countFinal('leads', acc, stream)).toBe(25);
  });

  it("never counts a lead in another account's batch", async () => {
    const owner = account();
    const intruder = account();
    const created = await fileBatch(tracker, owner, 'a.csv', 2);
    const id = created.batch_id;
    const foreign = scoredLead(intruder, id, 0, 'QUALIFIED');
    const own = scoredLead(owner, id, 1, 'REJECTED');
    await kafka.produce(TOPICS.scored, 'ScoredLead', [
      { key: foreign.meta.lead_id, value: foreign },
      { key: own.meta.lead_id, value: own },
    ]);
    await until('the own row counted', async () => (await tracker.get(owner, id))?.rows_done === 1);
    // Give the foreign row every chance to be (wrongly) counted: it was produced first.
    await until('the foreign row written', async () => (await countFinal('leads', intruder, id)) === 1);
    expect(await tracker.get(owner, id)).toMatchObject({
      status: 'processing',
      rows_done: 1,
      rows_qualified: 0,
    });
  });

  it('serves /health and /metrics with the sink figures through the runtime', async () => {
    const base = `http://127.0.0.1:${sink.service.port}`;
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ healthy: true, status: 'ok' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    // The earlier tests wrote rows to both tables and published both kinds of events.
    expect(metrics).toMatch(/leedrush_sink_rows_written_total\{[^}]*table="leads"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/leedrush_sink_rows_written_total\{[^}]*table="rejections"[^}]*\} [1-9]/);
    expect(metrics).toMatch(
      /leedrush_sink_events_published_total\{[^}]*event="batch.completed"[^}]*\} [1-9]/,
    );
    expect(metrics).toMatch(/leedrush_sink_untracked_rows_total\{[^}]*reason="foreign"[^}]*\} 1/);
    expect(metrics).toContain('leedrush_runtime_consumed_total');
  });
});
