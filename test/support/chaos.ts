/**
 * The chaos run (`npm run chaos`, test/e2e/chaos.test.ts): one upload through the gateway app while the
 * pipeline's services are SIGKILLed one after the other and restarted, and the stack's Kafka broker,
 * Redis and ClickHouse are restarted, ClickHouse after 60 s down. It records when each fault hit, what
 * was in flight, and how long each took to heal; `chaosViolations` lists every invariant the end state
 * breaks (the batch completed, each row once, same outcome as the embedded run, no webhook event
 * delivered twice, no lead charged twice, sink memory bounded and no commit while ClickHouse was down).
 *
 * Faults hit the batch in the order it reaches them: each service is killed only once it has consumed
 * part of the batch and still has input uncommitted (consumer lag > 0). dedupe holds a batch until its
 * last lead arrived, so score and sink work only at the end: Kafka and Redis are restarted while enrich
 * is still working (the providers slowed down meanwhile, so it still is on a fast machine), then
 * ClickHouse goes down the moment dedupe releases the batch and stays down 60 s, and score and the sink
 * are killed inside that outage. Provider calls (the run's own sandbox) answer after
 * `providerLatencyMs`, as real APIs do, and enrich works on `enrichConcurrency` leads at once.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { restartComponent, startComponent, status, stopComponent } from '../../scripts/stack/stack.ts';
import type { BatchRecord } from '../../services/lib/batch-tracker.ts';
import { ident, querySql, sql } from '../../services/lib/clickhouse.ts';
import type { Config } from '../../services/lib/config.ts';
import { resolvePhase } from '../../topology/topics.ts';
import { billingOf, startSignedReceiver, until } from './billing.ts';
import { gatewayOnPrefix } from './gateway.ts';
import {
  clickhouseOutcomes,
  compareOutcomes,
  embeddedOutcomes,
  enrichmentCallStatuses,
  type OutcomeDifferences,
} from './outcomes.ts';
import {
  messyLeadCsv,
  PIPELINE_SERVICES,
  type PipelineService,
  startPipelineRun,
  waitForAnnounced,
} from './pipeline.ts';
import { type RunningService, serviceEnv, startService } from './services.ts';
import { completedSession, postEvent, signedEvent } from './stripe.ts';

export interface ChaosSettings {
  rows: number;
  /** How long ClickHouse stays down (the back-pressure part). */
  clickhouseDownMs: number;
  /** Every sandbox provider call waits this long ... */
  providerLatencyMs: number;
  /** ... with at most this many leads enriched at once: enrichment's pace, about concurrency / latency / calls per lead. */
  enrichConcurrency: number;
  /** RUNTIME_SESSION_TIMEOUT_MS of every service: how long a killed instance holds its partitions. */
  sessionTimeoutMs: number;
  /** The bound the sink's RSS must stay under while ClickHouse is down. */
  sinkRssBoundMiB: number;
  log: (line: string) => void;
}

export const CHAOS_DEFAULTS: Omit<ChaosSettings, 'log'> = {
  rows: 20_000,
  clickhouseDownMs: 60_000,
  providerLatencyMs: 150,
  enrichConcurrency: 24,
  sessionTimeoutMs: 10_000,
  sinkRssBoundMiB: 768,
};

const CREDITS = 1_000_000;
/** The plan the customer buys: payg's 10,000 rows per batch are too few for the run's file. */
const PLAN = 'starter';
const PLAN_CREDITS = `payg=${CREDITS},${PLAN}=${CREDITS}`;
const STRIPE_SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const STACK_FAULTS = ['kafka', 'redis'] as const;
/**
 * Provider latency while the stack faults run: far under ENRICH_TIMEOUT_MS (5 s) even behind a few
 * queued calls, so no call fails (at 1.5 s one lead once lost its provider data to a timeout).
 */
const HOLD_LATENCY_MS = 500;

export interface FaultRecord {
  fault: string;
  /** Seconds since the upload. */
  atS: number;
  /** What the target had in flight when it hit: rows the sink had counted, the target's consumed input and lag. */
  rowsDone: number;
  consumed: number;
  lag: number;
  /** Fault → the restarted service or component answered its health check. */
  healthyMs: number;
  /** Fault → every service answered /health 200 again. */
  allHealthyMs: number;
  /** Fault → the pipeline made progress again (the affected stage consumed or counted rows). */
  progressMs: number;
}

export interface BackPressure {
  downMs: number;
  /** The sink group's committed offsets (summed over partitions) a few seconds in and at the end of the outage. */
  committedEarly: number;
  committedLate: number;
  /** Its input not yet committed at the end of the outage: what waited in Kafka. */
  lagLate: number;
  /** Rows the tracker counted a few seconds in and at the end (the sink counts only what it wrote). */
  rowsDoneEarly: number;
  rowsDoneLate: number;
  /** Messages the restarted sink fetched while ClickHouse was down (bounded by one fetch: it does not read ahead). */
  fetchedWhileDown: number;
  sinkRssBeforeMiB: number;
  sinkRssMaxMiB: number;
  boundMiB: number;
}

export interface ChaosReport {
  settings: Omit<ChaosSettings, 'log'>;
  batch: BatchRecord;
  faults: FaultRecord[];
  backPressure: BackPressure;
  counts: {
    rows: number;
    clickhouseLeads: number;
    clickhouseRejections: number;
    /** Distinct row indexes over leads and rejections. */
    clickhouseRowIndexes: number;
    clickhouseQualified: number;
    embeddedQualified: number;
    /** Leads that entered the pipeline (past ingest): each costs one credit. */
    chargeable: number;
    balance: number | undefined;
    usageConsumed: number;
    usageDistinctLeads: number;
    qualifiedEvents: number;
    deliveries: number;
    distinctDeliveries: number;
    unverifiedDeliveries: number;
    batchCompletedDeliveries: number;
    apiStatus: string;
    /** Provider calls of the batch that ended otherwise than ok / not_found (a lead then lacks that data). */
    providerCallsFailed: number;
  };
  differences: OutcomeDifferences;
  stackHealthy: string[];
  durationS: number;
}

type Chaos = Awaited<ReturnType<typeof setUp>>;

async function setUp(s: ChaosSettings) {
  const bytes = messyLeadCsv(s.rows, 7);
  const receiver = await startSignedReceiver();
  const session = String(s.sessionTimeoutMs);
  const common = { RUNTIME_SESSION_TIMEOUT_MS: session, BILLING_PLAN_CREDITS: PLAN_CREDITS };
  const own: Partial<Record<PipelineService, Record<string, string>>> = {
    sink: { SINK_SESSION_TIMEOUT_MS: session },
    // Predictive pre-enrichment would fill the caches ahead of enrich, out of the providers' pace.
    enrich: {
      RUNTIME_BATCH_CONCURRENCY: String(s.enrichConcurrency),
      ENRICH_PARTITIONS_CONCURRENTLY: '1',
      PREDICTIVE_ENABLED: 'false',
    },
  };
  const extra = Object.fromEntries(PIPELINE_SERVICES.map((n) => [n, { ...common, ...own[n] }]));
  const run = await startPipelineRun('chaos', bytes, { providers: 'sandbox', extra });
  const others: RunningService[] = [];
  const close = async () => {
    await Promise.all(others.map((o) => o.stop()));
    await run.close();
    await receiver.close();
  };
  try {
    others.push(
      ...(await Promise.all([
        startService('usage', serviceEnv(run.config, common)),
        startService(
          'webhooks',
          serviceEnv(run.config, {
            ...common,
            WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
            WEBHOOK_SESSION_TIMEOUT_MS: session,
            // Every qualified lead is an event: enough attempts at once to deliver them in seconds.
            WEBHOOK_CONCURRENCY: '64',
            WEBHOOK_POLL_MS: '100',
          }),
        ),
      ])),
    );
    const gateway = await gatewayOnPrefix(run.config, run.uploadDir, {
      BILLING_PLAN_CREDITS: PLAN_CREDITS,
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
    });
    const admin = kafkaAdmin(run.config);
    return { bytes, receiver, run, others, gateway, admin, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The probe's admin client. A broker restart leaves a client's connections dead, so after any failure
 * the next call starts a new one.
 */
function kafkaAdmin(config: Config) {
  let admin: Admin | undefined;
  const reset = async () => {
    const old = admin;
    admin = undefined;
    await old?.disconnect().catch(() => {});
  };
  return {
    async use<T>(work: (a: Admin) => Promise<T>): Promise<T> {
      try {
        if (!admin) {
          const fresh = new Kafka({
            clientId: 'chaos-probe',
            brokers: config.KAFKA_BROKERS,
            connectionTimeout: 2_000,
            requestTimeout: 5_000,
            retry: { retries: 0 },
            logLevel: logLevel.NOTHING,
          }).admin();
          admin = fresh;
          await fresh.connect();
        }
        return await work(admin);
      } catch (err) {
        await reset();
        throw err;
      }
    },
    close: reset,
  };
}

/** Sum of a Prometheus counter over its series whose labels contain `labelPart`. */
function counter(text: string, name: string, labelPart = ''): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    if ((m[1] ?? '').includes(labelPart)) sum += Number(m[2]);
  }
  return sum;
}

async function scrape(service: RunningService): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${service.port}/metrics`, { signal: AbortSignal.timeout(2_000) });
  return res.text();
}

async function healthy(service: RunningService): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${service.port}/health`, {
      signal: AbortSignal.timeout(1_000),
    });
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Tolerates the outage under way: a probe that throws reads as "not yet". */
const tolerant =
  <T>(probe: () => Promise<T | undefined>) =>
  async (): Promise<T | undefined> => {
    try {
      return await probe();
    } catch (err) {
      if (process.env.CHAOS_DEBUG) process.stderr.write(`probe: ${String(err)}\n`);
      return undefined;
    }
  };

/** The process's resident set; 0 once it is gone (killed, being replaced). */
function rssMiB(service: RunningService): number {
  try {
    const status = readFileSync(`/proc/${service.proc.pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

export async function runChaos(settings: ChaosSettings): Promise<ChaosReport> {
  const started = Date.now();
  const c = await setUp(settings);
  try {
    return await scenario(c, settings, started);
  } finally {
    await c.admin.close();
    await c.gateway.disconnect();
    await c.close();
    // A run cut short may leave a component down: the stack is shared, so bring back what it touched.
    for (const name of ['kafka', 'registry', 'clickhouse', 'redis'])
      await startComponent(name).catch((err: unknown) =>
        settings.log(`${name} did not come back: ${String(err)}`),
      );
  }
}

async function scenario(c: Chaos, s: ChaosSettings, started: number): Promise<ChaosReport> {
  const { run, gateway, receiver, admin } = c;
  const { config, tracker, ch, pipeline } = run;
  const logs = () => `${pipeline.output()}\n${c.others.map((o) => o.output().slice(-4_000)).join('\n')}`;
  const { sandbox } = run;
  if (!sandbox) throw new Error('the chaos run needs its sandbox');
  const pace = (latencyMs: number) => {
    for (const fault of Object.values(sandbox.state.faults)) fault.latency_ms = latencyMs;
  };
  pace(s.providerLatencyMs);

  // A customer: account, plan bought through Checkout (stripe-mock; Stripe's event signed as Stripe
  // does), webhook endpoint, upload and process, all through the API.
  const { token, accountId } = await gateway.signUp();
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await gateway.json(method, path, body, token);
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const endpoint = await api('POST', '/webhooks', {
    url: receiver.url,
    events: ['batch.completed', 'lead.qualified'],
  });
  receiver.setSecret(String(endpoint.secret));
  const checkout = await api('POST', '/billing/checkout', { plan_id: PLAN });
  const session = completedSession(checkout as never, accountId, 'subscription');
  const paid = await postEvent(
    gateway.app,
    signedEvent('checkout.session.completed', session, STRIPE_SECRET),
  );
  if (paid.status !== 200) throw new Error(`checkout.session.completed: ${paid.status} ${await paid.text()}`);
  const up = await gateway.upload(token, 'chaos.csv', new Uint8Array(c.bytes));
  if (up.status !== 201) throw new Error(`upload: ${up.status} ${await up.text()}`);
  const batchId = String((await api('POST', '/process', { filename: 'chaos.csv' })).batch_id);
  const t0 = Date.now();
  const since = (t: number) => Date.now() - t;
  const rowsDone = async () => (await tracker.get(accountId, batchId).catch(() => null))?.rows_done ?? 0;
  s.log(`batch ${batchId}: ${s.rows} rows uploaded`);

  const lagOf = async (name: PipelineService | 'sink'): Promise<number> => {
    const phase = resolvePhase(config.LEEDRUSH_PREFIX, name);
    let lag = 0;
    for (const { topic } of phase.inputs) {
      // One request at a time: kafkajs' admin, asked twice at once right after connecting, can report
      // "no brokers in the broker pool".
      const ends = await admin.use((a) => a.fetchTopicOffsets(topic));
      const committed = await admin.use((a) => a.fetchOffsets({ groupId: phase.groupId, topics: [topic] }));
      const done = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]));
      for (const p of ends) {
        const at = done.get(p.partition) ?? -1;
        lag += Number(p.high) - (at < 0 ? Number(p.low) : at);
      }
    }
    return lag;
  };
  const committedOf = async (name: 'sink'): Promise<number> => {
    const phase = resolvePhase(config.LEEDRUSH_PREFIX, name);
    const offsets = await admin.use((a) =>
      a.fetchOffsets({ groupId: phase.groupId, topics: phase.inputs.map((i) => i.topic) }),
    );
    return offsets.flatMap((t) => t.partitions).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
  };
  /** What a service has done on the batch: ingest's leads produced, anyone else's leads consumed. */
  const workOf = async (name: PipelineService): Promise<number> => {
    const text = await scrape(pipeline.get(name));
    if (name === 'ingest') return counter(text, 'leedrush_runtime_produced_total');
    if (name === 'sink') return counter(text, 'leedrush_runtime_consumed_total', 'leads.scored');
    return counter(text, 'leedrush_runtime_consumed_total');
  };
  const allServices = () => [...pipeline.services, ...c.others];
  const allHealthy = async () => (await Promise.all(allServices().map(healthy))).every(Boolean);
  /** Messages consumed by the services, plus provider calls made by enrich (which crawl during the stack faults). */
  const pipelineWork = async () => {
    let n = 0;
    for (const svc of pipeline.services) n += counter(await scrape(svc), 'leedrush_runtime_consumed_total');
    for (const byEndpoint of Object.values(sandbox.state.requests))
      for (const calls of Object.values(byEndpoint)) n += calls;
    return n;
  };

  const faults: FaultRecord[] = [];
  const record = async (
    fault: string,
    at: number,
    inFlight: { rowsDone: number; consumed: number; lag: number },
    healthyAt: number,
    progressed: () => Promise<true | undefined>,
  ) => {
    await until(
      `${fault}: every service healthy again`,
      tolerant(async () => (await allHealthy()) || undefined),
      120_000,
      logs,
    );
    const allHealthyAt = Date.now();
    await until(`${fault}: the pipeline progressing again`, tolerant(progressed), 120_000, logs);
    const r: FaultRecord = {
      fault,
      atS: Math.round((at - t0) / 100) / 10,
      ...inFlight,
      healthyMs: healthyAt - at,
      allHealthyMs: allHealthyAt - at,
      progressMs: since(at),
    };
    faults.push(r);
    s.log(
      `${fault} at ${r.atS} s (rows counted ${r.rowsDone}, consumed ${r.consumed}, lag ${r.lag}): healthy after ${r.healthyMs} ms, all services ${r.allHealthyMs} ms, progress ${r.progressMs} ms`,
    );
  };

  /** Waits until the service is mid-batch (consumed part of it, input left uncommitted), SIGKILLs and restarts it. */
  /**
   * Waits until the service is mid-batch (consumed part of it, input left uncommitted; with `first`, as
   * soon as it consumed anything: score keeps up with dedupe's pages, its lag stays near 0), SIGKILLs
   * it, runs `afterKill`, restarts it and records the heal.
   */
  const killMidBatch = async (
    name: PipelineService,
    opts: { first?: boolean; afterKill?: () => Promise<void> } = {},
  ) => {
    // Polled tightly: ingest reads the whole file in a second or two.
    const inFlight = await until(
      `${name} mid-batch`,
      tolerant(async () => {
        const consumed = await workOf(name);
        if (consumed === 0) return undefined;
        const lag = await lagOf(name);
        return lag > 0 || opts.first ? { consumed, lag } : undefined;
      }),
      180_000,
      logs,
      50,
    );
    const at = Date.now();
    await pipeline.kill(name);
    await opts.afterKill?.();
    const done = await rowsDone();
    const fresh = await pipeline.restart(name);
    const healthyAt = Date.now();
    await record(`SIGKILL ${name}`, at, { rowsDone: done, ...inFlight }, healthyAt, async () =>
      (await workOf(name)) > 0 || (await lagOf(name)) === 0 ? true : undefined,
    );
    return fresh;
  };

  /** Restarts a stack component while the batch is in flight; progress = any service consumed more after it came back. */
  const restartMidBatch = async (component: (typeof STACK_FAULTS)[number]) => {
    // Right after the broker's restart its group coordinator may still be loading: asked again then.
    const lag = await until(
      'the pipeline lag readable',
      tolerant(async () => {
        let sum = 0;
        for (const name of PIPELINE_SERVICES) sum += await lagOf(name);
        return sum;
      }),
      60_000,
      logs,
    );
    const inFlight = { rowsDone: await rowsDone(), consumed: await pipelineWork(), lag };
    if (inFlight.rowsDone >= s.rows) throw new Error(`${component}: the batch was done before the fault`);
    const r = await restartComponent(component);
    const base = await until('counters readable', tolerant(pipelineWork), 60_000, logs);
    await record(`restart ${component}`, r.stoppedAt, inFlight, r.healthyAt, async () =>
      (await pipelineWork()) > base || (await rowsDone()) >= s.rows ? true : undefined,
    );
  };

  for (const name of ['ingest', 'standardize', 'verify', 'enrich', 'dedupe'] as const)
    await killMidBatch(name);
  // The providers slow to a crawl (still inside enrich's 5 s call timeout) while the broker and Redis
  // restart: the batch stays in enrich and dedupe, and dedupe releases it only once the run watches
  // for score, whatever the machine's speed.
  pace(HOLD_LATENCY_MS);
  for (const component of STACK_FAULTS) await restartMidBatch(component);
  pace(s.providerLatencyMs);
  // score is SIGKILLed as dedupe releases the batch to it, and ClickHouse goes down right after, for
  // 60 s: the back-pressure part. The sink receives the batch once score is back, writes none of it,
  // and is SIGKILLed inside the outage with rows fetched and not written. Meanwhile the embedded run of
  // the same file (no Kafka, no ClickHouse) gives the outcome a run without faults must equal.
  let chDown = 0;
  let rssBefore = 0;
  let rssMax = 0;
  let sampling: Promise<void> = Promise.resolve();
  let embedded: ReturnType<typeof embeddedOutcomes> | undefined;
  await killMidBatch('score', {
    first: true,
    afterKill: async () => {
      chDown = Date.now();
      rssBefore = rssMax = rssMiB(pipeline.get('sink'));
      await stopComponent('clickhouse');
      embedded = embeddedOutcomes(run, c.bytes, 'sandbox');
      sampling = (async () => {
        while (since(chDown) < s.clickhouseDownMs) {
          rssMax = Math.max(rssMax, rssMiB(pipeline.get('sink')));
          await sleep(250);
        }
      })();
    },
  });
  /** A reading that may meet a transient error (a coordinator still loading) is taken again. */
  const read = <T>(what: string, probe: () => Promise<T>) => until(what, tolerant(probe), 60_000, logs);
  const early = {
    committed: await read('sink offsets', () => committedOf('sink')),
    rowsDone: await rowsDone(),
  };
  await killMidBatch('sink');
  await sampling;
  const late = {
    committed: await read('sink offsets', () => committedOf('sink')),
    rowsDone: await rowsDone(),
    lag: await read('sink lag', () => lagOf('sink')),
  };
  // The restarted sink fetched all of this while ClickHouse was down and wrote none of it.
  const fetchedWhileDown = await read('sink metrics', () => workOf('sink'));
  await startComponent('clickhouse');
  const chUp = Date.now();
  await record(
    `ClickHouse down ${Math.round(s.clickhouseDownMs / 1000)} s`,
    chDown,
    { rowsDone: early.rowsDone, consumed: fetchedWhileDown, lag: late.lag },
    chUp,
    async () => ((await rowsDone()) > late.rowsDone || (await rowsDone()) >= s.rows ? true : undefined),
  );
  const backPressure: BackPressure = {
    downMs: chUp - chDown,
    committedEarly: early.committed,
    committedLate: late.committed,
    lagLate: late.lag,
    rowsDoneEarly: early.rowsDone,
    rowsDoneLate: late.rowsDone,
    fetchedWhileDown,
    sinkRssBeforeMiB: Math.round(rssBefore),
    sinkRssMaxMiB: Math.round(rssMax),
    boundMiB: s.sinkRssBoundMiB,
  };
  s.log(`back-pressure: ${JSON.stringify(backPressure)}`);

  const batch = await waitForAnnounced(tracker, accountId, batchId, 240_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${logs()}`);
  });
  if (!embedded) throw new Error('the embedded run never started');
  const { outcomes: expected, result } = await embedded;
  const actual = await clickhouseOutcomes(ch, accountId, batchId);
  const count = async (table: 'leads' | 'rejections') =>
    Number(
      (
        await querySql<{ n: string }>(
          ch,
          sql`SELECT count() AS n FROM ${ident(table)} FINAL WHERE account_id = ${accountId} AND batch_id = ${batchId}`,
        )
      )[0]?.n ?? 0,
    );
  const qualifiedOf = (m: typeof actual) => [...m.values()].filter((o) => o.status === 'QUALIFIED').length;
  const chargeable = s.rows - result.failures.filter((f) => f.phase === 'ingest').length;

  // Webhooks: every qualified lead's event and the batch's, then a pause in which a duplicate would show.
  const qualifiedEvents = qualifiedOf(actual);
  await until(
    'every webhook delivered',
    () => {
      const got = receiver.received();
      const ids = new Set(got.filter((r) => r.event === 'lead.qualified').map((r) => r.eventId));
      return ids.size >= qualifiedEvents && got.some((r) => r.event === 'batch.completed') ? true : undefined;
    },
    120_000,
    logs,
  );
  const billing = billingOf(config, run.redis, ch);
  await until(
    'every charge in usage_events',
    tolerant(async () => ((await billing.consumed(accountId)) >= chargeable ? true : undefined)),
    120_000,
    logs,
  );
  await sleep(3_000);
  const got = receiver.received();
  const apiBatch = await api('GET', `/batches/${batchId}`);
  const stack = await status();
  const { log: _log, ...settings } = s;
  return {
    settings,
    batch,
    faults,
    backPressure,
    counts: {
      rows: s.rows,
      clickhouseLeads: await count('leads'),
      clickhouseRejections: await count('rejections'),
      clickhouseRowIndexes: actual.size,
      clickhouseQualified: qualifiedEvents,
      embeddedQualified: qualifiedOf(expected),
      chargeable,
      balance: await billing.balance(accountId),
      usageConsumed: await billing.consumed(accountId),
      usageDistinctLeads: await billing.distinctLeadsCharged(accountId),
      qualifiedEvents,
      deliveries: got.length,
      distinctDeliveries: new Set(got.map((r) => r.eventId)).size,
      unverifiedDeliveries: got.filter((r) => !r.verified).length,
      batchCompletedDeliveries: got.filter((r) => r.event === 'batch.completed').length,
      apiStatus: String(apiBatch.status),
      providerCallsFailed: (await enrichmentCallStatuses(ch, batchId))
        .filter((c) => c.status !== 'ok' && c.status !== 'not_found')
        .reduce((n, c) => n + c.n, 0),
    },
    differences: compareOutcomes(expected, actual),
    stackHealthy: stack.filter((r) => !r.healthy).map((r) => `${r.name}: ${r.reason ?? 'unhealthy'}`),
    durationS: Math.round((Date.now() - started) / 1000),
  };
}

/** Every invariant the run's end state breaks, in words; empty when the run passed. */
export function chaosViolations(r: ChaosReport): string[] {
  const out: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) out.push(what);
  };
  const k = r.counts;
  const b = r.batch;
  check(b.status === 'completed', `batch ${b.status}, not completed`);
  check(b.rows_done === k.rows, `tracker counted ${b.rows_done} of ${k.rows} rows`);
  const trackerTerminal =
    b.rows_qualified + b.rows_rejected + b.rows_invalid + b.rows_duplicate + b.rows_errored;
  check(trackerTerminal === k.rows, `tracker's outcomes sum to ${trackerTerminal}, not ${k.rows}`);
  check(
    k.clickhouseLeads + k.clickhouseRejections === k.rows && k.clickhouseRowIndexes === k.rows,
    `ClickHouse holds ${k.clickhouseLeads} leads + ${k.clickhouseRejections} rejections over ${k.clickhouseRowIndexes} rows, not ${k.rows} once each`,
  );
  check(
    b.rows_qualified === k.clickhouseQualified,
    `tracker qualified ${b.rows_qualified}, ClickHouse ${k.clickhouseQualified}`,
  );
  check(
    k.clickhouseQualified === k.embeddedQualified,
    `qualified ${k.clickhouseQualified}, the run without faults ${k.embeddedQualified}`,
  );
  check(
    r.differences.verdicts.length === 0,
    `${r.differences.verdicts.length} rows end otherwise than without faults: ${JSON.stringify(r.differences.verdicts.slice(0, 3))}`,
  );
  check(
    r.differences.endings.length === 0,
    `${r.differences.endings.length} scored rows differ from the run without faults: ${JSON.stringify(r.differences.endings.slice(0, 3))}`,
  );
  check(
    k.deliveries === k.distinctDeliveries,
    `${k.deliveries - k.distinctDeliveries} webhook events delivered more than once`,
  );
  check(
    k.distinctDeliveries === k.qualifiedEvents + 1,
    `${k.distinctDeliveries} distinct events delivered, expected ${k.qualifiedEvents} lead.qualified + 1 batch.completed`,
  );
  check(k.batchCompletedDeliveries === 1, `batch.completed delivered ${k.batchCompletedDeliveries} times`);
  check(k.unverifiedDeliveries === 0, `${k.unverifiedDeliveries} deliveries with a bad signature`);
  check(k.balance === CREDITS - k.chargeable, `balance ${k.balance}, expected ${CREDITS} − ${k.chargeable}`);
  check(
    k.usageConsumed === k.chargeable,
    `usage_events has ${k.usageConsumed} charges for ${k.chargeable} leads`,
  );
  check(
    k.usageDistinctLeads === k.chargeable,
    `${k.usageDistinctLeads} distinct leads charged of ${k.chargeable}`,
  );
  check(k.apiStatus === 'completed', `the API shows the batch ${k.apiStatus}`);
  const p = r.backPressure;
  check(
    p.committedLate === p.committedEarly,
    `the sink committed ${p.committedLate - p.committedEarly} offsets while ClickHouse was down`,
  );
  check(
    p.rowsDoneLate === p.rowsDoneEarly,
    `${p.rowsDoneLate - p.rowsDoneEarly} rows counted while ClickHouse was down`,
  );
  check(
    p.lagLate > 0,
    'nothing waited in Kafka during the outage: the sink had no work left, the outage proved nothing',
  );
  check(
    p.rowsDoneEarly < k.rows,
    'every row was counted before ClickHouse went down: the outage held nothing back',
  );
  check(
    p.fetchedWhileDown < p.lagLate,
    `the sink fetched all ${p.fetchedWhileDown} waiting messages while it could write none: it reads ahead without bound`,
  );
  check(p.sinkRssMaxMiB < p.boundMiB, `sink RSS reached ${p.sinkRssMaxMiB} MiB, bound ${p.boundMiB} MiB`);
  for (const f of r.faults) check(f.consumed > 0, `${f.fault} hit no work in flight`);
  check(
    r.faults.length === PIPELINE_SERVICES.length + STACK_FAULTS.length + 1,
    `${r.faults.length} faults recorded`,
  );
  check(r.stackHealthy.length === 0, `stack not healthy at the end: ${r.stackHealthy.join('; ')}`);
  return out;
}

/** The faults as a table (for the log and the README). */
export function faultTable(r: ChaosReport): string {
  const rows = r.faults.map(
    (f) =>
      `| ${f.fault} | ${f.atS} s | ${f.rowsDone} | ${f.consumed} / ${f.lag} | ${(f.healthyMs / 1000).toFixed(1)} s | ${(f.allHealthyMs / 1000).toFixed(1)} s | ${(f.progressMs / 1000).toFixed(1)} s |`,
  );
  return [
    '| fault | at | rows counted | consumed / lag | healthy | all services healthy | progress again |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
