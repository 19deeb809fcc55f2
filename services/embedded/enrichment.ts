import type { EnrichedLead, VerifiedLead } from '../../schemas/generated.ts';
import { createEnrichContext, type EnrichContext } from '../enrich/context.ts';
import { toLeadInput } from '../enrich/phase.ts';
import { type RunningSandbox, sandboxEnv, startSandbox } from '../enrich/sandbox/server.ts';
import { DnsTechnographics } from '../enrich/technographics.ts';
import type { ProviderName } from '../enrich/types.ts';
import { TOPICS } from '../lib/names.ts';
import { definePhase } from '../runtime/phase.ts';
import { ok } from '../runtime/result.ts';
import { configuredProviders, type EmbeddedSettings } from './settings.ts';

/** Where embedded mode's enrichment comes from, as its summary reports it. */
export type EnrichmentSource = { kind: 'sandbox'; url: string } | { kind: 'live'; providers: ProviderName[] };

/** What enrichment cost in a run: HTTP attempts to providers (retries included) and USD billed. */
export interface EnrichmentSpend {
  calls: number;
  cost_usd: number;
}

export interface EmbeddedEnrichment {
  source: EnrichmentSource;
  spend: EnrichmentSpend;
  /** Phase 4 of the embedded chain: leads.verified → leads.enriched with the real enricher. */
  phase: ReturnType<typeof embeddedEnrichPhase>;
  close(): Promise<void>;
}

/** The sandbox answers as fast as it can: no provider rate limit to respect. */
const SANDBOX_RATES = {
  ENRICH_RATE_APOLLO: 1e6,
  ENRICH_RATE_CLEARBIT: 1e6,
  ENRICH_RATE_HUNTER: 1e6,
  ENRICH_RATE_SNOV: 1e6,
  ENRICH_BURST: 1e6,
};

/**
 * The enrich service's Enricher, provider adapters and waterfall, with its caches and rate limits in
 * this process. Providers with keys in the environment are called live; without any key, the provider
 * sandbox is started on a free 127.0.0.1 port for the run and the adapters are pointed at it.
 * `dnsReachable` false: no DNS technographics (the resolver cannot answer for real domains).
 */
export async function openEnrichment(
  settings: EmbeddedSettings,
  dnsReachable: boolean,
): Promise<EmbeddedEnrichment> {
  const live = configuredProviders(settings);
  const sandbox: RunningSandbox | null = live.length === 0 ? await startSandbox() : null;
  const cfg = sandbox ? { ...settings, ...sandboxEnv(sandbox.url), ...SANDBOX_RATES } : settings;
  const dns = dnsReachable
    ? new DnsTechnographics({
        servers: settings.DNS_SERVERS,
        timeoutMs: settings.DNS_TIMEOUT_MS,
        tries: settings.DNS_TRIES,
      })
    : null;
  const ctx = createEnrichContext(cfg, null, { dns, providers: sandbox ? undefined : live });
  const spend: EnrichmentSpend = { calls: 0, cost_usd: 0 };
  return {
    source: sandbox ? { kind: 'sandbox', url: sandbox.url } : { kind: 'live', providers: live },
    spend,
    phase: embeddedEnrichPhase(ctx, spend),
    close: async () => {
      await ctx.close();
      await sandbox?.close();
    },
  };
}

function embeddedEnrichPhase(ctx: EnrichContext, spend: EnrichmentSpend) {
  return definePhase<VerifiedLead, EnrichedLead>({
    name: 'enrich',
    input: { topic: TOPICS.verified, record: 'VerifiedLead' },
    output: { topic: TOPICS.enriched, record: 'EnrichedLead' },
    phase: async (input) => {
      const outcome = await ctx.enricher.enrich(toLeadInput(input));
      spend.calls += outcome.spent.calls;
      spend.cost_usd += outcome.spent.cost_usd;
      return ok({ ...input, enrichment: outcome.enrichment });
    },
  });
}
