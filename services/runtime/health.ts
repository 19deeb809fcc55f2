/** What /health answers: `healthy` picks 200 or 503, the rest is there for the operator. */
export interface HealthReport {
  healthy: boolean;
  [detail: string]: unknown;
}

/**
 * Liveness of a consumer loop. The loop is healthy when the consumer is connected (joined its group)
 * and made progress recently: a fetch returned (even empty: an idle loop is alive) or a batch flushed.
 * A batch stuck on a dead broker or a hung dependency stops both, so the report turns 503 after
 * `stallMs`.
 */
export class LoopHealth {
  private connected = false;
  private lastProgressAt: number;
  private lastError: string | undefined;
  private stopping = false;

  constructor(
    private readonly stallMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.lastProgressAt = now();
  }

  markConnected(): void {
    this.connected = true;
    this.lastError = undefined;
    this.lastProgressAt = this.now();
  }

  markDisconnected(error?: string): void {
    this.connected = false;
    if (error !== undefined) this.lastError = error;
  }

  markProgress(): void {
    this.lastProgressAt = this.now();
  }

  markStopping(): void {
    this.stopping = true;
  }

  report(): HealthReport {
    const sinceProgressMs = this.now() - this.lastProgressAt;
    const stalled = sinceProgressMs > this.stallMs;
    const status = this.stopping ? 'stopping' : !this.connected ? 'disconnected' : stalled ? 'stalled' : 'ok';
    return {
      healthy: status === 'ok',
      status,
      connected: this.connected,
      since_progress_ms: sinceProgressMs,
      stall_ms: this.stallMs,
      ...(this.lastError === undefined ? {} : { last_error: this.lastError }),
    };
  }
}
