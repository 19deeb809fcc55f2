import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDedupDataset } from '../../bench/lib/dedup-dataset.ts';
import type { DedupedLead, EnrichedLead, ScoredLead } from '../../schemas/generated.ts';
import { DedupeConfig, type DedupeEnv, settingsFromEnv } from '../../services/dedupe/config.ts';
import { resolveBatch } from '../../services/dedupe/resolve.ts';
import { BatchTracker } from '../../services/lib/batch-tracker.ts';
import { TOPICS, topicName } from '../../services/lib/names.ts';
import { RecordPublisher } from '../../services/lib/publisher.ts';
import { createRedis, keyspace } from '../../services/lib/redis.ts';
import { AvroCodec, registrySchemaSource } from '../../services/runtime/index.ts';
import { cleanupIsolated, isolatedConfig } from '../support/isolated.ts';
import { type RunningService, serviceEnv, startService } from '../support/services.ts';
import { decodedOrThrow, followTopic } from '../support/topic-follower.ts';

// services/dedupe/main.ts and services/score/main.ts as deployed (child processes) on the real Kafka,
// registry and Redis: file batches collected in Redis and finalized once complete, by the last lead or by
// the sweep when upstream rejections are counted late; a SIGKILL mid-batch; three instances of each.

const LEADS = 2_000;
let config: DedupeEnv;
let redis: ReturnType<typeof createRedis>;
let tracker: BatchTracker;
let publisher: RecordPublisher;
let kafka: Kafka;
const running: RunningService[] = [];
/** Everything read from leads.deduped / leads.scored, by lead id: every copy (at-least-once). */
const deduped = new Map<string, { key: string; lead: DedupedLead }[]>();
const scored = new Map<string, ScoredLead[]>();
const stopReaders: Array<() => Promise<void>> = [];

const start = async (name: 'dedupe' | 'score') => {
  const s = await startService(
    name,
    serviceEnv(config, { DEDUP_FINALIZE_INTERVAL_MS: '500', DEDUP_STREAM_IDLE_MS: '300' }),
  );
  running.push(s);
  return s;
};

async function read<T>(
  base: string,
  record: 'DedupedLead' | 'ScoredLead',
  onRecord: (v: T, key: string) => void,
) {
  const codec = new AvroCodec(registrySchemaSource(config.SCHEMA_REGISTRY_URL));
  const topic = topicName(config.LEEDRUSH_PREFIX, base);
  stopReaders.push(
    await followTopic<T>(kafka, codec, topic, record, (d, m) =>
      onRecord(decodedOrThrow(d), m.key?.toString() ?? ''),
    ),
  );
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 240_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}\n${running
          .map((s) => s.output())
          .join('\n')
          .slice(-4000)}`,
      );
    }
    await sleep(200);
  }
}

/** A tracked batch of `rows` generated leads (seed 2: ~25 % in duplicate clusters) for a new account. */
async function newBatch(account: string, rows = LEADS) {
  const batch = await tracker.create(
    { account_id: account, filename: 'leads.csv', file_path: '', source: 'upload', rows_total: rows },
    null,
  );
  if (!batch) throw new Error('batch not created');
  const { leads } = generateDedupDataset({
    leads: rows,
    seed: 2,
    batchId: batch.batch_id,
    accountId: account,
  });
  return { batchId: batch.batch_id, leads };
}

async function send(account: string, leads: EnrichedLead[]) {
  for (let i = 0; i < leads.length; i += 500)
    await publisher.publish(TOPICS.enriched, 'EnrichedLead', account, leads.slice(i, i + 500));
}

const scoredOf = (leads: EnrichedLead[]) => leads.filter((l) => scored.has(l.meta.lead_id)).length;
const dedupedOf = (leads: EnrichedLead[]) => leads.filter((l) => deduped.has(l.meta.lead_id)).length;

/** Row index → final status: comparable between batches of the same generated rows. */
function statusByRow(leads: EnrichedLead[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const l of leads) {
    const copies = scored.get(l.meta.lead_id) ?? [];
    const statuses = new Set(copies.map((c) => c.score.status));
    // At-least-once may repeat a lead, never change its verdict.
    expect(statuses.size, `statuses of ${l.meta.lead_id}`).toBe(1);
    out.set(l.meta.row_index, [...statuses][0] as string);
  }
  return out;
}

const countBy = (m: Map<number, string>) => {
  const c: Record<string, number> = {};
  for (const s of m.values()) c[s] = (c[s] ?? 0) + 1;
  return c;
};

beforeAll(async () => {
  config = await isolatedConfig('dedupe_svc', DedupeConfig);
  redis = createRedis(config.REDIS_URL, 'dedupe-it');
  tracker = new BatchTracker(redis, keyspace(config.LEEDRUSH_PREFIX));
  publisher = await RecordPublisher.connect(config, 'dedupe-it');
  kafka = new Kafka({ clientId: 'dedupe-it', brokers: config.KAFKA_BROKERS, logLevel: logLevel.ERROR });
  await read<DedupedLead>(TOPICS.deduped, 'DedupedLead', (v, key) => {
    const list = deduped.get(v.meta.lead_id) ?? [];
    list.push({ key, lead: v });
    deduped.set(v.meta.lead_id, list);
  });
  await read<ScoredLead>(TOPICS.scored, 'ScoredLead', (v) => {
    const list = scored.get(v.meta.lead_id) ?? [];
    list.push(v);
    scored.set(v.meta.lead_id, list);
  });
}, 120_000);

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop(10_000)));
  for (const stop of stopReaders) await stop();
  await publisher?.disconnect();
  if (config) {
    redis.disconnect();
    await cleanupIsolated(config);
  }
}, 120_000);

describe('dedupe + score services', () => {
  let reference: Map<number, string>;

  it('resolves a 2,000-lead batch exactly as resolveBatch does, then scores every lead once per id', async () => {
    const dedupe = await start('dedupe');
    await start('score');
    const { leads } = await newBatch('acct_one');
    const startedAt = performance.now();
    await send('acct_one', leads);
    await until('every lead scored', () => scoredOf(leads) === LEADS);
    const seconds = (performance.now() - startedAt) / 1000;
    console.info(
      `dedupe+score: ${LEADS} leads in ${seconds.toFixed(1)} s = ${Math.round(LEADS / seconds)} leads/s`,
    );

    const expected = resolveBatch(leads, [], settingsFromEnv(config));
    const expectedDuplicates = expected.leads.filter((l) => l.dedup.is_duplicate).map((l) => l.meta.lead_id);
    expect(expectedDuplicates.length).toBeGreaterThan(LEADS / 10);
    const ids = new Set(leads.map((l) => l.meta.lead_id));
    expect(new Set([...scored.keys()].filter((id) => ids.has(id)))).toEqual(ids);
    const gotDuplicates = leads
      .filter((l) => deduped.get(l.meta.lead_id)?.[0]?.lead.dedup.is_duplicate)
      .map((l) => l.meta.lead_id);
    expect(gotDuplicates.sort()).toEqual(expectedDuplicates.sort());
    // Survivors too, and every copy keyed by its lead so score reads the batch from every partition.
    for (const l of expected.leads) {
      for (const copy of deduped.get(l.meta.lead_id) ?? []) {
        expect(copy.lead.dedup.survivor_id).toBe(l.dedup.survivor_id);
        expect(copy.key).toBe(l.meta.lead_id);
      }
    }
    reference = statusByRow(leads);
    expect(countBy(reference).DUPLICATE).toBe(expectedDuplicates.length);
    // The open set is gone and the batch is in the account's history.
    expect(
      await redis.exists(keyspace(config.LEEDRUSH_PREFIX)('dedupe-open', leads[0]?.meta.batch_id ?? '')),
    ).toBe(0);
    expect(dedupe.proc.exitCode).toBeNull();
  }, 300_000);

  it('finalizes by the sweep once rejections upstream are counted after the last lead arrived', async () => {
    const rows = 300;
    const rejected = 12;
    const account = 'acct_late';
    // This account qualifies every deliverable lead: the score service reads the stored profile.
    await redis.set(
      keyspace(config.LEEDRUSH_PREFIX)('scoring-profile', account),
      JSON.stringify({ qualification_threshold: 0 }),
    );
    const { batchId, leads } = await newBatch(account, rows);
    const arriving = leads.slice(rejected);
    await send(account, arriving);
    const open = keyspace(config.LEEDRUSH_PREFIX)('dedupe-open', batchId);
    await until('all arriving leads stored', async () => (await redis.hlen(open)) === arriving.length);
    await sleep(1_500); // three sweeps: still incomplete, nothing may come out
    expect(dedupedOf(arriving)).toBe(0);

    await tracker.recordTerminals(
      batchId,
      account,
      leads.slice(0, rejected).map((l) => ({ row: l.meta.row_index, outcome: 'failed' as const })),
    );
    await until('the late batch scored', () => scoredOf(arriving) === arriving.length, 60_000);
    expect(dedupedOf(leads.slice(0, rejected))).toBe(0);
    const statuses = countBy(statusByRow(arriving));
    expect(statuses.REJECTED ?? 0).toBe(0);
    expect(statuses.QUALIFIED).toBeGreaterThan(0);
  }, 120_000);

  it('gives the same survivors after a SIGKILL mid-batch and a restart', async () => {
    const account = 'acct_kill';
    const { batchId, leads } = await newBatch(account);
    const dedupe = running.find((s) => s.name === 'dedupe' && s.proc.exitCode === null) as RunningService;
    await send(account, leads.slice(0, 1_200));
    const open = keyspace(config.LEEDRUSH_PREFIX)('dedupe-open', batchId);
    await until('part of the batch stored', async () => (await redis.hlen(open)) >= 400);
    dedupe.proc.kill('SIGKILL');
    await new Promise((r) => dedupe.proc.once('exit', r));
    expect(dedupedOf(leads)).toBe(0);
    await send(account, leads.slice(1_200));
    await start('dedupe');
    await until('the killed batch scored', () => scoredOf(leads) === LEADS);
    expect(statusByRow(leads)).toEqual(reference);
  }, 300_000);

  it('gives the same statuses with three instances of dedupe and of score', async () => {
    for (const s of running.filter((r) => r.proc.exitCode === null && r.proc.signalCode === null))
      await s.stop();
    await Promise.all([
      start('dedupe'),
      start('dedupe'),
      start('dedupe'),
      start('score'),
      start('score'),
      start('score'),
    ]);
    const batches = await Promise.all(
      ['acct_three_a', 'acct_three_b'].map(async (a) => ({ a, ...(await newBatch(a)) })),
    );
    const startedAt = performance.now();
    await Promise.all(batches.map(({ a, leads }) => send(a, leads)));
    for (const { leads } of batches) {
      await until('three-instance batch scored', () => scoredOf(leads) === LEADS);
    }
    const seconds = (performance.now() - startedAt) / 1000;
    console.info(
      `3+3 instances: ${2 * LEADS} leads in ${seconds.toFixed(1)} s = ${Math.round((2 * LEADS) / seconds)} leads/s`,
    );
    for (const { leads } of batches) expect(statusByRow(leads)).toEqual(reference);
  }, 420_000);

  it('a stream lead arriving after the window of an earlier one closed is its duplicate', async () => {
    const account = 'acct_stream';
    const { leads } = generateDedupDataset({
      leads: 200,
      seed: 2,
      batchId: `stream_${account}`,
      accountId: account,
    });
    const { leads: inBatch } = resolveBatch(leads, [], settingsFromEnv(config));
    // A pair the batch rule resolves one way: the stream sends the duplicate first, so it must survive.
    const dup = inBatch.find((l) => l.dedup.is_duplicate && l.dedup.cluster_size === 2) as DedupedLead;
    const first = leads.find((l) => l.meta.lead_id === dup.meta.lead_id) as EnrichedLead;
    const second = leads.find((l) => l.meta.lead_id === dup.dedup.survivor_id) as EnrichedLead;
    await send(account, [first]);
    await until('the first stream lead', () => deduped.has(first.meta.lead_id), 60_000);
    await send(account, [second]);
    await until('the second stream lead scored', () => scored.has(second.meta.lead_id), 60_000);
    expect(deduped.get(first.meta.lead_id)?.[0]?.lead.dedup.is_duplicate).toBe(false);
    expect(deduped.get(second.meta.lead_id)?.[0]?.lead.dedup.survivor_id).toBe(first.meta.lead_id);
    expect(scored.get(second.meta.lead_id)?.[0]?.score.status).toBe('DUPLICATE');
  }, 120_000);
});
