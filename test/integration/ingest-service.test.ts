import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLeads, leadCsvLines } from '../../bench/lib/generate-leads.ts';
import type { BatchRequest, LeadRejection, RawLead } from '../../schemas/generated.ts';
import { IngestConfig } from '../../services/ingest/config.ts';
import { BatchTracker, isBatchFailure } from '../../services/lib/batch-tracker.ts';
import { REPO_ROOT } from '../../services/lib/config.ts';
import { serviceArgv } from '../../services/lib/heap-limits.ts';
import { TOPICS, topicName } from '../../services/lib/names.ts';
import { createRedis, keyspace } from '../../services/lib/redis.ts';
import { LocalUploadStore } from '../../services/lib/upload-store.ts';
import { AvroCodec, registrySchemaSource } from '../../services/runtime/index.ts';
import { type Isolated, readTopic } from '../fixtures/runtime/harness.ts';
import { cleanupIsolated, isolatedConfig } from '../support/isolated.ts';

const ROWS = 2_000;
const MAX_RECORD = 4096;

let config: IngestConfig;
let uploadDir: string;
let service: ChildProcess;
let serviceOutput = '';
let kafka: Kafka;
let admin: Admin;
let codec: AvroCodec;
let tracker: BatchTracker;
let redis: ReturnType<typeof createRedis>;

beforeAll(async () => {
  uploadDir = mkdtempSync(join(tmpdir(), 'leedrush-ingest-it-'));
  config = await isolatedConfig('ingest', IngestConfig, {
    ...process.env,
    UPLOAD_DIR: uploadDir,
    INGEST_MAX_RECORD_CHARS: String(MAX_RECORD),
  });
  kafka = new Kafka({ clientId: 'ingest-it', brokers: config.KAFKA_BROKERS, logLevel: logLevel.ERROR });
  admin = kafka.admin();
  await admin.connect();
  codec = new AvroCodec(registrySchemaSource(config.SCHEMA_REGISTRY_URL));
  redis = createRedis(config.REDIS_URL, 'ingest-it');
  tracker = new BatchTracker(redis, keyspace(config.LEEDRUSH_PREFIX));
  // The real service, as deployed: its own process, its main.ts, configured by the environment.
  service = spawn(process.execPath, serviceArgv('ingest'), {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      LEEDRUSH_PREFIX: config.LEEDRUSH_PREFIX,
      CLICKHOUSE_DATABASE: config.CLICKHOUSE_DATABASE,
      UPLOAD_DIR: uploadDir,
      INGEST_MAX_RECORD_CHARS: String(MAX_RECORD),
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  service.stdout?.on('data', (c: Buffer) => {
    serviceOutput += c.toString();
  });
  service.stderr?.on('data', (c: Buffer) => {
    serviceOutput += c.toString();
  });
});

afterAll(async () => {
  if (service && service.exitCode === null) {
    service.kill('SIGTERM');
    await Promise.race([new Promise((r) => service.once('exit', r)), sleep(15_000)]);
  }
  redis?.disconnect();
  await admin?.disconnect();
  if (config) await cleanupIsolated(config);
  rmSync(uploadDir, { recursive: true, force: true });
});

async function produce(request: BatchRequest): Promise<void> {
  const topic = topicName(config.LEEDRUSH_PREFIX, TOPICS.batchRequests);
  const encoder = await codec.encoderFor<BatchRequest>(topic, 'BatchRequest');
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: [{ key: request.batch_id, value: encoder.encode(request) }],
  });
  await producer.disconnect();
}

/** The harness' reader wants an Isolated: this file's topics under its own prefix. */
function isolated(): Isolated {
  const t = (base: string) => topicName(config.LEEDRUSH_PREFIX, base);
  return {
    config,
    kafka,
    admin,
    codec,
    topics: {
      raw: t(TOPICS.raw),
      standardized: t(TOPICS.standardized),
      failed: t(TOPICS.failed),
      rawDlq: '',
    },
    close: async () => {},
  };
}

async function newBatch(fileText: string, filename: string) {
  const store = LocalUploadStore.fromSettings(config);
  const stored = await store.put('acct_it', filename, Readable.from([Buffer.from(fileText)]));
  const batch = await tracker.create(
    { account_id: 'acct_it', filename, file_path: stored.file_path, source: 'csv', rows_total: 0 },
    null,
  );
  if (!batch) throw new Error('batch not created');
  const request: BatchRequest = {
    batch_id: batch.batch_id,
    account_id: 'acct_it',
    file_path: stored.file_path,
    filename,
    format: 'csv',
    rows_total: 0,
    source: 'csv',
    requested_at: Date.parse('2026-03-19T11:00:00Z'),
  };
  return request;
}

describe('ingest service (child process, real Kafka + registry + Redis)', () => {
  it('publishes one RawLead per readable row in file order, and each unreadable row to leads.failed', async () => {
    const lines = [...leadCsvLines({ rows: ROWS, seed: 7, brokenRate: 0.05 })];
    const huge = `huge@x.com,Huge,Row,CEO,Acme,,,,,,,,,"${'z'.repeat(MAX_RECORD)}"\r\n`;
    // Generated rows, an oversized one in the middle, and a quote never closed on the last line.
    const text = [...lines.slice(0, 1001), huge, ...lines.slice(1001), 'last@x.com,"Never closed'].join('');
    const request = await newBatch(text, 'messy leads.csv');
    await produce(request);

    const mine = (v: { batch_id: string | null } | undefined) => v?.batch_id === request.batch_id;
    const raw = await readTopic<RawLead>(
      isolated(),
      topicName(config.LEEDRUSH_PREFIX, TOPICS.raw),
      'RawLead',
      ROWS,
    );
    const failed = await readTopic<LeadRejection>(
      isolated(),
      topicName(config.LEEDRUSH_PREFIX, TOPICS.failed),
      'LeadRejection',
      2,
    );

    const leads = raw.flatMap((x) => (x.value && mine(x.value) ? [x.value] : []));
    leads.sort((a, b) => (a.row_index ?? 0) - (b.row_index ?? 0));
    expect(leads).toHaveLength(ROWS);
    const generated = [...generateLeads({ rows: ROWS, seed: 7, brokenRate: 0.05 })];
    // Row 1000 is the oversized record: the generated rows are 0-999 and 1001-2000.
    expect(leads.map((l) => l.row_index)).toEqual([
      ...Array.from({ length: 1000 }, (_, i) => i),
      ...Array.from({ length: 1000 }, (_, i) => i + 1001),
    ]);
    expect(leads.map((l) => l.email ?? '')).toEqual(generated.map((g) => g.cells[0]));
    expect(leads.map((l) => l.last_name ?? '')).toEqual(generated.map((g) => g.cells[2] ?? ''));
    expect(leads.every((l) => l.account_id === 'acct_it' && l.source === 'csv')).toBe(true);
    const key = raw.find((x) => x.value?.row_index === 5 && mine(x.value))?.message.key?.toString();
    expect(key).toBe(`${request.batch_id}:5`);

    const rejections = failed.flatMap((x) => (x.value && mine(x.value) ? [x.value] : []));
    rejections.sort((a, b) => (a.row_index ?? 0) - (b.row_index ?? 0));
    expect(rejections.map((r) => [r.lead_id, r.row_index, r.phase, r.reason])).toEqual([
      [`${request.batch_id}:1000`, 1000, 'ingest', 'record_too_large'],
      [`${request.batch_id}:2001`, 2001, 'ingest', 'unterminated_quote'],
    ]);
    expect(rejections[1]?.original).toEqual({ raw_line: 'last@x.com,"Never closed' });
    expect(rejections[1]?.line_number).toBe(text.split(/\r\n|\r|\n/).length);
    expect(rejections[0]?.original.raw_line?.startsWith('huge@x.com,Huge,Row')).toBe(true);
    expect(service.exitCode, serviceOutput).toBeNull();
  });

  it('signals a batch whose file cannot be read on leads.failed, with the reason, for the sink to fail it', async () => {
    const request = await newBatch('Name,Company\nJohn,Acme\n', 'no-email.csv');
    await produce(request);
    const failed = await readTopic<LeadRejection>(
      isolated(),
      topicName(config.LEEDRUSH_PREFIX, TOPICS.failed),
      'LeadRejection',
      3, // the two unreadable rows of the test above, then this batch's signal
    );
    const signal = failed.find((x) => x.value?.batch_id === request.batch_id)?.value;
    expect(signal && isBatchFailure(signal)).toBe(true);
    expect(signal?.detail).toMatch(/^no_email_column: no column is recognisable as email/);
    expect(signal?.lead_id).toBe(`${request.batch_id}:batch`);
    // A bad file fails its batch, not the service.
    expect(service.exitCode, serviceOutput).toBeNull();
  });
});
