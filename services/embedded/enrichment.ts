import type { EnrichedLead, VerifiedLead } from '../../schemas/generated.ts';
import { createEnrichContext, type EnrichContext } from '../enrich/context.ts';
import { toLeadInput } from '../enrich/phase.ts';
import type { ProviderMode } from '../enrich/provider-mode.ts';
import { type RunningSandbox, startSandbox } from '../enrich/sandbox/server.ts';
import { DnsTechnographics } from '../enrich/technographics.ts';
import { TOPICS } from '../lib/names.ts';
import { definePhase } from '../runtime/phase.ts';
import { ok } from '../runtime/result.ts';
import type { EmbeddedSettings } from './settings.ts';

/** What enrichment cost in a run: HTTP attempts to providers (retries included) and USD billed. */
export interface EnrichmentSpend {
  calls: number;
  cost_usd: number;
}

export interface EmbeddedEnrichment {
  /** Where enrichment came from, as the summary reports it. */
  mode: ProviderMode;
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
 * this process, asking what provider-mode.ts selects: the providers with real keys in the environment,
 * or none. With `sandbox` (`--sandbox`, or ENRICH_SANDBOX on) the provider sandbox is started on a free
 * 127.0.0.1 port for the run and every provider value is labelled `sandbox:<provider>`.
 * `dnsReachable` false: no DNS technographics (the resolver cannot answer for real domains).
 */
export async function openEnrichment(
  settings: EmbeddedSettings,
  dnsReachable: boolean,
  sandbox: boolean,
): Promise<EmbeddedEnrichment> {
  const running: RunningSandbox | null = sandbox || settings.ENRICH_SANDBOX ? await startSandbox() : null;
  const cfg = running
    ? { ...settings, ...SANDBOX_RATES, ENRICH_SANDBOX: true, ENRICH_SANDBOX_URL: running.url }
    : settings;
  const dns = dnsReachable
    ? new DnsTechnographics({
        servers: settings.DNS_SERVERS,
        timeoutMs: settings.DNS_TIMEOUT_MS,
        tries: settings.DNS_TRIES,
      })
    : null;
  const ctx = createEnrichContext(cfg, null, { dns });
  const spend: EnrichmentSpend = { calls: 0, cost_usd: 0 };
  return {
    mode: ctx.mode,
    spend,
    phase: embeddedEnrichPhase(ctx, spend),
    close: async () => {
      await ctx.close();
      await running?.close();
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
