import { loadConfigOrExit } from '../lib/config.ts';
import { createRedis } from '../lib/redis.ts';
import { runPhaseService } from '../runtime/index.ts';
import { VerifyConfig } from './config.ts';
import { createVerifyContext } from './context.ts';
import { verifyPhase } from './phase.ts';

// The verify service: leads.standardized → leads.verified. Signals drain and exit (runtime).
const config = loadConfigOrExit(VerifyConfig);
const redis = createRedis(config.REDIS_URL, 'leedrush-verify');
const service = await runPhaseService(verifyPhase(createVerifyContext(config, redis)), { config });
service.log.info(
  {
    smtpProbe: config.SMTP_PROBE_ENABLED,
    probeAccounts: config.SMTP_PROBE_ACCOUNTS.length,
    phoneLookup: Boolean(config.PHONE_LOOKUP_URL),
  },
  'verify ready',
);
