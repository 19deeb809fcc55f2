import { loadConfigOrExit } from '../services/lib/config.ts';
import { createApp } from './app.ts';
import { GatewayConfig } from './config.ts';
import { createDeps } from './deps.ts';
import { listenGateway, serverPort } from './server.ts';

const config = loadConfigOrExit(GatewayConfig);
const deps = await createDeps(config);
const { app } = createApp(deps);

const server = await listenGateway(app.fetch, config);
deps.log.info({ port: serverPort(server), host: config.GATEWAY_HOST }, 'gateway listening');

// Cycles that ended roll on the next billing read; this rolls those of accounts nobody reads (a new
// cycle's credits for a batch still running, a scheduled downgrade). Idempotent across instances.
const cycleJob = setInterval(() => {
  deps.billing.rollDue().catch((err) => deps.log.error({ err }, 'billing cycle job failed'));
}, config.BILLING_CYCLE_JOB_MS);
cycleJob.unref();

// Finish the requests in flight, then release Redis and Kafka; a second signal is not waited for.
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    clearInterval(cycleJob);
    server.close(async () => {
      await deps.publisher.disconnect().catch(() => undefined);
      // Flushes the cache counters the gateway's own enrichments batched in memory.
      await deps.advanced.close().catch(() => undefined);
      deps.redis.disconnect();
      process.exit(0);
    });
    setTimeout(() => process.exit(1), 10_000).unref();
  });
}
