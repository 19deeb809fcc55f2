/**
 * What one consumed record becomes in the sink: a row for ClickHouse with the batch it counts in (and
 * the lead.qualified event of a qualified lead), or the failure of a whole batch. Pure: no I/O.
 */
import type { LeadRejection, ScoredLead, WebhookEvent } from '../../schemas/generated.ts';
import { isBatchFailure, type TerminalOutcome, type TerminalRow, terminalRow } from '../lib/batch-tracker.ts';
import { errorMessage } from '../runtime/retry.ts';
import { leadQualifiedEvent } from './events.ts';
import { type LeadRow, leadRow, type RejectionRow, rejectionRow } from './rows.ts';

interface BatchRef {
  batchId: string;
  accountId: string;
  /** Source of the stream batch opened for a batch the tracker does not know. */
  source: string;
}

export type SinkEntry =
  | (BatchRef & { kind: 'lead'; row: LeadRow; terminal: TerminalRow; event: WebhookEvent | null })
  | (BatchRef & { kind: 'rejection'; row: RejectionRow; terminal: TerminalRow })
  | (BatchRef & { kind: 'batch-failure'; reason: string });

export type EntryResult = { ok: true; entry: SinkEntry } | { ok: false; reason: string };

const OUTCOMES: Record<string, TerminalOutcome> = {
  QUALIFIED: 'qualified',
  REJECTED: 'rejected',
  INVALID: 'invalid',
  DUPLICATE: 'duplicate',
};

/** `scoredAt`: broker timestamp of the record; `version`: write time in milliseconds. */
export function scoredEntry(s: ScoredLead, scoredAt: number, version: number): EntryResult {
  const outcome = OUTCOMES[s.score.status];
  if (!outcome) return { ok: false, reason: `unknown score status ${JSON.stringify(s.score.status)}` };
  let row: LeadRow;
  try {
    row = leadRow(s, scoredAt, version);
  } catch (err) {
    return { ok: false, reason: `lead ${s.meta.lead_id} cannot be stored: ${errorMessage(err)}` };
  }
  const { batch_id: batchId, account_id: accountId, lead_id: leadId, row_index: rowIndex } = s.meta;
  return {
    ok: true,
    entry: {
      kind: 'lead',
      batchId,
      accountId,
      source: s.meta.source,
      row,
      terminal: { row: terminalRow(batchId, leadId, rowIndex), outcome },
      event: outcome === 'qualified' ? leadQualifiedEvent(s, scoredAt) : null,
    },
  };
}

export function rejectionEntry(r: LeadRejection, version: number): EntryResult {
  const ref = { batchId: r.batch_id, accountId: r.account_id, source: 'kafka' };
  if (isBatchFailure(r)) return { ok: true, entry: { ...ref, kind: 'batch-failure', reason: r.detail } };
  let row: RejectionRow;
  try {
    row = rejectionRow(r, version);
  } catch (err) {
    return { ok: false, reason: `rejection ${r.lead_id} cannot be stored: ${errorMessage(err)}` };
  }
  return {
    ok: true,
    entry: {
      ...ref,
      kind: 'rejection',
      row,
      terminal: { row: terminalRow(r.batch_id, r.lead_id, r.row_index), outcome: 'failed' },
    },
  };
}
