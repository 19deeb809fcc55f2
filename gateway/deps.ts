import pino from 'pino';
import { BatchMetrics } from '../services/lib/batch-metrics.ts';
import { BatchTracker } from '../services/lib/batch-tracker.ts';
import { createClickHouse } from '../services/lib/clickhouse.ts';
import { RecordPublisher } from '../services/lib/publisher.ts';
import { createRedis, keyspace } from '../services/lib/redis.ts';
import { LocalUploadStore } from '../services/lib/upload-store.ts';
import { EndpointStore } from '../services/webhooks/endpoints.ts';
import { RetryQueue } from '../services/webhooks/retry-queue.ts';
import { AccountStore } from './auth/accounts.ts';
import { LoginThrottle } from './auth/login-throttle.ts';
import { TokenService } from './auth/tokens.ts';
import { BatchListCache } from './batches/list-cache.ts';
import { Billing, createStripe } from './billing/service.ts';
import type { GatewayConfig } from './config.ts';
import { createAdvancedFeatures } from './enrichment/advanced.ts';
import type { GatewayDeps } from './env.ts';
import { RateLimiter } from './middleware/rate-limit.ts';
import { UploadIndex } from './uploads/upload-index.ts';

export async function createDeps(config: GatewayConfig): Promise<GatewayDeps> {
  const redis = createRedis(config.REDIS_URL, 'gateway');
  const key = keyspace(config.LEEDRUSH_PREFIX);
  const batches = new BatchTracker(redis, key);
  const publisher = await RecordPublisher.connect(config, 'leedrush-gateway');
  const accounts = new AccountStore(redis, key, config.AUTH_USER_CACHE_MS);
  // One access-log line per request: written asynchronously (lines that pile up while a write is
  // in flight go out together) so a slow stdout never stalls the event loop; flushed on exit.
  const log = pino({ name: 'gateway', level: config.LOG_LEVEL }, pino.destination({ dest: 1, sync: false }));
  return {
    uploads: new LocalUploadStore(config.UPLOAD_DIR, { maxBytes: config.UPLOAD_MAX_BYTES }),
    uploadIndex: new UploadIndex(redis, key),
    batches,
    batchLists: new BatchListCache(batches),
    batchMetrics: new BatchMetrics(redis, key),
    publisher,
    clickhouse: createClickHouse(config, { requestTimeoutMs: 10_000 }),
    // Result downloads stream for as long as the client reads: their own client, with a long deadline.
    clickhouseExport: createClickHouse(config, { requestTimeoutMs: 600_000 }),
    webhooks: new EndpointStore(redis, key),
    webhookQueue: new RetryQueue(redis, key),
    advanced: createAdvancedFeatures(config, redis),
    config,
    redis,
    key,
    accounts,
    billing: new Billing(config, createStripe(config), redis, key, accounts, publisher, log),
    tokens: new TokenService(config.JWT_SECRET, config.JWT_TTL_SECONDS),
    loginThrottle: new LoginThrottle(redis, key, {
      perEmail: config.LOGIN_MAX_FAILURES,
      perAddress: config.LOGIN_MAX_FAILURES_PER_IP,
      windowS: config.LOGIN_FAILURE_WINDOW_S,
    }),
    limiter: new RateLimiter(redis),
    log,
  };
}
