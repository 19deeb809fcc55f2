import type { ClickHouseClient } from '@clickhouse/client';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BatchMetrics } from '../services/lib/batch-metrics.ts';
import type { BatchTracker } from '../services/lib/batch-tracker.ts';
import type { RecordPublisher } from '../services/lib/publisher.ts';
import type { UploadStore } from '../services/lib/upload-store.ts';
import type { EndpointStore } from '../services/webhooks/endpoints.ts';
import type { RetryQueue } from '../services/webhooks/retry-queue.ts';
import type { AccountStore, User } from './auth/accounts.ts';
import type { LoginThrottle } from './auth/login-throttle.ts';
import type { TokenService } from './auth/tokens.ts';
import type { BatchListCache } from './batches/list-cache.ts';
import type { Billing } from './billing/service.ts';
import type { GatewayConfig } from './config.ts';
import type { AdvancedFeatures } from './enrichment/advanced.ts';
import type { RateLimiter } from './middleware/rate-limit.ts';
import type { UploadIndex } from './uploads/upload-index.ts';

/** What every route can reach: built once at start-up and shared. */
export interface GatewayDeps {
  config: GatewayConfig;
  redis: Redis;
  key: (...parts: string[]) => string;
  accounts: AccountStore;
  tokens: TokenService;
  loginThrottle: LoginThrottle;
  limiter: RateLimiter;
  uploads: UploadStore;
  uploadIndex: UploadIndex;
  batches: BatchTracker;
  /** GET /api/batches lists, served again while the account's batches are unchanged. */
  batchLists: BatchListCache;
  batchMetrics: BatchMetrics;
  publisher: RecordPublisher;
  clickhouse: ClickHouseClient;
  clickhouseExport: ClickHouseClient;
  webhooks: EndpointStore;
  /** The webhooks service's delivery schedule: test events are put straight into it. */
  webhookQueue: RetryQueue;
  /** Cache and predictive figures, and synchronous multi-source validation (/v1 routes). */
  advanced: AdvancedFeatures;
  /** Plans, Stripe, credits, invoices and refunds (its `clock` is what tests move). */
  billing: Billing;
  log: Logger;
}

export interface GatewayEnv {
  Variables: {
    requestId: string;
    deps: GatewayDeps;
    /** Set by the auth middleware on every authenticated route. */
    user: User;
  };
}
