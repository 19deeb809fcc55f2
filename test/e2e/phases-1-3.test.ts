import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchRequest, LeadRejection, VerifiedLead } from '../../schemas/generated.ts';
import { BaseConfig, type Config } from '../../services/lib/config.ts';
import { TOPICS, topicName } from '../../services/lib/names.ts';
import { RecordPublisher } from '../../services/lib/publisher.ts';
import { createRedis } from '../../services/lib/redis.ts';
import { LocalUploadStore } from '../../services/lib/upload-store.ts';
import { AvroCodec, registrySchemaSource } from '../../services/runtime/index.ts';
import {
  buildMessyUpload,
  type FixtureRecord,
  fixtureZone,
  MAX_RECORD_CHARS,
} from '../fixtures/e2e/messy-leads.ts';
import { type DnsServer, startDnsServer } from '../support/dns-server.ts';
import { cleanupIsolated, isolatedConfig } from '../support/isolated.ts';
import { type RunningService, serviceEnv, startService } from '../support/services.ts';

// Phases 1–3 as deployed: ingest, standardize and verify, each its main.ts in its own process, chained
// through the real Kafka and registry; DNS answers from dnsmasq on loopback; SMTP probing off (the
// production default). A messy CSV goes in as a BatchRequest; every row must come out exactly once,
// verified or rejected with its reason.

const ACCOUNT = 'acct_e2e';

let config: Config;
let uploadDir: string;
let dns: DnsServer;
let services: RunningService[] = [];

beforeAll(async () => {
  uploadDir = mkdtempSync(join(tmpdir(), 'leedrush-e2e-'));
  config = await isolatedConfig('e2e_phases13', BaseConfig);
  dns = await startDnsServer(fixtureZone());
  const env = (extra: Record<string, string>) => serviceEnv(config, extra);
  services = await Promise.all([
    startService('ingest', env({ UPLOAD_DIR: uploadDir, INGEST_MAX_RECORD_CHARS: String(MAX_RECORD_CHARS) })),
    startService('standardize', env({})),
    startService(
      'verify',
      env({ DNS_SERVERS: dns.address, DNS_TIMEOUT_MS: '500', DNS_TRIES: '2', SMTP_PROBE_ENABLED: 'false' }),
    ),
  ]);
}, 120_000);

afterAll(async () => {
  const codes = await Promise.all(services.map((s) => s.stop()));
  expect(codes, 'services drain and exit 0 on SIGTERM').toEqual(services.map(() => 0));
  await dns?.stop();
  if (config) {
    const redis = createRedis(config.REDIS_URL, 'e2e-cleanup');
    const keys = await redis.keys(`${config.LEEDRUSH_PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await cleanupIsolated(config);
  }
  if (uploadDir) rmSync(uploadDir, { recursive: true, force: true });
}, 60_000);

interface Outputs {
  verified: VerifiedLead[];
  failed: LeadRejection[];
}

/**
 * Reads leads.verified and leads.failed from the beginning until the batch's rows are all accounted
 * for, then a little longer: anything that arrives beyond the expected counts is a duplicate.
 */
async function readOutputs(batchId: string, verified: number, failed: number): Promise<Outputs> {
  const kafka = new Kafka({
    clientId: 'e2e-reader',
    brokers: config.KAFKA_BROKERS,
    logLevel: logLevel.ERROR,
  });
  const codec = new AvroCodec(registrySchemaSource(config.SCHEMA_REGISTRY_URL));
  const verifiedTopic = topicName(config.LEEDRUSH_PREFIX, TOPICS.verified);
  const decoders = {
    [verifiedTopic]: codec.decoderFor<VerifiedLead | LeadRejection>('VerifiedLead'),
    [topicName(config.LEEDRUSH_PREFIX, TOPICS.failed)]: codec.decoderFor<VerifiedLead | LeadRejection>(
      'LeadRejection',
    ),
  };
  const out: Outputs = { verified: [], failed: [] };
  const consumer = kafka.consumer({
    groupId: `e2e-reader-${randomBytes(6).toString('hex')}`,
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: Object.keys(decoders), fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const decoder = decoders[batch.topic];
      if (!decoder) throw new Error(`unexpected topic ${batch.topic}`);
      await decoder.prepare(batch.messages.map((m) => m.value));
      for (const m of batch.messages) {
        const d = decoder.decode(m.value);
        if (!d.ok) throw new Error(`undecodable record on ${batch.topic}: ${d.reason}`);
        if (batch.topic === verifiedTopic) {
          const lead = d.value as VerifiedLead;
          if (lead.meta.batch_id === batchId) out.verified.push(lead);
        } else {
          const rejection = d.value as LeadRejection;
          if (rejection.batch_id === batchId) out.failed.push(rejection);
        }
      }
    },
  });
  try {
    const deadline = Date.now() + 90_000;
    while ((out.verified.length < verified || out.failed.length < failed) && Date.now() < deadline) {
      await sleep(200);
    }
    await sleep(2_000);
    return out;
  } finally {
    await consumer.disconnect();
  }
}

async function submit(bytes: Buffer): Promise<BatchRequest> {
  const store = LocalUploadStore.fromSettings({ UPLOAD_DIR: uploadDir, UPLOAD_MAX_BYTES: 0 });
  const filename = 'Messy Leads (export).csv';
  const stored = await store.put(ACCOUNT, filename, Readable.from([bytes]));
  const request: BatchRequest = {
    batch_id: `batch_${randomBytes(4).toString('hex')}`,
    account_id: ACCOUNT,
    file_path: stored.file_path,
    filename,
    format: 'csv',
    rows_total: 0,
    source: 'csv',
    requested_at: Date.now(),
  };
  const publisher = await RecordPublisher.connect(config, 'e2e-gateway');
  try {
    await publisher.publish(TOPICS.batchRequests, 'BatchRequest', request.batch_id, [request]);
  } finally {
    await publisher.disconnect();
  }
  return request;
}

const idOf = (batchId: string, r: FixtureRecord) => `${batchId}:${r.rowIndex}`;

describe('phases 1–3 end to end through Kafka (ingest → standardize → verify)', () => {
  it('verifies every readable, usable row exactly once and rejects every other row exactly once, with its reason', async () => {
    const upload = buildMessyUpload();
    const usable = upload.records.filter((r) => r.outcome.kind === 'verified');
    const rejected = upload.records.filter((r) => r.outcome.kind === 'failed');
    expect(upload.records.length).toBeGreaterThanOrEqual(290);

    const request = await submit(upload.bytes);
    const batch = request.batch_id;
    const { verified, failed } = await readOutputs(batch, usable.length, rejected.length);
    const logs = services.map((s) => `--- ${s.name}\n${s.output()}`).join('\n');

    // Exactly one verified record per usable row: none missing, none twice, nothing else.
    const verifiedIds = verified.map((v) => v.meta.lead_id).sort();
    expect(verifiedIds, logs).toEqual(usable.map((r) => idOf(batch, r)).sort());

    // Every other row exactly once in leads.failed, from the phase that refused it, with its reason.
    const rejections = failed
      .map((f) => ({ lead_id: f.lead_id, phase: f.phase, reason: f.reason, line_number: f.line_number }))
      .sort((a, b) => a.lead_id.localeCompare(b.lead_id));
    expect(rejections, logs).toEqual(
      rejected
        .map((r) => {
          if (r.outcome.kind !== 'failed') throw new Error('unreachable');
          return {
            lead_id: idOf(batch, r),
            phase: r.outcome.phase,
            reason: r.outcome.reason,
            // Unreadable rows say where they start in the file; rows read fine have no line to point at.
            line_number: r.outcome.phase === 'ingest' ? r.lineNumber : null,
          };
        })
        .sort((a, b) => a.lead_id.localeCompare(b.lead_id)),
    );
    for (const f of failed) expect(f.detail, f.lead_id).not.toBe('');
    const unterminated = failed.find((f) => f.reason === 'unterminated_quote');
    expect(unterminated?.original).toEqual({ raw_line: 'late.lead@hooli.io;"Never;closed;Hooli LLC' });
    const unusable = failed.filter((f) => f.phase === 'standardize');
    expect(unusable.map((f) => f.original.city ?? f.original.phone ?? f.original.email).sort()).toEqual([
      '+44 20 7946 0958',
      'Paris',
      'n/a',
    ]);

    // The fields of every verified lead, against expectations written by hand in the fixture.
    const byId = new Map(verified.map((v) => [v.meta.lead_id, v]));
    for (const r of usable) {
      if (r.outcome.kind !== 'verified') continue;
      const v = byId.get(idOf(batch, r));
      expect(v?.meta).toMatchObject({
        account_id: ACCOUNT,
        batch_id: batch,
        row_index: r.rowIndex,
        source: 'csv',
      });
      expect({ ...v?.lead, ...v?.verification }, `row ${r.rowIndex} (line ${r.lineNumber})`).toMatchObject(
        r.outcome.expect,
      );
    }

    // Every status the fixture's DNS and lists lead to actually occurred.
    const statuses = new Set(verified.map((v) => v.verification.email_status));
    expect([...statuses].sort()).toEqual(
      ['deliverable', 'disposable', 'invalid_domain', 'missing', 'role_account', 'undeliverable'].sort(),
    );
  });
});
