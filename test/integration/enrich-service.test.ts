import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrichedLead } from '../../bench/lib/dedup-dataset.ts';
import type { EnrichedLead, StandardizedLead, VerifiedLead } from '../../schemas/generated.ts';
import { PredictiveCounters } from '../../services/enrich/predictive/counters.ts';
import { type RunningSandbox, sandboxEnv, startSandbox } from '../../services/enrich/sandbox/server.ts';
import { createClickHouse, querySql, sql } from '../../services/lib/clickhouse.ts';
import type { Config } from '../../services/lib/config.ts';
import { groupId, TOPICS, topicName } from '../../services/lib/names.ts';
import { RecordPublisher } from '../../services/lib/publisher.ts';
import { createRedis, keyspace } from '../../services/lib/redis.ts';
import { AvroCodec, registrySchemaSource } from '../../services/runtime/index.ts';
import { cleanupIsolated, isolatedConfig } from '../support/isolated.ts';
import { type RunningService, serviceEnv, startService } from '../support/services.ts';
import { decodedOrThrow, followTopic } from '../support/topic-follower.ts';

// services/enrich/main.ts as deployed, in its own process: leads.verified → leads.enriched through the
// real Kafka and registry, caches and batch figures in Redis, provider calls to the sandbox providers
// over HTTP and into ClickHouse enrichment_calls.

const BATCH = `eb_${randomBytes(3).toString('hex')}`;
const DOMAINS = ['northwind.test', 'globex.test', 'initech.test', 'umbrella.test'];
const ACCOUNTS = ['acct_a', 'acct_b'];
/** The service runs against the sandbox: provider values are labelled sandbox:<provider>. */
const SOURCES = new Set([
  'sandbox:apollo_io',
  'sandbox:clearbit',
  'sandbox:hunter_io',
  'sandbox:snov_io',
  'dns',
  'input',
]);
const HIT_LEVELS = new Set(['l1', 'l2', 'similarity', 'predictive']);

let config: Config;
let sandbox: RunningSandbox;
let service: RunningService;
let redis: Redis;
let kafka: Kafka;
let codec: AvroCodec;
let publisher: RecordPublisher;
const received: Array<{ key: string; lead: EnrichedLead }> = [];

beforeAll(async () => {
  config = await isolatedConfig('enrich_svc');
  sandbox = await startSandbox();
  redis = createRedis(config.REDIS_URL, 'enrich-it');
  kafka = new Kafka({ clientId: 'enrich-it', brokers: config.KAFKA_BROKERS, logLevel: logLevel.ERROR });
  codec = new AvroCodec(registrySchemaSource(config.SCHEMA_REGISTRY_URL));
  publisher = await RecordPublisher.connect(config, 'enrich-it');
  service = await startService(
    'enrich',
    serviceEnv(config, {
      ...sandboxEnv(sandbox.url),
      LOG_LEVEL: 'info',
      // No DNS on this machine: technographics fail fast instead of waiting on system resolvers.
      DNS_SERVERS: '127.0.0.1:9',
      DNS_TIMEOUT_MS: '200',
      CALL_LOG_FLUSH_MS: '300',
      PREDICTIVE_RECOVER_MS: '300',
    }),
  );
  await startConsumer();
}, 120_000);

afterAll(async () => {
  await stopConsumer?.();
  await service?.stop();
  await publisher?.disconnect();
  if (redis) {
    redis.disconnect();
  }
  await sandbox?.close();
  if (config) await cleanupIsolated(config);
});

let stopConsumer: (() => Promise<void>) | undefined;

async function startConsumer(): Promise<void> {
  stopConsumer = await followTopic<EnrichedLead>(
    kafka,
    codec,
    topicName(config.LEEDRUSH_PREFIX, TOPICS.enriched),
    'EnrichedLead',
    (d, m) => received.push({ key: m.key?.toString() ?? '', lead: decodedOrThrow(d) }),
  );
}

async function waitFor(count: number, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (received.length < count && Date.now() < deadline) await sleep(200);
  // A little longer: anything beyond the expected count would be a duplicate.
  await sleep(1_000);
}

function verified(id: string, i: number, email: string): VerifiedLead {
  const domain = email.split('@')[1] ?? null;
  const { meta, lead, verification } = enrichedLead({
    lead_id: id,
    account_id: ACCOUNTS[i % ACCOUNTS.length],
    batch_id: BATCH,
    row_index: i,
    lead: { email, email_display: email, first_name: 'Sam', last_name: `Lee${i}`, domain },
  });
  return { meta, lead, verification };
}

const sandboxCalls = async () => {
  const { requests } = (await (await fetch(`${sandbox.url}/__sandbox/stats`)).json()) as {
    requests: Record<string, Record<string, number>>;
  };
  return Object.values(requests).reduce((sum, per) => sum + Object.values(per).reduce((a, b) => a + b, 0), 0);
};

const COMPANY_ENDPOINTS = new Set(['organizations_enrich', 'company_find', 'domain_search']);
const companyCalls = async () => {
  const { requests } = (await (await fetch(`${sandbox.url}/__sandbox/stats`)).json()) as {
    requests: Record<string, Record<string, number>>;
  };
  return Object.values(requests)
    .flatMap((per) => Object.entries(per))
    .reduce((sum, [endpoint, n]) => sum + (COMPANY_ENDPOINTS.has(endpoint) ? n : 0), 0);
};

const FIRST = Array.from({ length: 12 }, (_, i) =>
  verified(`${BATCH}:${i}`, i, `person${i}@${DOMAINS[i % DOMAINS.length]}`),
);
// The same people again under new lead ids: everything is cached by now.
const SECOND = FIRST.map((l, i) => verified(`${BATCH}:r${i}`, i + FIRST.length, l.lead.email ?? ''));

describe('enrich service through Kafka', () => {
  it('says at startup that it talks to the sandbox providers', () => {
    expect(service.output()).toMatch(/sandbox providers/);
  });

  it('enriches every verified lead once, keyed by account, every field naming its source', async () => {
    await publisher.publish(TOPICS.verified, 'VerifiedLead', BATCH, FIRST);
    await waitFor(FIRST.length);
    expect(received.length, service.output()).toBe(FIRST.length);
    const byId = new Map(received.map((r) => [r.lead.meta.lead_id, r]));
    for (const input of FIRST) {
      const out = byId.get(input.meta.lead_id);
      expect(out, input.meta.lead_id).toBeDefined();
      if (!out) continue;
      expect(out.key).toBe(input.meta.account_id);
      expect(out.lead.meta).toEqual(input.meta);
      expect(out.lead.lead).toEqual(input.lead);
      expect(out.lead.verification).toEqual(input.verification);
      const e = out.lead.enrichment;
      for (const field of [
        'company_name',
        'industry',
        'employee_count',
        'country',
        'person_title',
      ] as const) {
        if (e[field] !== null)
          expect(SOURCES.has(e.field_sources[field] ?? ''), `${field} source`).toBe(true);
      }
    }
    const providerFilled = received.filter((r) =>
      Object.values(r.lead.enrichment.field_sources).some((s) => s !== 'input' && s !== 'dns'),
    );
    // The sandbox knows most companies: the waterfall filled fields from providers for most leads.
    expect(providerFilled.length).toBeGreaterThan(FIRST.length / 2);
  });

  it('serves repeated people from the cache without calling a provider', async () => {
    const before = await sandboxCalls();
    expect(before).toBeGreaterThan(0);
    await publisher.publish(TOPICS.verified, 'VerifiedLead', BATCH, SECOND);
    await waitFor(FIRST.length + SECOND.length);
    expect(received.length, service.output()).toBe(FIRST.length + SECOND.length);
    expect(await sandboxCalls()).toBe(before);
    const byId = new Map(received.map((r) => [r.lead.meta.lead_id, r.lead.enrichment]));
    SECOND.forEach((lead, i) => {
      const again = byId.get(lead.meta.lead_id);
      const first = byId.get(FIRST[i]?.meta.lead_id ?? '');
      expect(HIT_LEVELS.has(again?.cache_level ?? ''), again?.cache_level).toBe(true);
      expect({ ...again, cache_level: '' }).toEqual({ ...first, cache_level: '' });
    });
  });

  it('writes one enrichment_calls row per sandbox request, attributed to its lead', async () => {
    const ch = createClickHouse(config);
    try {
      const expected = await sandboxCalls();
      let rows: Array<{ account_id: string; lead_id: string; batch_id: string; provider: string }> = [];
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        rows = await querySql(ch, sql`SELECT account_id, lead_id, batch_id, provider FROM enrichment_calls`);
        if (rows.length >= expected) break;
        await sleep(300);
      }
      expect(rows.length).toBe(expected);
      const accountOf = new Map(FIRST.map((l) => [l.meta.lead_id, l.meta.account_id]));
      for (const row of rows) {
        expect(accountOf.get(row.lead_id), row.lead_id).toBe(row.account_id);
        expect(row.batch_id).toBe(BATCH);
      }
    } finally {
      await ch.close();
    }
  });

  it('counts leads by cache level and written call rows on /metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${service.port}/metrics`)).text();
    const sum = (pattern: RegExp) =>
      text
        .split('\n')
        .filter((line) => pattern.test(line))
        .reduce((total, line) => total + Number(line.split(' ').pop()), 0);
    expect(sum(/^leedrush_enrich_leads_total\{/)).toBe(received.length);
    expect(sum(/^leedrush_enrich_leads_total\{cache_level="provider"/)).toBe(
      received.filter((r) => r.lead.enrichment.cache_level === 'provider').length,
    );
    expect(sum(/^leedrush_enrich_provider_calls_total\{row="written"/)).toBe(await sandboxCalls());
    expect(sum(/^leedrush_enrich_provider_calls_total\{row="dropped"/)).toBe(0);
  });

  it('keeps the batch phase3 figures equal to what the leads show', async () => {
    const h = await redis.hgetall(keyspace(config.LEEDRUSH_PREFIX)('batch', BATCH, 'phase3'));
    const leads = received.map((r) => r.lead.enrichment);
    expect(Number(h.leads)).toBe(leads.length);
    expect(Number(h.cache_hits)).toBe(leads.filter((e) => HIT_LEVELS.has(e.cache_level)).length);
    expect(Number(h.cache_hits)).toBeGreaterThanOrEqual(SECOND.length);
    expect(Number(h.multi_source_validated)).toBe(leads.filter((e) => e.multi_source).length);
    expect(Number(h.confidence_sum)).toBeCloseTo(
      leads.reduce((s, e) => s + e.confidence, 0),
      6,
    );
  });
});

/** The watcher's group starts at the latest offsets: publish only once it has joined. */
async function watcherJoined(timeoutMs = 30_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const group = groupId(config.LEEDRUSH_PREFIX, 'enrich-predictive');
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { groups } = await admin.describeGroups([group]);
      if (groups[0]?.state === 'Stable') return;
      await sleep(200);
    }
    throw new Error(`${group} did not join within ${timeoutMs} ms:\n${service.output()}`);
  } finally {
    await admin.disconnect();
  }
}

describe('predictive pre-enrichment', () => {
  const batch = `${BATCH}_p`;
  const leads = Array.from({ length: 4 }, (_, i) => {
    const l = verified(`${batch}:${i}`, i, `member${i}@predicted-co.test`);
    return { ...l, meta: { ...l.meta, batch_id: batch } };
  });

  it('caches a company seen on leads.standardized before its leads reach enrich, and counts their use', async () => {
    const counters = new PredictiveCounters(redis, keyspace(config.LEEDRUSH_PREFIX));
    await watcherJoined();
    const standardized: StandardizedLead[] = leads.map(({ meta, lead }) => ({ meta, lead }));
    await publisher.publish(TOPICS.standardized, 'StandardizedLead', batch, standardized);
    const deadline = Date.now() + 30_000;
    let stats = await counters.stats();
    while (stats.background_queue.completed < 1 && Date.now() < deadline) {
      await sleep(200);
      stats = await counters.stats();
    }
    // Four consecutive rows of one company: one prediction, queued once, worked off.
    expect(stats.predictions.total_generated, service.output()).toBe(1);
    expect(stats.predictions.pre_enriched).toBe(1);
    expect(stats.background_queue).toEqual({ pending: 0, processing: 0, completed: 1 });
    const companyCallsBefore = await companyCalls();
    expect(companyCallsBefore).toBeGreaterThan(0);

    const before = received.length;
    await publisher.publish(TOPICS.verified, 'VerifiedLead', batch, leads);
    await waitFor(before + leads.length);
    const out = received.slice(before).map((r) => r.lead);
    expect(out).toHaveLength(leads.length);
    const after = await counters.stats();
    expect(after.performance.zero_latency_requests).toBe(leads.length);
    const h = await redis.hgetall(keyspace(config.LEEDRUSH_PREFIX)('batch', batch, 'phase3'));
    expect(Number(h.predictive_matches)).toBe(leads.length);
    // The leads' company came from the pre-enriched entry: only person lookups reached the providers.
    expect(await companyCalls()).toBe(companyCallsBefore);
    expect(
      out.every((e) => e.enrichment.cache_level === 'predictive' || e.enrichment.cache_level === 'provider'),
    ).toBe(true);
  });

  it('finishes the predictions an instance held when it crashed', async () => {
    const key = keyspace(config.LEEDRUSH_PREFIX);
    const counters = new PredictiveCounters(redis, key);
    const before = await counters.stats();
    // What the crashed instance did: queued, took up, and died before finishing.
    await counters.predicted('company_batch');
    await counters.started();
    const orphan = key('enrich', 'predictive', 'processing', 'crashed-instance');
    await redis.rpush(
      orphan,
      JSON.stringify({ batch_id: batch, domain: 'orphan-co.test', company_key: null }),
    );
    const deadline = Date.now() + 15_000;
    let stats = await counters.stats();
    while (stats.background_queue.completed <= before.background_queue.completed && Date.now() < deadline) {
      await sleep(200);
      stats = await counters.stats();
    }
    expect(stats.background_queue, service.output()).toEqual({
      pending: 0,
      processing: 0,
      completed: before.background_queue.completed + 1,
    });
    expect(stats.predictions.pre_enriched).toBe(before.predictions.pre_enriched + 1);
    expect(await redis.exists(orphan)).toBe(0);
    expect(await redis.exists(key('enrich', 'predictive', 'warmed', 'orphan-co.test'))).toBe(1);
  });
});
