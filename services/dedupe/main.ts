import { BatchTracker } from '../lib/batch-tracker.ts';
import { loadConfigOrExit } from '../lib/config.ts';
import { RecordPublisher } from '../lib/publisher.ts';
import { createRedis, keyspace } from '../lib/redis.ts';
import { createLogger, runPhaseService, serviceRegistry } from '../runtime/index.ts';
import { DedupeConfig, historyOptionsFromEnv, policyFromEnv, settingsFromEnv } from './config.ts';
import { HistoryIndex } from './history-index.ts';
import { DedupeMetrics } from './metrics.ts';
import { OpenBatches } from './open-batches.ts';
import { BatchFinalizer, dedupePhase } from './service.ts';

// The dedupe service: leads.enriched → leads.deduped. Signals drain and exit (runtime).
const config = loadConfigOrExit(DedupeConfig);
const log = createLogger('leedrush-dedupe', config.LOG_LEVEL);
// Finalizing a batch of a million leads is minutes of work: a reply slowed past the default 2 s (Redis
// forking a GB-sized dataset for an AOF rewrite) failed the whole finalization, and its retry emitted
// the batch again.
const redis = createRedis(config.REDIS_URL, 'leedrush-dedupe', { commandTimeout: 15_000 });
const ns = keyspace(config.LEEDRUSH_PREFIX);
let publisher: Promise<RecordPublisher> | undefined;
const connectPublisher = () => {
  if (!publisher) {
    publisher = RecordPublisher.connect(config, 'leedrush-dedupe-finalizer');
    // A failed connection is retried by the next finalization, not kept.
    publisher.catch(() => {
      publisher = undefined;
    });
  }
  return publisher;
};
const registry = serviceRegistry('dedupe');
const policy = policyFromEnv(config);
const deps = {
  // Redis drops an open batch's keys on its own at twice the TTL, should no instance sweep.
  open: new OpenBatches(redis, ns, 2 * policy.openTtlMs),
  history: new HistoryIndex(redis, ns, historyOptionsFromEnv(config)),
  tracker: new BatchTracker(redis, ns),
  publisher: connectPublisher,
  settings: settingsFromEnv(config),
  policy,
  metrics: new DedupeMetrics(registry),
  log,
};
const finalizer = new BatchFinalizer(deps);
const service = await runPhaseService(dedupePhase(deps, finalizer), { config, log, registry });
const stopSweep = finalizer.every(config.DEDUP_FINALIZE_INTERVAL_MS);
process.once('SIGTERM', stopSweep);
process.once('SIGINT', stopSweep);
service.log.info({ port: service.port }, 'dedupe running');
