import { loadConfigOrExit } from '../lib/config.ts';
import { SinkConfig } from './config.ts';
import { startSink } from './service.ts';

const config = loadConfigOrExit(SinkConfig);
const { service } = await startSink(config);
await service.ready;
service.log.info({ port: service.port }, 'sink running');
