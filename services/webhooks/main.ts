import { loadConfigOrExit } from '../lib/config.ts';
import { WebhooksConfig } from './config.ts';
import { startWebhooks } from './service.ts';

const config = loadConfigOrExit(WebhooksConfig);
const webhooks = await startWebhooks(config);
const { log } = webhooks.service;

let stopping = false;
const onSignal = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'signal received');
  setTimeout(() => {
    log.error('shutdown timed out; leases and uncommitted offsets bring the work back');
    process.exit(1);
  }, 30_000).unref();
  webhooks.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
await webhooks.service.ready;
log.info({ port: webhooks.service.port }, 'webhooks running');
