import { BatchTracker } from '../lib/batch-tracker.ts';
import { loadConfigOrExit } from '../lib/config.ts';
import { createRedis, keyspace } from '../lib/redis.ts';
import { LocalUploadStore } from '../lib/upload-store.ts';
import { runPhaseService } from '../runtime/index.ts';
import { IngestConfig } from './config.ts';
import { ingestPhase } from './phase.ts';

const config = loadConfigOrExit(IngestConfig);
const tracker = new BatchTracker(
  createRedis(config.REDIS_URL, 'leedrush-ingest'),
  keyspace(config.LEEDRUSH_PREFIX),
);
const phase = ingestPhase({
  store: LocalUploadStore.fromSettings(config),
  maxRecordChars: config.INGEST_MAX_RECORD_CHARS,
  startBatch: (request) => tracker.start(request.batch_id, request.account_id),
});
const service = await runPhaseService(phase, { config });
await service.ready;
service.log.info({ port: service.port }, 'ingest running');
