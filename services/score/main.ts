import { BaseConfig, loadConfigOrExit } from '../lib/config.ts';
import { createRedis, keyspace } from '../lib/redis.ts';
import { createLogger, runPhaseService } from '../runtime/index.ts';
import { ProfileStore, scorePhase } from './phase.ts';

// The score service: leads.deduped → leads.scored. Signals drain and exit (runtime).
const config = loadConfigOrExit(BaseConfig);
const log = createLogger('leedrush-score', config.LOG_LEVEL);
const redis = createRedis(config.REDIS_URL, 'leedrush-score');
const profiles = new ProfileStore(redis, keyspace(config.LEEDRUSH_PREFIX), (accountId, problem) =>
  log.warn({ accountId, problem }, 'stored scoring profile is invalid; scoring with the default'),
);
const service = await runPhaseService(scorePhase(profiles), { config, log });
service.log.info({ port: service.port }, 'score running');
