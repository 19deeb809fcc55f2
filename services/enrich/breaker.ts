export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one probe call is let through. */
  cooldownMs: number;
  now?: () => number;
}

/**
 * A circuit breaker for one provider in this process. While open, calls fail at once instead of
 * waiting for timeouts, so the waterfall moves on to the next provider without delay.
 */
export class CircuitBreaker {
  #failures = 0;
  #openedAt = 0;
  #state: BreakerState = 'closed';
  #probeInFlight = false;
  readonly #now: () => number;

  constructor(private readonly opts: BreakerOptions) {
    this.#now = opts.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.opts.cooldownMs) return 'half_open';
    return this.#state;
  }

  /** True when a call may go out now. In half-open state only one probe is allowed at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.#probeInFlight) return false;
    this.#probeInFlight = true;
    this.#state = 'half_open';
    return true;
  }

  onSuccess(): void {
    this.#failures = 0;
    this.#probeInFlight = false;
    this.#state = 'closed';
  }

  /** A call that never reached the provider: a probe it held is free again, nothing is counted. */
  release(): void {
    this.#probeInFlight = false;
  }

  onFailure(): void {
    this.#probeInFlight = false;
    this.#failures++;
    if (this.#state === 'half_open' || this.#failures >= this.opts.failureThreshold) {
      this.#state = 'open';
      this.#openedAt = this.#now();
    }
  }
}
