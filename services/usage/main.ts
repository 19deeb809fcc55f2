import { Counter } from 'prom-client';
import { createClickHouse } from '../lib/clickhouse.ts';
import { BaseConfig, loadConfigOrExit } from '../lib/config.ts';
import { createLogger, runPhaseService, serviceRegistry } from '../runtime/index.ts';
import { PHASE, usagePhase } from './phase.ts';

// The usage service: usage.events → ClickHouse usage_events (phase.ts). Signals drain and exit (runtime).
const config = loadConfigOrExit(BaseConfig);
const log = createLogger(`leedrush-${PHASE}`, config.LOG_LEVEL);
const registry = serviceRegistry(PHASE);
const ch = createClickHouse(config);
const phase = usagePhase({
  ch,
  retry: { maxRetries: config.RUNTIME_MAX_RETRIES, baseMs: config.RUNTIME_RETRY_BASE_MS, capMs: 10_000 },
  rowsWritten: new Counter({
    name: 'leedrush_billing_usage_events_written_total',
    help: 'Rows written to ClickHouse usage_events (redeliveries included)',
    registers: [registry],
  }),
  onRetry: (err, retry, waitMs) => log.warn({ err, retry, waitMs }, 'usage insert failed; retrying'),
});
const service = await runPhaseService(phase, { config, log, registry });
service.log.info({ port: service.port }, 'usage running');
