import type { Registry } from 'prom-client';
import type { WebhookEvent } from '../../schemas/generated.ts';
import { BatchTracker } from '../lib/batch-tracker.ts';
import { createClickHouse } from '../lib/clickhouse.ts';
import { TOPICS } from '../lib/names.ts';
import { RecordPublisher } from '../lib/publisher.ts';
import { createRedis, keyspace } from '../lib/redis.ts';
import {
  createLogger,
  type Logger,
  type PhaseService,
  runPhaseService,
  serviceRegistry,
} from '../runtime/index.ts';
import type { SinkConfig } from './config.ts';
import { createFlush, type PublishEvents } from './flush.ts';
import { SinkMetrics } from './metrics.ts';
import { PHASE, sinkPhase } from './phase.ts';

export interface SinkService {
  service: PhaseService;
  /** Drains (in-flight flushes finish, offsets commit), then closes every connection. */
  close(): Promise<void>;
}

export interface StartSinkOptions {
  handleSignals?: boolean;
  log?: Logger;
  registry?: Registry;
}

/**
 * The broker refuses a record batch over its max.message.bytes (1 MiB by default), and the events of
 * one send to one partition travel as one record batch: sends stay well below it.
 */
const MAX_SEND_BYTES = 512 * 1024;

/** Events of one batch share a key, so they keep their order on one partition of webhooks.outbox. */
function eventPublisher(publisher: RecordPublisher): PublishEvents {
  const send = async (key: string, events: WebhookEvent[]) => {
    let chunk: WebhookEvent[] = [];
    let bytes = 0;
    for (const e of events) {
      const size = e.data_json.length + e.event_id.length + 64;
      if (chunk.length > 0 && bytes + size > MAX_SEND_BYTES) {
        await publisher.publish(TOPICS.webhooksOutbox, 'WebhookEvent', key, chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(e);
      bytes += size;
    }
    if (chunk.length > 0) await publisher.publish(TOPICS.webhooksOutbox, 'WebhookEvent', key, chunk);
  };
  return async (events) => {
    const byKey = new Map<string, WebhookEvent[]>();
    for (const e of events) {
      const key = e.batch_id ?? e.account_id;
      const list = byKey.get(key);
      if (list) list.push(e);
      else byKey.set(key, [e]);
    }
    await Promise.all([...byKey].map(([key, values]) => send(key, values)));
  };
}

/** The sink as a Kafka service: the runtime around the sink phase, with its ClickHouse, Redis and producer. */
export async function startSink(config: SinkConfig, opts: StartSinkOptions = {}): Promise<SinkService> {
  const log = opts.log ?? createLogger(`leedrush-${PHASE}`, config.LOG_LEVEL);
  const registry = opts.registry ?? serviceRegistry(PHASE);
  const redis = createRedis(config.REDIS_URL, 'leedrush-sink');
  const ch = createClickHouse(config, { requestTimeoutMs: config.SINK_CLICKHOUSE_TIMEOUT_MS });
  const publisher = await RecordPublisher.connect(config, 'leedrush-sink-events');
  const flush = createFlush({
    ch,
    tracker: new BatchTracker(redis, keyspace(config.LEEDRUSH_PREFIX)),
    publish: eventPublisher(publisher),
    metrics: new SinkMetrics(registry),
    log,
    retry: { maxRetries: config.RUNTIME_MAX_RETRIES, baseMs: config.RUNTIME_RETRY_BASE_MS, capMs: 10_000 },
  });
  const phase = sinkPhase(flush, {
    maxRows: config.SINK_FLUSH_ROWS,
    maxWaitMs: config.SINK_FLUSH_MS,
    lingerMs: config.SINK_LINGER_MS,
  });
  const service = await runPhaseService(phase, {
    config,
    log,
    registry,
    handleSignals: opts.handleSignals,
    partitionsConsumedConcurrently: config.SINK_PARTITIONS_CONCURRENTLY,
    sessionTimeout: config.SINK_SESSION_TIMEOUT_MS,
  });
  return {
    service,
    async close() {
      await service.stop();
      await publisher.disconnect().catch(() => {});
      redis.disconnect();
      await ch.close();
    },
  };
}
