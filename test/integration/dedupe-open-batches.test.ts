import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDedupDataset } from '../../bench/lib/dedup-dataset.ts';
import type { DedupedLead, EnrichedLead } from '../../schemas/generated.ts';
import { DedupeConfig, type DedupeEnv, settingsFromEnv } from '../../services/dedupe/config.ts';
import type { MatchRecord } from '../../services/dedupe/match-record.ts';
import { resolveBatch } from '../../services/dedupe/resolve.ts';
import { BatchTracker } from '../../services/lib/batch-tracker.ts';
import { TOPICS, topicName } from '../../services/lib/names.ts';
import { RecordPublisher } from '../../services/lib/publisher.ts';
import { createRedis, keyspace } from '../../services/lib/redis.ts';
import { AvroCodec, registrySchemaSource } from '../../services/runtime/index.ts';
import { cleanupIsolated, isolatedConfig } from '../support/isolated.ts';
import { type RunningService, serviceEnv, startService } from '../support/services.ts';
import { decodedOrThrow, followTopic } from '../support/topic-follower.ts';

// services/dedupe/main.ts (child process, real Kafka, registry and Redis) closing open batches that
// will not complete by themselves: stream batches in windows (by count, then by idleness), and a file
// batch that stopped receiving leads expired after its TTL. Time is driven by small config values;
// outcomes are polled for.

let config: DedupeEnv;
let redis: ReturnType<typeof createRedis>;
let ns: (...parts: string[]) => string;
let publisher: RecordPublisher;
let kafka: Kafka;
let service: RunningService | undefined;
const deduped = new Map<string, DedupedLead>();
let stopReader: () => Promise<void> = async () => {};

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n${service?.output().slice(-4000)}`);
    await sleep(100);
  }
}

async function startDedupe(env: Record<string, string>) {
  service = await startService('dedupe', serviceEnv(config, { DEDUP_FINALIZE_INTERVAL_MS: '200', ...env }));
  return service;
}

async function send(account: string, leads: EnrichedLead[]) {
  await publisher.publish(TOPICS.enriched, 'EnrichedLead', account, leads);
}

async function metric(name: string, labels = ''): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${service?.port}/metrics`, {
    signal: AbortSignal.timeout(2_000),
  });
  const line = (await res.text()).split('\n').find((l) => l.startsWith(name) && l.includes(labels));
  return Number(line?.split(' ').pop() ?? 0);
}

beforeAll(async () => {
  config = await isolatedConfig('dedupe_open', DedupeConfig);
  redis = createRedis(config.REDIS_URL, 'dedupe-open-it');
  ns = keyspace(config.LEEDRUSH_PREFIX);
  publisher = await RecordPublisher.connect(config, 'dedupe-open-it');
  kafka = new Kafka({ clientId: 'dedupe-open-it', brokers: config.KAFKA_BROKERS, logLevel: logLevel.ERROR });
  stopReader = await followTopic<DedupedLead>(
    kafka,
    new AvroCodec(registrySchemaSource(config.SCHEMA_REGISTRY_URL)),
    topicName(config.LEEDRUSH_PREFIX, TOPICS.deduped),
    'DedupedLead',
    (d) => {
      const lead = decodedOrThrow(d);
      deduped.set(lead.meta.lead_id, lead);
    },
  );
}, 120_000);

afterAll(async () => {
  await service?.stop(10_000);
  await stopReader();
  await publisher?.disconnect();
  if (config) {
    redis.disconnect();
    await cleanupIsolated(config);
  }
}, 120_000);

describe('dedupe: open batches closed by policy', () => {
  it('resolves a stream in windows of N leads, then the rest once idle, each against the earlier windows', async () => {
    const dedupe = await startDedupe({ DEDUP_STREAM_WINDOW_LEADS: '50', DEDUP_STREAM_IDLE_MS: '5000' });
    const account = 'acct_stream';
    const batchId = `stream_${account}`;
    // Rows 0..119 of a generated list (~25 % in duplicate clusters), in this order on one partition.
    const { leads } = generateDedupDataset({ leads: 120, seed: 4, batchId, accountId: account });
    leads.sort((a, b) => a.meta.row_index - b.meta.row_index);
    await send(account, leads);

    // The first two windows are cut at exactly 50 leads as they arrive; the last 20 wait for idleness.
    await until('two full windows', () => leads.slice(0, 100).every((l) => deduped.has(l.meta.lead_id)));
    expect(leads.slice(100).filter((l) => deduped.has(l.meta.lead_id))).toHaveLength(0);
    expect(await redis.hlen(ns('dedupe-open', batchId))).toBe(20);
    await until('the idle window', () => leads.every((l) => deduped.has(l.meta.lead_id)), 60_000);

    // Each window decided as one batch against the history of the windows before it.
    const settings = settingsFromEnv(config);
    let history: MatchRecord[] = [];
    const expected: DedupedLead[] = [];
    for (const window of [leads.slice(0, 50), leads.slice(50, 100), leads.slice(100)]) {
      const r = resolveBatch(window, history, settings);
      history = [...history, ...r.historyEntries];
      expected.push(...r.leads);
    }
    expect(expected.filter((l) => l.dedup.is_duplicate && l.dedup.cluster_size > 1).length).toBeGreaterThan(
      5,
    );
    for (const l of expected) expect(deduped.get(l.meta.lead_id)?.dedup).toEqual(l.dedup);
    expect(await metric('leedrush_dedupe_open_batches_closed_total', 'outcome="window"')).toBe(3);
    expect(await redis.exists(ns('dedupe-open', batchId))).toBe(0);
    // Every key the service wrote expires.
    const keys = await redis.keys(`${config.LEEDRUSH_PREFIX}:ld:dedup*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(await redis.pttl(k), k).toBeGreaterThan(0);
    await dedupe.stop();
  }, 240_000);

  it('drops the state of a file batch that receives nothing for the TTL, with a metric and a log line', async () => {
    const dedupe = await startDedupe({ LOG_LEVEL: 'info', DEDUP_OPEN_TTL_MS: '2500' });
    const account = 'acct_stalled';
    const tracker = new BatchTracker(redis, ns);
    const batch = await tracker.create(
      { account_id: account, filename: 'leads.csv', file_path: '', source: 'upload', rows_total: 10 },
      null,
    );
    if (!batch) throw new Error('batch not created');
    const { leads } = generateDedupDataset({
      leads: 10,
      seed: 4,
      batchId: batch.batch_id,
      accountId: account,
    });
    // Four rows never arrive and are never counted as rejected: the batch cannot complete.
    await send(account, leads.slice(0, 6));
    const open = ns('dedupe-open', batch.batch_id);
    await until('six leads stored', async () => (await redis.hlen(open)) === 6);
    for (const k of [open, ns('dedupe-open-index')]) expect(await redis.pttl(k), k).toBeGreaterThan(0);

    await until('the stalled batch expired', async () => (await redis.exists(open)) === 0, 60_000);
    expect(await redis.zscore(ns('dedupe-open-index'), batch.batch_id)).toBeNull();
    expect(await metric('leedrush_dedupe_open_batches_closed_total', 'outcome="expired"')).toBe(1);
    expect(await metric('leedrush_dedupe_expired_leads_total')).toBe(6);
    expect(dedupe.output()).toMatch(
      new RegExp(`"batchId":"${batch.batch_id}","leads":6.*open batch expired`),
    );
    expect(leads.filter((l) => deduped.has(l.meta.lead_id))).toHaveLength(0);
  }, 180_000);
});
