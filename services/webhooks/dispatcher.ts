/**
 * The delivery loop: every poll claims due jobs (up to the free concurrency), and each runs one
 * attempt: checked target, signed POST, the attempt logged, then done / rescheduled / given up.
 * Attempts run beside the Kafka consumer, never inside it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../runtime/index.ts';
import { checkTarget, type TargetPolicy } from './address-guard.ts';
import { retryDelay } from './backoff.ts';
import type { DeliveryLog } from './delivery-log.ts';
import type { EndpointStore } from './endpoints.ts';
import type { DeliveryJob, RetryQueue } from './retry-queue.ts';
import { type AttemptResult, postOnce } from './send.ts';
import { deliveryBody, signBody } from './signature.ts';

export interface DispatcherOptions {
  queue: RetryQueue;
  endpoints: EndpointStore;
  deliveries: DeliveryLog;
  policy: TargetPolicy;
  /** Delays between attempts, ms (backoff.ts). */
  schedule: readonly number[];
  timeoutMs: number;
  pollMs: number;
  leaseMs: number;
  concurrency: number;
  log: Logger;
  registry: Registry;
}

export class Dispatcher {
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private readonly attempts: Counter<'result'>;
  private readonly givenUp: Counter;

  constructor(private readonly o: DispatcherOptions) {
    this.attempts = new Counter({
      name: 'leedrush_webhook_attempts_total',
      help: 'Webhook delivery attempts, by result (success = a 2xx answer)',
      labelNames: ['result'],
      registers: [o.registry],
    });
    // Both results exist from the start at 0, so the first failure is a rise that rate() and alerts see.
    for (const result of ['success', 'failure']) this.attempts.inc({ result }, 0);
    this.givenUp = new Counter({
      name: 'leedrush_webhook_given_up_total',
      help: 'Deliveries abandoned after the last attempt of the retry schedule failed',
      registers: [o.registry],
    });
    const { queue } = o;
    new Gauge({
      name: 'leedrush_webhook_pending_jobs',
      help: 'Deliveries waiting for their next attempt (first attempts and retries)',
      registers: [o.registry],
      async collect() {
        this.set(await queue.pending());
      },
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.o.pollMs);
  }

  /** Stops claiming and waits for the attempts in flight (their results are recorded). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.polling || this.inFlight.size) await Promise.all([...this.inFlight, sleepTick()]);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const free = this.o.concurrency - this.inFlight.size;
      if (free <= 0) return;
      const jobs = await this.o.queue.claim(Date.now(), this.o.leaseMs, free);
      for (const job of jobs) {
        const run: Promise<void> = this.attempt(job)
          .catch((err: unknown) =>
            // Redis failed mid-way: the lease runs out and the job is claimed again.
            this.o.log.warn(
              { err: (err as Error).message, event_id: job.event_id },
              'webhook attempt failed',
            ),
          )
          .finally(() => this.inFlight.delete(run));
        this.inFlight.add(run);
      }
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'webhook poll failed');
    } finally {
      this.polling = false;
    }
  }

  private async attempt(job: DeliveryJob): Promise<void> {
    const leaseEnds = Date.now() + this.o.leaseMs;
    const { queue } = this.o;
    if (await queue.isDelivered(job)) return queue.finish(job);
    const endpoint = await this.o.endpoints.get(job.account_id, job.endpoint_id);
    if (!endpoint) return queue.finish(job);
    const attempt = job.attempts + 1;
    const result = await this.send(endpoint.url, endpoint.secret, job, attempt);
    this.o.deliveries.record({
      at: new Date(),
      endpointId: job.endpoint_id,
      accountId: job.account_id,
      eventId: job.event_id,
      event: job.event,
      attempt,
      status: result.status,
      error: result.error,
      latencyMs: result.latencyMs,
    });
    const success = result.status >= 200 && result.status < 300;
    this.attempts.inc({ result: success ? 'success' : 'failure' });
    if (success) return this.markDelivered(job, leaseEnds);
    const delay = retryDelay(this.o.schedule, attempt);
    if (delay === null) {
      this.givenUp.inc();
      this.o.log.warn({ endpoint_id: job.endpoint_id, event_id: job.event_id, attempt }, 'webhook given up');
      return queue.finish(job);
    }
    await queue.retryAt({ ...job, attempts: attempt }, Date.now() + delay);
  }

  /**
   * After a 2xx the done marker must land before the lease runs out, or the job is claimed and sent a
   * second time: it is retried through a Redis outage until then (an outage longer than the lease can
   * still cause one more delivery, which the event id lets a receiver drop).
   */
  private async markDelivered(job: DeliveryJob, leaseEnds: number): Promise<void> {
    for (let wait = 100; ; wait = Math.min(wait * 2, 2_000)) {
      try {
        return await this.o.queue.delivered(job);
      } catch (err) {
        if (Date.now() + wait >= leaseEnds) throw err;
        this.o.log.warn(
          { err: (err as Error).message, event_id: job.event_id },
          'webhook done marker retried',
        );
        await sleep(wait);
      }
    }
  }

  /** The target is checked again on every attempt: the host may resolve elsewhere by now. */
  private async send(url: string, secret: string, job: DeliveryJob, attempt: number): Promise<AttemptResult> {
    const check = await checkTarget(url, this.o.policy);
    if (!check.ok) return { status: 0, error: `refused target: ${check.reason}`, latencyMs: 0 };
    const body = deliveryBody(job);
    return postOnce(
      check.target,
      body,
      {
        'x-leedrush-signature': signBody(secret, body),
        'x-leedrush-event': job.event,
        'x-leedrush-event-id': job.event_id,
        'x-leedrush-delivery-attempt': String(attempt),
      },
      this.o.timeoutMs,
    );
  }
}

const sleepTick = () => new Promise<void>((resolve) => setTimeout(resolve, 10));
