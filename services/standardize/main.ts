import { BaseConfig, loadConfigOrExit } from '../lib/config.ts';
import { runPhaseService } from '../runtime/index.ts';
import { standardizePhase } from './phase.ts';

// The standardize service: leads.raw → leads.standardized. Signals drain and exit (runtime).
const config = loadConfigOrExit(BaseConfig);
const service = await runPhaseService(standardizePhase, { config });
service.log.info({ port: service.port }, 'standardize running');
