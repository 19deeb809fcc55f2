import type { EnrichedLead } from '../../schemas/generated.ts';
import type { DedupeSettings } from './config.ts';
import type { MatchRecord } from './match-record.ts';
import { type Resolution, resolveBatch } from './resolve.ts';

/**
 * The streaming side of dedup, as pure state transitions. The dedupe service sees one account's leads
 * one at a time (topic key = account_id, so every candidate duplicate of an account meets in one
 * partition). It cannot say who survives before the batch is complete, so it only collects: the state
 * of an open batch is the set of its leads by lead_id. When the last expected lead has arrived the
 * batch is resolved in one pure step over that set. Because the state is a set keyed by lead_id,
 * arrival order, redelivered duplicates and the number of partitions or instances cannot change it,
 * and so cannot change the survivors. The service keeps this state in Redis (one hash per batch,
 * lead_id -> encoded lead) so a restarted instance picks up where the killed one stopped.
 */
export interface OpenBatch {
  batchId: string;
  leads: Map<string, EnrichedLead>;
}

export function openBatch(batchId: string): OpenBatch {
  return { batchId, leads: new Map() };
}

/**
 * Adds a lead; a redelivered lead (same lead_id) replaces itself, so the count stays distinct. The set
 * is updated in place (copying it per lead would make a batch quadratic); no I/O happens here.
 */
export function addLead(state: OpenBatch, lead: EnrichedLead): OpenBatch {
  if (lead.meta.batch_id !== state.batchId) {
    throw new Error(`lead ${lead.meta.lead_id} belongs to batch ${lead.meta.batch_id}, not ${state.batchId}`);
  }
  state.leads.set(lead.meta.lead_id, lead);
  return state;
}

/**
 * True once every lead dedupe will ever see has arrived: the batch's rows minus those rejected before
 * this phase (the batch tracker counts both).
 */
export function isComplete(state: OpenBatch, expectedLeads: number): boolean {
  return state.leads.size >= expectedLeads;
}

/** Decides the batch: survivors, duplicates, confidences, and the entries the history index learns. */
export function finalizeBatch(
  state: OpenBatch,
  history: MatchRecord[],
  settings: DedupeSettings,
): Resolution {
  return resolveBatch([...state.leads.values()], history, settings);
}
