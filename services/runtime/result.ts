/**
 * What a phase returns for one input record. Phases never throw for bad data: they say what happened,
 * and the runtime (or the embedded chain) acts on it.
 */
export type PhaseResult<T> =
  | { kind: 'ok'; value: T }
  /** The lead failed validation: counted, written to leads.failed, not retried. */
  | { kind: 'reject'; reason: string; detail: string }
  /** The message cannot be processed: copied to the topic's DLQ with the reason. */
  | { kind: 'dlq'; reason: string }
  /** Nothing to produce and nothing to record. */
  | { kind: 'drop' };

export const ok = <T>(value: T): PhaseResult<T> => ({ kind: 'ok', value });
export const reject = <T = never>(reason: string, detail = ''): PhaseResult<T> => ({
  kind: 'reject',
  reason,
  detail,
});
export const dlq = <T = never>(reason: string): PhaseResult<T> => ({ kind: 'dlq', reason });
export const drop = <T = never>(): PhaseResult<T> => ({ kind: 'drop' });
