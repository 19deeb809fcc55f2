import type { LeadRejection } from '../../schemas/generated.ts';

/**
 * What a phase returns for one input record. Phases never throw for bad data: they say what happened,
 * and the runtime (or the embedded chain) acts on it.
 */
export type PhaseResult<T> =
  | { kind: 'ok'; value: T }
  /**
   * The lead failed validation: counted, written to leads.failed, not retried. `fields` are facts only
   * the phase knows (an unreadable row's position and text); they override what rejectionOf builds.
   */
  | { kind: 'reject'; reason: string; detail: string; fields?: Partial<LeadRejection> }
  /** The message cannot be processed: copied to the topic's DLQ with the reason. */
  | { kind: 'dlq'; reason: string }
  /** Nothing to produce and nothing to record. */
  | { kind: 'drop' };

export const ok = <T>(value: T): PhaseResult<T> => ({ kind: 'ok', value });
export const reject = <T = never>(
  reason: string,
  detail = '',
  fields?: Partial<LeadRejection>,
): PhaseResult<T> => ({ kind: 'reject', reason, detail, ...(fields ? { fields } : {}) });
export const dlq = <T = never>(reason: string): PhaseResult<T> => ({ kind: 'dlq', reason });
export const drop = <T = never>(): PhaseResult<T> => ({ kind: 'drop' });
