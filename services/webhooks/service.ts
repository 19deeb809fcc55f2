/** The webhooks service: the outbox consumer (runtime) and the dispatcher loop, sharing Redis. */
import { createClickHouse } from '../lib/clickhouse.ts';
import { createRedis, keyspace } from '../lib/redis.ts';
import {
  createLogger,
  type Logger,
  type PhaseService,
  runPhaseService,
  serviceRegistry,
} from '../runtime/index.ts';
import { targetPolicy } from './address-guard.ts';
import type { WebhooksConfig } from './config.ts';
import { DeliveryLog } from './delivery-log.ts';
import { Dispatcher } from './dispatcher.ts';
import { EndpointStore } from './endpoints.ts';
import { outboxPhase } from './phase.ts';
import { RetryQueue } from './retry-queue.ts';

export interface WebhooksService {
  service: PhaseService;
  /** Stops consuming and dispatching, writes the buffered attempt log, closes connections. */
  close(): Promise<void>;
}

export async function startWebhooks(
  config: WebhooksConfig,
  opts: { log?: Logger } = {},
): Promise<WebhooksService> {
  const log = opts.log ?? createLogger('leedrush-webhooks', config.LOG_LEVEL);
  const registry = serviceRegistry('webhooks');
  const redis = createRedis(config.REDIS_URL, 'leedrush-webhooks');
  const key = keyspace(config.LEEDRUSH_PREFIX);
  const ch = createClickHouse(config);
  const endpoints = new EndpointStore(redis, key);
  const queue = new RetryQueue(redis, key);
  const deliveries = new DeliveryLog(ch, log, { flushMs: config.WEBHOOK_LOG_FLUSH_MS, maxBuffered: 100_000 });
  const dispatcher = new Dispatcher({
    queue,
    endpoints,
    deliveries,
    policy: targetPolicy(config),
    schedule: config.WEBHOOK_RETRY_SCHEDULE,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    pollMs: config.WEBHOOK_POLL_MS,
    leaseMs: config.WEBHOOK_LEASE_MS,
    concurrency: config.WEBHOOK_CONCURRENCY,
    log,
    registry,
  });
  // The runtime's own signal handling would exit before the attempt log is written: main.ts stops both.
  const service = await runPhaseService(outboxPhase({ endpoints, queue }), {
    config,
    log,
    registry,
    handleSignals: false,
    sessionTimeout: config.WEBHOOK_SESSION_TIMEOUT_MS,
  });
  dispatcher.start();
  return {
    service,
    async close() {
      await Promise.all([service.stop(), dispatcher.stop()]);
      await deliveries.close();
      redis.disconnect();
      await ch.close();
    },
  };
}
