import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrichedLead } from '../../bench/lib/dedup-dataset.ts';
import type { StandardizedLead, VerifiedLead } from '../../schemas/generated.ts';
import { REPO_ROOT } from '../../services/lib/config.ts';
import { serviceArgv } from '../../services/lib/heap-limits.ts';
import { TOPICS, topicName } from '../../services/lib/names.ts';
import { AvroCodec, registrySchemaSource } from '../../services/runtime/index.ts';
import { VerifyConfig } from '../../services/verify/config.ts';
import { type DnsServer, startDnsServer } from '../support/dns-server.ts';
import { cleanupIsolated, isolatedConfig } from '../support/isolated.ts';
import {
  KNOWN_MAILBOXES,
  mailTestZone,
  type SmtpServers,
  startSmtpServers,
} from '../support/smtp-servers.ts';
import { decodedOrThrow, followTopic } from '../support/topic-follower.ts';

// services/verify/main.ts as deployed, in its own process: leads.standardized → leads.verified through the
// real Kafka and registry, DNS from dnsmasq, SMTP probes to smtp-server, the DNS cache in Redis, line
// status from a Twilio-shaped HTTP server — all on loopback.

let config: VerifyConfig;
let dns: DnsServer;
let smtp: SmtpServers;
let lookup: Server;
let service: ChildProcess;
let output = '';
let metricsPort = 0;
let kafka: Kafka;
let codec: AvroCodec;

const LINE_TYPES: Record<string, object> = {
  '+447911123456': { type: 'mobile', error_code: null },
  '+33612345678': { type: null, error_code: 60600 },
};

beforeAll(async () => {
  config = await isolatedConfig('verify', VerifyConfig);
  dns = await startDnsServer(mailTestZone(60));
  smtp = await startSmtpServers(KNOWN_MAILBOXES);
  lookup = createServer((req, res) => {
    const e164 = decodeURIComponent((req.url ?? '').split('?')[0]?.replace('/v2/PhoneNumbers/', '') ?? '');
    // Numbers without a scripted answer are ordinary landlines.
    const lti = LINE_TYPES[e164] ?? { type: 'landline', error_code: null };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ phone_number: e164, valid: true, line_type_intelligence: lti }));
  });
  await new Promise<void>((r) => lookup.listen(0, '127.0.0.1', r));
  metricsPort = await freePort();
  kafka = new Kafka({ clientId: 'verify-it', brokers: config.KAFKA_BROKERS, logLevel: logLevel.ERROR });
  codec = new AvroCodec(registrySchemaSource(config.SCHEMA_REGISTRY_URL));
  service = spawn(process.execPath, serviceArgv('verify'), {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      LEEDRUSH_PREFIX: config.LEEDRUSH_PREFIX,
      CLICKHOUSE_DATABASE: config.CLICKHOUSE_DATABASE,
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'warn',
      DNS_SERVERS: dns.address,
      DNS_TIMEOUT_MS: '300',
      DNS_TRIES: '2',
      SMTP_PROBE_ACCOUNTS: 'acct_probe',
      SMTP_PORT: String(smtp.port),
      // No case here waits on a hanging mail server: generous, so a busy machine's slow first probe
      // (CI once took over 500 ms for a step) is not a verdict of unknown.
      SMTP_TIMEOUT_MS: '3000',
      SMTP_TOTAL_TIMEOUT_MS: '8000',
      SMTP_HELO_NAME: 'verify.leedrush.test',
      PHONE_LOOKUP_URL: `http://127.0.0.1:${(lookup.address() as { port: number }).port}`,
      PHONE_LOOKUP_SID: 'AC0000',
      PHONE_LOOKUP_TOKEN: 'token',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [service.stdout, service.stderr]) {
    stream?.on('data', (c: Buffer) => {
      output += c.toString();
    });
  }
});

afterAll(async () => {
  if (service && service.exitCode === null) {
    service.kill('SIGTERM');
    await Promise.race([new Promise((r) => service.once('exit', r)), sleep(15_000)]);
  }
  if (config) {
    await cleanupIsolated(config);
  }
  await dns?.stop();
  await smtp?.stop();
  lookup?.closeAllConnections();
  await new Promise((r) => lookup?.close(r));
});

const CASES: {
  email: string | null;
  account: string;
  phone: string | null;
  raw?: string;
  email_status: string;
  phone_status: string;
}[] = [
  {
    email: 'jane@acme.test',
    account: 'acct_probe',
    phone: '+447911123456',
    email_status: 'verified_deliverable',
    phone_status: 'mobile_active',
  },
  {
    email: 'nobody@acme.test',
    account: 'acct_plain',
    phone: '+33612345678',
    email_status: 'deliverable',
    phone_status: 'disconnected',
  },
  {
    email: 'nobody@acme.test',
    account: 'acct_probe',
    phone: null,
    email_status: 'undeliverable',
    phone_status: 'missing',
  },
  {
    email: 'anyone@catchall.test',
    account: 'acct_probe',
    phone: null,
    email_status: 'accept_all',
    phone_status: 'missing',
  },
  {
    email: 'x@nullmx.test',
    account: 'acct_plain',
    phone: null,
    email_status: 'undeliverable',
    phone_status: 'missing',
  },
  {
    email: 'x@missing.test',
    account: 'acct_plain',
    phone: null,
    raw: 'call me',
    email_status: 'invalid_domain',
    phone_status: 'invalid',
  },
  {
    email: 'info@acme.test',
    account: 'acct_plain',
    phone: null,
    email_status: 'role_account',
    phone_status: 'missing',
  },
  {
    email: 'bad@@acme.test',
    account: 'acct_plain',
    phone: null,
    email_status: 'invalid_syntax',
    phone_status: 'missing',
  },
  {
    email: 'x@slow.test',
    account: 'acct_plain',
    phone: null,
    email_status: 'unknown',
    phone_status: 'missing',
  },
  {
    email: null,
    account: 'acct_plain',
    phone: '+12015550123',
    email_status: 'missing',
    phone_status: 'landline_valid',
  },
];

function standardized(i: number, c: (typeof CASES)[number]): StandardizedLead {
  const { meta, lead } = enrichedLead({
    lead_id: `vb:${i}`,
    account_id: c.account,
    batch_id: 'vb',
    row_index: i,
    lead: {
      email: c.email,
      email_display: c.email,
      full_name: 'Sam Lee',
      title_normalized: 'VP of Sales',
      seniority: 'VP',
      company_name: 'Acme',
      phone_e164: c.phone,
      phone_raw: c.raw ?? c.phone,
      extras: { source_row: String(i) },
    },
  });
  return { meta, lead };
}

async function produceAll(leads: StandardizedLead[]): Promise<void> {
  const topic = topicName(config.LEEDRUSH_PREFIX, TOPICS.standardized);
  const encoder = await codec.encoderFor<StandardizedLead>(topic, 'StandardizedLead');
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: leads.map((l) => ({ key: l.meta.lead_id, value: encoder.encode(l) })),
  });
  await producer.disconnect();
}

async function consumeVerified(expected: number, timeoutMs = 120_000): Promise<VerifiedLead[]> {
  const out: VerifiedLead[] = [];
  const stop = await followTopic<VerifiedLead>(
    kafka,
    codec,
    topicName(config.LEEDRUSH_PREFIX, TOPICS.verified),
    'VerifiedLead',
    (d) => out.push(decodedOrThrow(d)),
  );
  try {
    const deadline = Date.now() + timeoutMs;
    while (out.length < expected && Date.now() < deadline) await sleep(200);
    // A little longer: anything beyond the expected count would be a duplicate.
    await sleep(1_000);
    return out;
  } finally {
    await stop();
  }
}

describe('verify service through Kafka', () => {
  it('annotates every standardized lead exactly once, with the documented verdicts', async () => {
    const leads = CASES.map((c, i) => standardized(i, c));
    await produceAll(leads);
    const verified = await consumeVerified(leads.length);
    expect(verified.length, output).toBe(leads.length);
    const byId = new Map(verified.map((v) => [v.meta.lead_id, v]));
    CASES.forEach((c, i) => {
      const v = byId.get(`vb:${i}`);
      expect(v, `lead ${i}`).toBeDefined();
      expect({ email: c.email, ...pick(v as VerifiedLead) }).toEqual({
        email: c.email,
        email_status: c.email_status,
        phone_status: c.phone_status,
      });
      // Verification annotates: the lead and its provenance pass through untouched.
      expect(v?.lead).toEqual(leads[i]?.lead);
      expect(v?.meta).toEqual(leads[i]?.meta);
    });
    expect(byId.get('vb:0')?.verification.mx_hosts).toEqual(['mx.acme.test']);
    expect(byId.get('vb:6')?.verification.email_role).toBe(true);
  });

  it('counts verdicts and DNS cache use on /metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const value = (series: string) => Number(new RegExp(`^${series} (\\d+)`, 'm').exec(text)?.[1]);
    expect(value('leedrush_verify_email_status_total\\{status="undeliverable",service="verify"\\}')).toBe(
      CASES.filter((c) => c.email_status === 'undeliverable').length,
    );
    expect(value('leedrush_verify_phone_status_total\\{status="missing",service="verify"\\}')).toBe(
      CASES.filter((c) => c.phone_status === 'missing').length,
    );
    expect(
      value('leedrush_verify_dns_cache_lookups_total\\{level="miss",service="verify"\\}'),
    ).toBeGreaterThan(0);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createTcpServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function pick(v: VerifiedLead) {
  return { email_status: v.verification.email_status, phone_status: v.verification.phone_status };
}
