import type { EnrichedLead, Enrichment, VerifiedLead } from '../../schemas/generated.ts';
import type { BatchMetrics } from '../lib/batch-metrics.ts';
import { TOPICS } from '../lib/names.ts';
import { definePhase } from '../runtime/phase.ts';
import { ok, type PhaseResult } from '../runtime/result.ts';
import { registrableDomain } from './cache.ts';
import type { AttributedCallLog } from './call-log-writer.ts';
import type { Enricher, LeadInput } from './enricher.ts';
import type { EnrichMetrics } from './metrics.ts';
import type { PredictiveCounters } from './predictive/counters.ts';

/** What tells a lead served by predictive pre-enrichment apart (absent when the watcher is off). */
export interface PredictiveUse {
  /** True when the background queue paid for this company before any lead asked for it. */
  wasPreEnriched(domain: string): Promise<boolean>;
  counters: PredictiveCounters;
}

export interface EnrichPhaseDeps {
  enricher: Enricher;
  calls: AttributedCallLog;
  batchMetrics: BatchMetrics;
  predictive?: PredictiveUse;
  metrics?: EnrichMetrics;
}

const CACHE_LEVELS = new Set(['l1', 'l2', 'similarity', 'predictive']);

export function toLeadInput({ lead, verification, meta }: VerifiedLead): LeadInput {
  return {
    email: lead.email,
    email_status: verification.email_status,
    first_name: lead.first_name,
    last_name: lead.last_name,
    full_name: lead.full_name,
    title_normalized: lead.title_normalized,
    company_name: lead.company_name,
    company_key: lead.company_key,
    domain: lead.domain,
    linkedin_url: lead.linkedin_url,
    phone_e164: lead.phone_e164,
    country: lead.country,
    industry: lead.industry,
    employees: lead.employees,
    received_at: meta.received_at,
  };
}

/**
 * Phase 4: fills the lead's gaps from the caches and the provider waterfall. Provider trouble leaves
 * fields empty (the lead goes on); only infrastructure failures (Redis) throw, so the runtime retries.
 */
export async function enrichLead(
  input: VerifiedLead,
  deps: EnrichPhaseDeps,
): Promise<PhaseResult<EnrichedLead>> {
  const { meta } = input;
  const started = performance.now();
  const owner = { account_id: meta.account_id, batch_id: meta.batch_id, lead_id: meta.lead_id };
  const outcome = await deps.calls.within(owner, () => deps.enricher.enrich(toLeadInput(input)));
  const latencyMs = performance.now() - started;
  let enrichment: Enrichment = outcome.enrichment;
  const calledProvider = outcome.spent.calls > 0;

  let predictiveMatch = false;
  if (deps.predictive && input.lead.domain) {
    predictiveMatch = await deps.predictive.wasPreEnriched(registrableDomain(input.lead.domain));
    await deps.predictive.counters.lead(latencyMs, { preEnriched: predictiveMatch, calledProvider });
    // Served from an entry the queue prepared, without waiting for a provider.
    if (predictiveMatch && CACHE_LEVELS.has(enrichment.cache_level)) {
      enrichment = { ...enrichment, cache_level: 'predictive' };
    }
  }
  await deps.batchMetrics.observe(meta.batch_id, meta.lead_id, {
    cacheHit: CACHE_LEVELS.has(enrichment.cache_level),
    predictiveMatch,
    multiSourceValidated: enrichment.multi_source,
    confidence: enrichment.confidence,
  });
  deps.metrics?.record(enrichment);
  return ok({ ...input, enrichment });
}

/** The phase as the Kafka service runs it. Keyed by account: dedupe needs an account's leads in one partition. */
export function enrichPhase(deps: EnrichPhaseDeps) {
  return definePhase<VerifiedLead, EnrichedLead>({
    name: 'enrich',
    input: { topic: TOPICS.verified, record: 'VerifiedLead' },
    output: { topic: TOPICS.enriched, record: 'EnrichedLead' },
    keyOf: (lead) => lead.meta.account_id,
    phase: (input) => enrichLead(input, deps),
  });
}
