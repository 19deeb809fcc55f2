import { Counter, type Registry } from 'prom-client';
import type { Verification } from '../../schemas/generated.ts';
import type { AnswerCache } from './answer-cache.ts';

/** What the verify phase decided, and how often the DNS cache answered, for /metrics. */
export class VerifyMetrics {
  private readonly email: Counter<'status'>;
  private readonly phone: Counter<'status'>;

  constructor(registry: Registry, cache: AnswerCache) {
    const registers = [registry];
    this.email = new Counter({
      name: 'leedrush_verify_email_status_total',
      help: 'Leads by email_status',
      labelNames: ['status'],
      registers,
    });
    this.phone = new Counter({
      name: 'leedrush_verify_phone_status_total',
      help: 'Leads by phone_status',
      labelNames: ['status'],
      registers,
    });
    // Read from the cache's own tallies at scrape time: nothing extra on the per-lead path.
    const reported = { microHits: 0, redisHits: 0, misses: 0 };
    new Counter({
      name: 'leedrush_verify_dns_cache_lookups_total',
      help: 'DNS answers by where they came from: micro (in-process), redis, or miss (asked DNS)',
      labelNames: ['level'],
      registers,
      collect() {
        for (const [level, key] of [
          ['micro', 'microHits'],
          ['redis', 'redisHits'],
          ['miss', 'misses'],
        ] as const) {
          this.inc({ level }, cache.stats[key] - reported[key]);
          reported[key] = cache.stats[key];
        }
      },
    });
  }

  record(v: Verification): void {
    this.email.inc({ status: v.email_status });
    this.phone.inc({ status: v.phone_status });
  }
}
