import { z } from 'zod';
import { BatchMetrics } from '../lib/batch-metrics.ts';
import { createClickHouse } from '../lib/clickhouse.ts';
import { loadConfigOrExit } from '../lib/config.ts';
import { createRedis, keyspace } from '../lib/redis.ts';
import { createLogger, runPhaseService, serviceRegistry } from '../runtime/index.ts';
import { AttributedCallLog, CallLogWriter } from './call-log-writer.ts';
import { EnrichConfig } from './config.ts';
import { createEnrichContext } from './context.ts';
import { EnrichMetrics } from './metrics.ts';
import { enrichPhase } from './phase.ts';
import { PredictiveCounters } from './predictive/counters.ts';
import { PreEnrichQueue } from './predictive/queue.ts';
import { PredictiveWatcher } from './predictive/watcher.ts';
import { describeMode } from './provider-mode.ts';

/**
 * The enrich service: leads.verified → leads.enriched. Provider calls go to ClickHouse `enrichment_calls`;
 * per-batch figures to Redis (BatchMetrics). It asks the providers with real keys; the sandbox providers
 * (the local stack runs them) only with ENRICH_SANDBOX on; with neither, none (provider-mode.ts). The
 * startup log says which.
 */
const EnrichServiceConfig = EnrichConfig.extend({
  /**
   * Input partitions enriched at once (each with RUNTIME_BATCH_CONCURRENCY leads in flight). A lead waits
   * on several sequential round trips (caches, rate limiter, providers, DNS): at 3 partitions x 64 leads
   * enrich sat idle 44 % of a saturated 100,000-lead run while its lag reached 88,000; at 6 x 256 idle fell
   * to 28 % but garbage collection doubled (12 % of its time: leads in flight outlive young-generation
   * collections), so 6 x 64. The shared rate limiter, not this, bounds provider rates.
   */
  ENRICH_PARTITIONS_CONCURRENTLY: z.coerce.number().int().min(1).default(6),
  CALL_LOG_FLUSH_MS: z.coerce.number().int().min(10).default(1_000),
  CALL_LOG_FLUSH_ROWS: z.coerce.number().int().min(1).default(1_000),
  CALL_LOG_MAX_PENDING: z.coerce.number().int().min(1).default(100_000),
  /** Predictive pre-enrichment: watch leads.standardized and cache predicted companies in advance. */
  PREDICTIVE_ENABLED: z.stringbool().default(true),
  PREDICTIVE_CONCURRENCY: z.coerce.number().int().min(1).default(2),
  PREDICTIVE_DEDUPE_WINDOW_S: z.coerce.number().int().min(1).default(3_600),
  /** How often the predictions of crashed instances are looked for and finished. */
  PREDICTIVE_RECOVER_MS: z.coerce.number().int().min(100).default(30_000),
});

const config = loadConfigOrExit(EnrichServiceConfig);
// Each lead makes several Redis round trips (caches, rate limits, metrics); auto-pipelining merges the
// commands of concurrent leads into one write.
const redis = createRedis(config.REDIS_URL, 'leedrush-enrich', { enableAutoPipelining: true });
const key = keyspace(config.LEEDRUSH_PREFIX);
const calls = new AttributedCallLog();
const ctx = createEnrichContext(config, redis, { calls });
const ch = createClickHouse(config, { requestTimeoutMs: 10_000 });
const registry = serviceRegistry('enrich');
const log = createLogger('leedrush-enrich', config.LOG_LEVEL);
const counters = new PredictiveCounters(redis, key);
const queue = config.PREDICTIVE_ENABLED
  ? new PreEnrichQueue(
      redis,
      key,
      { enricher: ctx.enricher, cache: ctx.cache, calls, counters, log },
      {
        concurrency: config.PREDICTIVE_CONCURRENCY,
        dedupeWindowS: config.PREDICTIVE_DEDUPE_WINDOW_S,
        warmedTtlS: config.ENRICH_L2_TTL_S,
        pollS: 1,
        recoverMs: config.PREDICTIVE_RECOVER_MS,
      },
    )
  : null;
const writer = new CallLogWriter(
  calls,
  ch,
  {
    intervalMs: config.CALL_LOG_FLUSH_MS,
    maxRows: config.CALL_LOG_FLUSH_ROWS,
    maxPending: config.CALL_LOG_MAX_PENDING,
  },
  log,
);
const phase = enrichPhase({
  enricher: ctx.enricher,
  calls,
  batchMetrics: new BatchMetrics(redis, key),
  predictive: queue ? { wasPreEnriched: (domain) => queue.wasPreEnriched(domain), counters } : undefined,
  metrics: new EnrichMetrics(registry, writer),
});
const service = await runPhaseService(phase, {
  config,
  registry,
  log,
  handleSignals: false,
  partitionsConsumedConcurrently: config.ENRICH_PARTITIONS_CONCURRENTLY,
});
const watcher = queue ? new PredictiveWatcher(config, queue, log) : null;
queue?.start();
// The watcher is an optimisation: if it cannot start, leads are still enriched the ordinary way.
watcher?.start().catch((err) => log.error({ err: String(err) }, 'predictive watcher failed to start'));
writer.start();
service.log.info(
  { providers: ctx.mode, predictive: config.PREDICTIVE_ENABLED },
  `enrich ready: ${describeMode(ctx.mode)}`,
);

// Drain the consumer first (its last leads record calls), then write those calls, then close.
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  service.log.info({ signal }, 'signal received');
  setTimeout(() => process.exit(1), 30_000).unref();
  try {
    await Promise.all([service.stop(), watcher?.stop(), queue?.stop()]);
    await writer.stop();
    service.log.info({ written: writer.written, dropped: writer.dropped }, 'enrichment_calls flushed');
    await ctx.close();
    await ch.close();
    redis.disconnect();
    process.exit(0);
  } catch (err) {
    service.log.error({ err: String(err) }, 'shutdown failed');
    process.exit(1);
  }
}
process.once('SIGTERM', (s) => void shutdown(s));
process.once('SIGINT', (s) => void shutdown(s));
