/**
 * The pass-through phase run as a service, in its own process like any real service (tests and the
 * benchmark spawn it). Tuning comes from PASSTHROUGH_* environment variables.
 */
import { loadConfigOrExit } from '../../services/lib/config.ts';
import { runPhaseService } from '../../services/runtime/index.ts';
import { passthrough } from '../fixtures/runtime/passthrough-phase.ts';

const env = (name: string): number | undefined => (process.env[name] ? Number(process.env[name]) : undefined);

const service = await runPhaseService(passthrough, {
  config: loadConfigOrExit(),
  partitionsConsumedConcurrently: env('PASSTHROUGH_PARTITIONS_CONCURRENTLY'),
  maxBytesPerPartition: env('PASSTHROUGH_MAX_BYTES_PER_PARTITION'),
  maxBytes: env('PASSTHROUGH_MAX_BYTES'),
  sessionTimeout: env('PASSTHROUGH_SESSION_TIMEOUT_MS'),
  lagIntervalMs: env('PASSTHROUGH_LAG_INTERVAL_MS'),
});
await service.ready;
// The test harness waits for this line before producing or killing.
process.stdout.write(`${JSON.stringify({ ready: true, port: service.port })}\n`);
