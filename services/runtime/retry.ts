import { setTimeout as sleepMs } from 'node:timers/promises';
import { isThenable } from './ordered.ts';
import { dlq, type PhaseResult } from './result.ts';

export interface RetryPolicy {
  /** Attempts after the first one. */
  maxRetries: number;
  baseMs: number;
  /** No single wait grows past this. */
  capMs: number;
}

export type Sleep = (ms: number) => Promise<unknown>;

/**
 * Exponential backoff with "equal jitter": the n-th retry waits between half and all of
 * base·2^(n-1) (capped), so a fleet of consumers hitting the same outage does not retry in lockstep.
 */
export function backoffMs(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface SettleHooks {
  onRetry?(err: unknown, retry: number, waitMs: number): void;
  /** Errors that are not the phase's (e.g. a failed flush inside a stream): rethrown, not retried. */
  rethrow?(err: unknown): boolean;
  sleep?: Sleep;
  random?: () => number;
}

/**
 * Runs a phase call to a PhaseResult. A throw means a transient failure (a dependency is down), so the
 * call is retried with backoff; after the last retry the input goes to the DLQ with the error message.
 * A synchronous phase that succeeds stays synchronous: no promise per message on the hot path.
 */
export function settle<T>(
  call: (attempt: number) => PhaseResult<T> | Promise<PhaseResult<T>>,
  policy: RetryPolicy,
  hooks: SettleHooks = {},
): PhaseResult<T> | Promise<PhaseResult<T>> {
  try {
    const first = call(0);
    if (!isThenable(first)) return first;
    return first.catch((err: unknown) => retryAfter(err, call, policy, hooks));
  } catch (err) {
    if (hooks.rethrow?.(err)) throw err;
    return retryAfter(err, call, policy, hooks);
  }
}

async function retryAfter<T>(
  firstError: unknown,
  call: (attempt: number) => PhaseResult<T> | Promise<PhaseResult<T>>,
  policy: RetryPolicy,
  hooks: SettleHooks,
): Promise<PhaseResult<T>> {
  const sleep = hooks.sleep ?? sleepMs;
  if (hooks.rethrow?.(firstError)) throw firstError;
  let error = firstError;
  for (let retry = 1; retry <= policy.maxRetries; retry++) {
    const waitMs = backoffMs(retry, policy, hooks.random);
    hooks.onRetry?.(error, retry, waitMs);
    await sleep(waitMs);
    try {
      return await call(retry);
    } catch (err) {
      if (hooks.rethrow?.(err)) throw err;
      error = err;
    }
  }
  return dlq(`failed after ${policy.maxRetries + 1} attempts: ${errorMessage(error)}`);
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * For the runtime's own transient work (produce, commit, registry lookups): retry with capped backoff
 * until it succeeds, or rethrow once `giveUp()` says the service is shutting down. Offsets are never
 * skipped: the caller only moves on after success.
 */
export async function untilDone<T>(
  work: () => Promise<T>,
  policy: RetryPolicy,
  giveUp: () => boolean,
  hooks: SettleHooks = {},
): Promise<T> {
  const sleep = hooks.sleep ?? sleepMs;
  for (let retry = 1; ; retry++) {
    try {
      return await work();
    } catch (err) {
      if (giveUp()) throw err;
      const waitMs = backoffMs(retry, policy, hooks.random);
      hooks.onRetry?.(err, retry, waitMs);
      await sleep(waitMs);
    }
  }
}
