import { join } from 'node:path';
import type { PhaseName } from '../../topology/topics.ts';
import { REPO_ROOT } from './config.ts';

/**
 * V8's old-space limit per service, in MiB, which every launcher passes as --max-old-space-size
 * (`npm start`, the test and bench harness, docker-compose.yml; test/e2e/api-flow.test.ts and
 * test/unit/stack-compose.test.ts keep them in agreement). Without it V8 lets the heap of a busy service
 * grow to several times what it keeps alive before a full collection: standardize keeps about 53 MB live
 * and reached 377 MiB RSS at 100,000 leads, 232 MiB with the limit.
 *
 * A limit is not free: V8 grows a small heap by a smaller factor between full collections, so a service
 * near its limit collects more often. Measured at 100,000 leads, two runs each way alternating in one
 * sitting (README, "Memory"), 128 MiB costs ingest, standardize and verify 1–2 CPU-s each, while 192 MiB
 * for score, 224 for sink and 288 for enrich cost them 60 %, 60 % and 22 % more CPU. Those and dedupe
 * (which holds each open batch's index, ~2.7 KB per lead, so its need grows with the largest batch) run
 * without one, as do the gateway, webhooks and usage services, whose heaps stay small.
 *
 * Verify gets 192 MiB, not 128: its in-process DNS answer cache (DNS_MICRO_CACHE_SIZE, 100,000 answers)
 * holds about 45 MB when full, which a file with more distinct domains than the bench's 12,500 reaches.
 */
export const HEAP_LIMIT_MB: Partial<Record<PhaseName | 'gateway', number>> = {
  ingest: 128,
  standardize: 128,
  verify: 192,
};

/** Node's command-line flags for a service's heap: none when it has no limit. */
export function heapFlags(service: string): string[] {
  const mb = HEAP_LIMIT_MB[service as keyof typeof HEAP_LIMIT_MB];
  return mb === undefined ? [] : [`--max-old-space-size=${mb}`];
}

/** The node arguments that run a service: its heap flags, then its entry point through tsx. */
export function serviceArgv(
  service: string,
  entry = join(REPO_ROOT, 'services', service, 'main.ts'),
): string[] {
  return [...heapFlags(service), '--import', 'tsx', entry];
}
