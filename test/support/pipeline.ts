/**
 * The whole pipeline as deployed, for end-to-end tests and the pipeline benchmark: ingest, standardize,
 * verify, enrich, dedupe, score and sink, each its main.ts in its own process on one isolated prefix.
 * DNS answers come from a dnsmasq on loopback serving the upload's own domains (verify and enrich's
 * technographics ask it, never the internet). Every caller says where enrichment comes from: the
 * sandbox providers on a port of their own (opted into with ENRICH_SANDBOX, so no other test's fault
 * injection on the stack's sandbox reaches this run), or no provider at all, as a deployment without
 * provider keys runs.
 *
 *   const pipeline = await startPipeline(config, { uploadDir, dns: dns.address, sandboxUrl: sandbox.url });
 *   afterAll(() => pipeline.stop());
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { LEAD_COLUMNS, leadCsvLines } from '../../bench/lib/generate-leads.ts';
import type { BatchRequest } from '../../schemas/generated.ts';
import { type RunningSandbox, sandboxEnv, startSandbox } from '../../services/enrich/sandbox/server.ts';
import { inspectUpload, type UploadInspection } from '../../services/ingest/reader/index.ts';
import { type BatchRecord, BatchTracker } from '../../services/lib/batch-tracker.ts';
import { type ClickHouseClient, createClickHouse } from '../../services/lib/clickhouse.ts';
import { BaseConfig, type Config } from '../../services/lib/config.ts';
import { TOPICS } from '../../services/lib/names.ts';
import { RecordPublisher } from '../../services/lib/publisher.ts';
import { createRedis, keyspace } from '../../services/lib/redis.ts';
import { LocalUploadStore } from '../../services/lib/upload-store.ts';
import { LEAD_PHASES } from '../../topology/topics.ts';
import { type DnsServer, type DnsZone, startDnsServer } from './dns-server.ts';
import { startIndexedDnsServer } from './indexed-dns.ts';
import { cleanupIsolated, isolatedConfig } from './isolated.ts';
import { type RunningService, serviceEnv, startService } from './services.ts';

/** In the order records flow through them. */
export const PIPELINE_SERVICES = LEAD_PHASES;
export type PipelineService = (typeof PIPELINE_SERVICES)[number];

export interface PipelineOptions {
  uploadDir: string;
  /** ip:port of the resolver verify and enrich ask. */
  dns: string;
  /** Base URL of the sandbox providers the run opts into; null: no provider (ENRICH_SANDBOX off). */
  sandboxUrl: string | null;
  /** Extra settings per service (e.g. LOG_LEVEL), laid over the defaults below. */
  extra?: Partial<Record<PipelineService, Record<string, string>>>;
}

export interface RunningPipeline {
  services: RunningService[];
  get(name: PipelineService): RunningService;
  /** Every service's output, labelled, for failure messages. */
  output(): string;
  /** Stops them all (each drains and commits first); resolves with their exit codes by name. */
  stop(): Promise<Record<string, number | null>>;
  /** SIGKILLs one service (no drain, no commit: a crash) and resolves once it is gone. */
  kill(name: PipelineService): Promise<void>;
  /** Starts a new instance of a killed service with the same settings; resolves once it is healthy. */
  restart(name: PipelineService): Promise<RunningService>;
}

/** Provider rates far above what one machine produces: the run measures the pipeline, not the throttle. */
const UNTHROTTLED = {
  ENRICH_RATE_APOLLO: '100000',
  ENRICH_RATE_CLEARBIT: '100000',
  ENRICH_RATE_HUNTER: '100000',
  ENRICH_RATE_SNOV: '100000',
  ENRICH_BURST: '100000',
};

function settingsOf(name: PipelineService, opts: PipelineOptions): Record<string, string> {
  switch (name) {
    case 'ingest':
      return { UPLOAD_DIR: opts.uploadDir };
    case 'verify':
      // The services' own DNS timeouts: loopback answers in a millisecond, but a run that keeps both cores
      // busy delayed some answers past 500 ms, and an unanswered lookup changes a lead's outcome.
      return { DNS_SERVERS: opts.dns, SMTP_PROBE_ENABLED: 'false' };
    case 'enrich': {
      // Explicitly off without a sandbox, whatever the developer's environment says.
      const providers = opts.sandboxUrl ? sandboxEnv(opts.sandboxUrl) : { ENRICH_SANDBOX: 'false' };
      return { ...providers, ...UNTHROTTLED, DNS_SERVERS: opts.dns };
    }
    default:
      return {};
  }
}

/** Starts every service (in parallel) and resolves once all answer /health; stops them all on failure. */
export async function startPipeline(config: Config, opts: PipelineOptions): Promise<RunningPipeline> {
  const envOf = (name: PipelineService) =>
    serviceEnv(config, { ...settingsOf(name, opts), ...opts.extra?.[name] });
  const launch = (name: PipelineService) => startService(name, envOf(name), { readyTimeoutMs: 180_000 });
  const started = await Promise.allSettled(PIPELINE_SERVICES.map(launch));
  const services = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
  if (failed.length) {
    await Promise.all(services.map((s) => s.stop(5_000)));
    throw new Error(`pipeline did not start:\n${failed.join('\n')}`);
  }
  /** What killed instances wrote, so failure messages still show it. */
  const earlier = new Map<string, string>();
  const get = (name: string) => {
    const s = services.find((x) => x.name === name);
    if (!s) throw new Error(`no service ${name}`);
    return s;
  };
  return {
    services,
    get,
    output: () =>
      services
        .map((s) => `--- ${s.name}\n${`${earlier.get(s.name) ?? ''}${s.output()}`.slice(-8_000)}`)
        .join('\n'),
    stop: async () => {
      const codes = await Promise.all(services.map((s) => s.stop()));
      return Object.fromEntries(services.map((s, i) => [s.name, codes[i] ?? null]));
    },
    kill: async (name) => {
      const { proc } = get(name);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGKILL');
      await exited;
    },
    restart: async (name) => {
      const old = get(name);
      earlier.set(name, `${earlier.get(name) ?? ''}${old.output()}\n--- ${name} restarted\n`);
      const fresh = await launch(name);
      services[services.indexOf(old)] = fresh;
      return fresh;
    },
  };
}

/**
 * A DNS zone for an upload: every email domain found in its text gets an MX host, except about one in
 * ten (chosen by a hash of the name, so the same file always gets the same answers), which announces
 * null MX (RFC 7505: takes no mail). Names outside the zone are not forwarded anywhere.
 */
export function uploadZone(text: string): DnsZone {
  const domains = new Set<string>();
  for (const m of text.toLowerCase().matchAll(/@([a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,})/g)) {
    if (m[1]) domains.add(m[1]);
  }
  const zone: DnsZone & Required<Pick<DnsZone, 'mx' | 'nullMx'>> = {
    zone: 'leedrush.test',
    ttlS: 3_600,
    mx: [],
    nullMx: [],
    // The zone's own name exists, so a resolver check (embedded mode's DNS_CANARY) gets an answer.
    txt: [{ name: 'leedrush.test', text: 'leedrush test zone' }],
  };
  for (const d of [...domains].sort()) {
    if ((createHash('sha1').update(d).digest()[0] ?? 0) < 26) zone.nullMx.push(d);
    else zone.mx.push({ domain: d, host: `mx.${d}`, preference: 10 });
  }
  return zone;
}

/**
 * A messy lead export of `rows` data records: generated leads (broken rows included), then exact copies
 * of every 18th of them (dedupe must catch them), rows with no way to reach anyone (standardize rejects
 * them: insufficient_contact), and a last record whose quote never closes (ingest rejects it).
 */
export function messyLeadCsv(rows: number, seed = 20260319): Buffer {
  const copies = Math.floor(rows / 20);
  const unusable = Math.floor(rows / 100);
  const lines = [...leadCsvLines({ rows: rows - copies - unusable - 1, seed })];
  const dupes = lines
    .slice(1)
    .filter((_, i) => i % 18 === 0)
    .slice(0, copies)
    .map((l) => l.replace(/^\r\n/, ''));
  const city = LEAD_COLUMNS.indexOf('City');
  const notes = LEAD_COLUMNS.indexOf('Notes');
  const noContact = Array.from({ length: unusable }, (_, i) => {
    const cells = LEAD_COLUMNS.map(() => '');
    cells[city] = 'Paris';
    cells[notes] = `walk-in ${i}`;
    return `${cells.join(',')}\r\n`;
  });
  const unterminated = 'late.lead@hooli.io,"Never,closed,Hooli LLC\r\n';
  return Buffer.from([...lines, ...dupes, ...noContact, unterminated].join(''));
}

export interface Submitted {
  batch: BatchRecord;
  inspection: UploadInspection;
}

/**
 * What the gateway does for an upload: stores the file, counts its rows exactly as ingest will read
 * them, records the batch as queued and publishes the BatchRequest.
 */
export async function submitUpload(
  config: Config,
  tracker: BatchTracker,
  upload: { uploadDir: string; accountId: string; filename: string; bytes: Buffer },
): Promise<Submitted> {
  const store = LocalUploadStore.fromSettings({ UPLOAD_DIR: upload.uploadDir, UPLOAD_MAX_BYTES: 0 });
  const stored = await store.put(upload.accountId, upload.filename, Readable.from([upload.bytes]));
  const inspection = await inspectUpload(Readable.from([upload.bytes]), { filename: upload.filename });
  const batch = await tracker.create(
    {
      account_id: upload.accountId,
      filename: upload.filename,
      file_path: stored.file_path,
      source: 'csv',
      rows_total: inspection.rows_detected,
    },
    null,
  );
  if (!batch) throw new Error('batch not created');
  const request: BatchRequest = {
    batch_id: batch.batch_id,
    account_id: batch.account_id,
    file_path: stored.file_path,
    filename: upload.filename,
    format: inspection.format,
    rows_total: inspection.rows_detected,
    source: 'csv',
    requested_at: Date.parse(batch.created_at),
  };
  const publisher = await RecordPublisher.connect(config, 'e2e-gateway');
  try {
    await publisher.publish(TOPICS.batchRequests, 'BatchRequest', batch.account_id, [request]);
  } finally {
    await publisher.disconnect();
  }
  return { batch, inspection };
}

/**
 * Polls the tracker until the sink has announced the batch's final state (its ClickHouse row written);
 * `onPoll` sees every reading. A failed reading (a Redis command timing out while the machine is saturated)
 * is retried, not fatal: a 20-minute run must not die on one slow poll. Throws on timeout with the last
 * reading and the last error.
 */
export async function waitForAnnounced(
  tracker: BatchTracker,
  accountId: string,
  batchId: string,
  timeoutMs: number,
  onPoll?: (b: BatchRecord | null) => void,
): Promise<BatchRecord> {
  const deadline = Date.now() + timeoutMs;
  let last: BatchRecord | null = null;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    try {
      last = await tracker.get(accountId, batchId);
      lastError = null;
    } catch (err) {
      lastError = err;
      await sleep(500);
      continue;
    }
    onPoll?.(last);
    if (last?.announced_at && (last.status === 'completed' || last.status === 'failed')) return last;
    await sleep(500);
  }
  const cause = lastError ? ` (last poll failed: ${String(lastError)})` : '';
  throw new Error(`batch ${batchId} not announced after ${timeoutMs} ms: ${JSON.stringify(last)}${cause}`);
}

/** Everything a whole-pipeline run needs, around one isolated prefix; `close()` undoes all of it. */
export interface PipelineRun {
  config: Config;
  uploadDir: string;
  zone: DnsZone;
  dns: DnsServer;
  /** Null when the run enriches without providers. */
  sandbox: RunningSandbox | null;
  pipeline: RunningPipeline;
  redis: Redis;
  tracker: BatchTracker;
  ch: ClickHouseClient;
  /** Stops the services (resolves with their exit codes), the servers, and drops the prefix's data. */
  close(): Promise<Record<string, number | null>>;
}

/** Where a whole-pipeline run's enrichment comes from: its own sandbox server, or no provider. */
export type RunProviders = 'sandbox' | 'none';

/**
 * An isolated prefix, a DNS server for `upload`'s domains, sandbox providers (with `providers:
 * 'sandbox'`) and the seven services. The DNS server is dnsmasq, or with `dns: 'indexed'` the bench's
 * server that answers as dnsmasq does at a cost per query that does not grow with the zone.
 */
export async function startPipelineRun(
  label: string,
  upload: Buffer,
  opts: Pick<PipelineOptions, 'extra'> & { providers: RunProviders; dns?: 'dnsmasq' | 'indexed' },
): Promise<PipelineRun> {
  const config = await isolatedConfig(label, BaseConfig);
  const uploadDir = mkdtempSync(join(tmpdir(), `leedrush-${label}-`));
  const redis = createRedis(config.REDIS_URL, label);
  const ch = createClickHouse(config);
  const zone = uploadZone(upload.toString('utf8'));
  const started: { dns?: DnsServer; sandbox?: RunningSandbox; pipeline?: RunningPipeline } = {};
  const close = async () => {
    const codes = (await started.pipeline?.stop()) ?? {};
    await started.sandbox?.close();
    await started.dns?.stop();
    await ch.close();
    redis.disconnect();
    await cleanupIsolated(config);
    rmSync(uploadDir, { recursive: true, force: true });
    return codes;
  };
  try {
    started.dns = await (opts.dns === 'indexed' ? startIndexedDnsServer : startDnsServer)(zone);
    if (opts.providers === 'sandbox') started.sandbox = await startSandbox();
    started.pipeline = await startPipeline(config, {
      uploadDir,
      dns: started.dns.address,
      sandboxUrl: started.sandbox?.url ?? null,
      extra: opts.extra,
    });
  } catch (err) {
    await close();
    throw err;
  }
  const { dns, pipeline } = started;
  const sandbox = started.sandbox ?? null;
  const tracker = new BatchTracker(redis, keyspace(config.LEEDRUSH_PREFIX));
  return { config, uploadDir, zone, dns, sandbox, pipeline, redis, tracker, ch, close };
}
