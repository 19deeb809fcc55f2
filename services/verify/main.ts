import { loadConfigOrExit } from '../lib/config.ts';
import { createRedis } from '../lib/redis.ts';
import { runPhaseService, serviceRegistry } from '../runtime/index.ts';
import { VerifyConfig } from './config.ts';
import { createVerifyContext } from './context.ts';
import { VerifyMetrics } from './metrics.ts';
import { verifyPhase } from './phase.ts';

// The verify service: leads.standardized → leads.verified. Signals drain and exit (runtime).
const config = loadConfigOrExit(VerifyConfig);
// Every lead asks the answer cache: auto-pipelining sends a tick's reads in one write.
const redis = createRedis(config.REDIS_URL, 'leedrush-verify', { enableAutoPipelining: true });
const ctx = createVerifyContext(config, redis);
const registry = serviceRegistry('verify');
const phase = verifyPhase(ctx, new VerifyMetrics(registry, ctx.cache));
const service = await runPhaseService(phase, { config, registry });
service.log.info(
  {
    smtpProbe: config.SMTP_PROBE_ENABLED,
    probeAccounts: config.SMTP_PROBE_ACCOUNTS.length,
    phoneLookup: Boolean(config.PHONE_LOOKUP_URL),
  },
  'verify ready',
);
