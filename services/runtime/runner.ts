import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  Kafka,
  type Message,
  type Producer,
  type TopicMessages,
} from 'kafkajs';
import type { Registry } from 'prom-client';
import type { LeadRejection, UsageEvent, WebhookEvent } from '../../schemas/generated.ts';
import { BatchTracker } from '../lib/batch-tracker.ts';
import { coalescing } from '../lib/coalesce.ts';
import type { Config } from '../lib/config.ts';
import { CreditLedger } from '../lib/credit-ledger.ts';
import { dlqTopicName, groupId, TOPICS, topicName } from '../lib/names.ts';
import { keyHashPartitioner } from '../lib/partitioner.ts';
import { DEFAULT_PLAN_ID } from '../lib/plan-credits.ts';
import { createRedis, keyspace } from '../lib/redis.ts';
import { AvroCodec } from './codec.ts';
import { type HealthReport, LoopHealth } from './health.ts';
import { serveOps } from './http.ts';
import { pollLag } from './lag.ts';
import { createLogger, kafkaLogCreator, kafkaLogLevel, type Logger } from './logger.ts';
import { BillingMetrics, CreditMeter, type MeterSpec } from './meter.ts';
import { RuntimeMetrics, serviceRegistry } from './metrics.ts';
import { ParkingLot } from './parking.ts';
import type { PhaseDefinition } from './phase.ts';
import { type Pipeline, type PipelineTopics, processBatch } from './pipeline.ts';
import { registrySchemaSource } from './registry.ts';
import { backoffMs, errorMessage, type RetryPolicy } from './retry.ts';

/**
 * Bytes per produce request. The broker refuses a record batch over its message.max.bytes (1 MiB by
 * default, 1,048,588), and every message of a request for one partition lands in one record batch:
 * phases keyed by account put a whole batch's output in one partition. Keys, values and headers are
 * counted, plus RECORD_OVERHEAD per record (v2 record framing: varint lengths, deltas, attributes), so
 * the budget leaves over 100 KiB of headroom. It was 512 KiB of keys and values: the idempotent producer
 * sends one request per broker at a time, so each request is a round trip the next one waits for, and
 * fuller requests mean fewer of them.
 */
const MAX_REQUEST_BYTES = 896 << 10;
const RECORD_OVERHEAD = 32;

/** Splits messages into requests of at most MAX_REQUEST_BYTES (a bigger single message goes alone), in order. */
export function* produceRequests(topicMessages: TopicMessages[]): Generator<TopicMessages[]> {
  let request: TopicMessages[] = [];
  let bytes = 0;
  for (const { topic, messages } of topicMessages) {
    let current: TopicMessages = { topic, messages: [] };
    request.push(current);
    for (const m of messages) {
      const size = recordBytes(m);
      if (bytes > 0 && bytes + size > MAX_REQUEST_BYTES) {
        yield request.filter((t) => t.messages.length > 0);
        current = { topic, messages: [] };
        request = [current];
        bytes = 0;
      }
      current.messages.push(m);
      bytes += size;
    }
  }
  const rest = request.filter((t) => t.messages.length > 0);
  if (rest.length) yield rest;
}

/** What a message adds to a record batch, an upper bound. */
export function recordBytes(m: Message): number {
  let size = RECORD_OVERHEAD + byteLength(m.key) + byteLength(m.value);
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    size += RECORD_OVERHEAD + Buffer.byteLength(name);
    for (const v of Array.isArray(value) ? value : [value]) size += byteLength(v as Buffer | string);
  }
  return size;
}

const byteLength = (v: Buffer | string | null | undefined): number =>
  v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;

export interface RunOptions<In = unknown> {
  config: Config;
  /**
   * Meter this service's input: one credit per lead before the phase, leads without credits parked
   * and re-admitted when credits return (meter.ts). The first phase that reads leads.raw opts in.
   */
  meter?: MeterSpec<In>;
  /** Partitions processed at once by this instance: overlaps one batch's produce with the next's CPU work. */
  partitionsConsumedConcurrently?: number;
  /** Expanding phases send every this many routed records, then wait for the acknowledgement. */
  flushAt?: number;
  /**
   * Fetch sizing (kafkajs consumer options). 1 MiB per partition (~1,200 leads) measured best: kafkajs
   * groups produced messages per partition in quadratic time, so merged sends must stay moderate.
   */
  maxBytes?: number;
  maxBytesPerPartition?: number;
  maxWaitTimeInMs?: number;
  sessionTimeout?: number;
  /** SIGTERM/SIGINT drain and exit the process (default true; tests running in-process pass false). */
  handleSignals?: boolean;
  /** After a signal, exit 1 if draining takes longer than this (nothing is lost: offsets stay uncommitted). */
  shutdownTimeoutMs?: number;
  lagIntervalMs?: number;
  log?: Logger;
  /** A registry to share with the service's own metrics; default: a new one with process metrics. */
  registry?: Registry;
}

export interface PhaseService {
  /** Port of /health and /metrics. */
  readonly port: number;
  readonly metrics: RuntimeMetrics;
  readonly log: Logger;
  health(): HealthReport;
  /** Resolves once the consumer joined its group (never rejects; keeps retrying until stopped). */
  readonly ready: Promise<void>;
  /** Stops fetching, finishes the in-flight batches (produce + commit), disconnects. Idempotent. */
  stop(): Promise<void>;
}

interface PendingCommit {
  topic: string;
  partition: number;
  /** The next offset to consume. */
  offset: string;
  via: EachBatchPayload['commitOffsetsIfNecessary'];
}

/** Produce and commit, shared by the partitions processed at once (see coalesce.ts). */
interface SharedIo {
  send(topicMessages: TopicMessages[]): Promise<void>;
  commit(commit: PendingCommit): Promise<void>;
}

interface Clients {
  kafka: Kafka;
  admin: Admin;
  producer: Producer;
  consumer: Consumer;
}

/**
 * Runs a phase as a Kafka service (DESIGN.md): consumer group `leedrush.<phase>` on the input topic(s),
 * at-least-once (offsets are committed only after the broker acknowledged what the batch produced),
 * rejects to leads.failed, poison to `<input>.dlq`, /health and /metrics on METRICS_PORT.
 */
export async function runPhaseService<In, Out>(
  def: PhaseDefinition<In, Out>,
  opts: RunOptions<In>,
): Promise<PhaseService> {
  const { config } = opts;
  const log = opts.log ?? createLogger(`leedrush-${def.name}`, config.LOG_LEVEL);
  const registry = opts.registry ?? serviceRegistry(def.name);
  const metrics = new RuntimeMetrics(registry);
  const health = new LoopHealth(config.RUNTIME_STALL_MS);
  const ops = await serveOps({ port: config.METRICS_PORT, registry, health: () => health.report() });
  const retry: RetryPolicy = {
    maxRetries: config.RUNTIME_MAX_RETRIES,
    baseMs: config.RUNTIME_RETRY_BASE_MS,
    capMs: 10_000,
  };
  const prefix = config.LEEDRUSH_PREFIX;
  const output = def.output ? topicName(prefix, def.output.topic) : undefined;
  const failed = topicName(prefix, TOPICS.failed);
  const inputs = [def.input, ...(def.moreInputs ?? [])].map(({ topic, record }) => ({
    record,
    topics: {
      input: topicName(prefix, topic),
      baseInput: topic,
      output,
      failed,
      dlq: dlqTopicName(prefix, topic),
    } satisfies PipelineTopics,
  }));
  const inputTopics = inputs.map((i) => i.topics.input);
  // Series exist at 0 before the first record: increase() and rate() see the first batch's rise too.
  for (const topic of inputTopics) metrics.consumed.inc({ topic }, 0);
  if (output) metrics.produced.inc({ topic: output }, 0);
  const group = groupId(prefix, def.name);
  let stopping = false;
  let clients: Clients | undefined;
  let stopLag = () => {};
  let stopResuming = () => {};
  const billing = opts.meter ? meterParts(config, registry) : undefined;
  const usageTopic = topicName(prefix, TOPICS.usage);
  const outboxTopic = topicName(prefix, TOPICS.webhooksOutbox);
  log.info({ inputs: inputTopics, output, group, port: ops.port, metered: !!billing }, 'starting');

  const start = async (): Promise<void> => {
    const codec = new AvroCodec(registrySchemaSource(config.SCHEMA_REGISTRY_URL));
    const encoder = def.output && output ? await codec.encoderFor<Out>(output, def.output.record) : undefined;
    const rejectionEncoder = def.rejectionOf
      ? await codec.encoderFor<LeadRejection>(failed, 'LeadRejection')
      : undefined;
    const meter =
      opts.meter && billing
        ? new CreditMeter<In>({
            spec: opts.meter,
            ...billing.parts,
            log,
            topics: { input: topicName(prefix, def.input.topic), usage: usageTopic, outbox: outboxTopic },
            encodeUsage: (await codec.encoderFor<UsageEvent>(usageTopic, 'UsageEvent')).encode,
            encodeEvent: (await codec.encoderFor<WebhookEvent>(outboxTopic, 'WebhookEvent')).encode,
          })
        : undefined;
    // One pipeline per input topic: its own decoder and DLQ, the same phase and outputs.
    const pipelines = new Map<string, Pipeline<In, Out>>(
      inputs.map(({ record, topics }) => [
        topics.input,
        {
          def,
          topics,
          decoder: codec.decoderFor<In>(record),
          encoder,
          rejectionEncoder,
          retry,
          concurrency: config.RUNTIME_BATCH_CONCURRENCY,
          flushAt: opts.flushAt ?? 5_000,
          metrics,
          log,
          stopping: () => stopping,
          admission: meter,
        },
      ]),
    );
    const kafka = new Kafka({
      clientId: `leedrush-${def.name}`,
      brokers: config.KAFKA_BROKERS,
      logCreator: kafkaLogCreator(log),
      logLevel: kafkaLogLevel(config.LOG_LEVEL),
      connectionTimeout: 3_000,
      requestTimeout: 30_000,
    });
    const c: Clients = {
      kafka,
      admin: kafka.admin(),
      producer: kafka.producer({
        idempotent: true,
        allowAutoTopicCreation: false,
        createPartitioner: keyHashPartitioner,
      }),
      consumer: kafka.consumer({
        groupId: group,
        allowAutoTopicCreation: false,
        maxBytes: opts.maxBytes ?? 16 << 20,
        maxBytesPerPartition: opts.maxBytesPerPartition ?? 1 << 20,
        maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 250,
        sessionTimeout: opts.sessionTimeout ?? config.RUNTIME_SESSION_TIMEOUT_MS,
      }),
    };
    clients = c;
    watch(c.consumer);
    await c.admin.connect();
    await requireTopics(c.admin, [
      ...inputs.flatMap((i) => [i.topics.input, i.topics.dlq]),
      ...(output ? [output] : []),
      ...(def.rejectionOf ? [failed] : []),
      ...(meter ? [usageTopic, outboxTopic] : []),
    ]);
    await c.producer.connect();
    await c.consumer.connect();
    await c.consumer.subscribe({ topics: inputTopics, fromBeginning: true });
    const shared: SharedIo = {
      send: coalescing(async (lists: TopicMessages[][]) => {
        for (const topicMessages of produceRequests(lists.flat())) {
          await c.producer.sendBatch({ topicMessages, acks: -1, timeout: 30_000 });
        }
      }),
      // Through a batch's commitOffsetsIfNecessary: consumer.commitOffsets() is a no-op once stop() began,
      // and the drain must still commit what it produced.
      commit: coalescing(async (commits: PendingCommit[]) => {
        const topics = new Map<string, { partition: number; offset: string }[]>();
        for (const { topic, partition, offset } of commits) {
          const list = topics.get(topic);
          if (list) list.push({ partition, offset });
          else topics.set(topic, [{ partition, offset }]);
        }
        await commits[0]?.via({ topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) });
      }),
    };
    await c.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => {
        const pipeline = pipelines.get(payload.batch.topic);
        if (!pipeline) throw new Error(`batch from unsubscribed topic ${payload.batch.topic}`);
        return onBatch(pipeline, shared, payload);
      },
    });
    const stops = inputTopics.map((topic) =>
      pollLag(c.admin, group, topic, metrics.lag, opts.lagIntervalMs ?? 15_000, (err) =>
        log.warn({ err: errorMessage(err), topic }, 'lag poll failed'),
      ),
    );
    stopLag = () => {
      for (const stopOne of stops) stopOne();
    };
    if (meter) stopResuming = meter.startResuming(shared.send, () => stopping);
    // stop() may have come while this was connecting: it found nothing running yet, so undo it here.
    if (stopping) await disconnect();
  };

  const onBatch = async (pipeline: Pipeline<In, Out>, shared: SharedIo, payload: EachBatchPayload) => {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary } = payload;
    const startedAt = performance.now();
    metrics.consumed.inc({ topic: batch.topic }, batch.messages.length);
    metrics.batchSize.observe(batch.messages.length);
    const lastMessage = batch.messages[batch.messages.length - 1]?.offset;
    // A batch may wait on retries for a while: keep the group membership alive meanwhile.
    const beat = setInterval(() => heartbeat().catch(() => {}), 1_000);
    try {
      await processBatch(pipeline, batch, {
        send: async (topicMessages) => {
          await shared.send(topicMessages);
          health.markProgress();
        },
        commit: async (offset) => {
          // The last message stands for the whole batch (control records after it included).
          const through = offset === lastMessage ? batch.lastOffset() : offset;
          resolveOffset(through);
          const next = (BigInt(through) + 1n).toString();
          await shared.commit({
            topic: batch.topic,
            partition: batch.partition,
            offset: next,
            via: commitOffsetsIfNecessary,
          });
          health.markProgress();
        },
        heartbeat,
      });
    } finally {
      clearInterval(beat);
    }
    metrics.batchSeconds.observe((performance.now() - startedAt) / 1000);
  };

  const watch = (consumer: Consumer) => {
    const ev = consumer.events;
    consumer.on(ev.GROUP_JOIN, (e) => {
      health.markConnected();
      log.info({ assignment: e.payload.memberAssignment }, 'joined consumer group');
      markReady();
    });
    consumer.on(ev.FETCH, () => health.markProgress());
    consumer.on(ev.DISCONNECT, () => health.markDisconnected());
    consumer.on(ev.CRASH, (e) => {
      health.markDisconnected(errorMessage(e.payload.error));
      log.error({ err: errorMessage(e.payload.error), restart: e.payload.restart }, 'consumer crashed');
      if (!e.payload.restart && !stopping) void restart();
    });
  };

  let markReady = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  /** Connects until it works: a broker or registry that is not up yet is a wait, not a crash. */
  const connectLoop = async () => {
    for (let attempt = 1; !stopping; attempt++) {
      try {
        await start();
        return;
      } catch (err) {
        health.markDisconnected(errorMessage(err));
        log.error({ err: errorMessage(err), attempt }, 'cannot start; retrying');
        await disconnect();
        if (!stopping) await sleep(backoffMs(attempt, { ...retry, baseMs: Math.max(retry.baseMs, 500) }));
      }
    }
  };

  const disconnect = async () => {
    stopLag();
    stopResuming();
    const c = clients;
    clients = undefined;
    if (!c) return;
    await c.consumer.disconnect().catch(() => {});
    await c.producer.disconnect().catch(() => {});
    await c.admin.disconnect().catch(() => {});
  };

  const restart = async () => {
    await disconnect();
    await connectLoop();
  };

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      stopping = true;
      health.markStopping();
      log.info('stopping: draining in-flight batches');
      stopLag();
      // consumer.stop() waits for the running eachBatch calls, which produce and commit before returning.
      await clients?.consumer
        .stop()
        .catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'consumer stop'));
      await disconnect();
      billing?.redis.disconnect();
      await ops.close();
      log.info('stopped');
    })();
    return stopped;
  };

  if (opts.handleSignals ?? true) {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({ signal }, 'signal received');
      setTimeout(() => {
        log.error('drain timed out; exiting without committing the rest');
        process.exit(1);
      }, opts.shutdownTimeoutMs ?? 30_000).unref();
      stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  void connectLoop();
  return { port: ops.port, metrics, log, health: () => health.report(), ready, stop };
}

/** The meter's stores: one Redis connection for the ledger, the parked leads and the batch tracker. */
function meterParts(config: Config, registry: Registry) {
  const redis = createRedis(config.REDIS_URL, 'leedrush-meter');
  const key = keyspace(config.LEEDRUSH_PREFIX);
  const credits = config.BILLING_PLAN_CREDITS[DEFAULT_PLAN_ID] ?? 0;
  return {
    redis,
    parts: {
      ledger: new CreditLedger(redis, key, { planId: DEFAULT_PLAN_ID, credits }),
      parking: new ParkingLot(redis, key),
      tracker: new BatchTracker(redis, key),
      metrics: new BillingMetrics(registry),
    },
  };
}

async function requireTopics(admin: Admin, names: string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = names.filter((t) => !existing.has(t));
  if (missing.length)
    throw new Error(`missing topics ${missing.join(', ')} (apply the topology: npm run topology)`);
}
