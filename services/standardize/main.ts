import { BaseConfig, loadConfigOrExit } from '../lib/config.ts';
import { runPhaseService } from '../runtime/index.ts';
import { leadMeta, standardizePhase } from './phase.ts';

// The standardize service: leads.raw → leads.standardized. Signals drain and exit (runtime).
// It is where a lead enters the pipeline, so it meters: one credit per lead id, charged before the phase
// runs; leads of accounts without credits are parked and re-admitted when credits return (runtime meter.ts).
const config = loadConfigOrExit(BaseConfig);
const service = await runPhaseService(standardizePhase, {
  config,
  meter: {
    identify: (raw, ctx) => {
      const meta = leadMeta(raw, ctx);
      return { accountId: meta.account_id, batchId: meta.batch_id, leadId: meta.lead_id };
    },
  },
});
service.log.info({ port: service.port }, 'standardize running');
