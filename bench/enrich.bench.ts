/**
 * Enrichment throughput and provider economy: a batch of leads through the Enricher against the
 * sandbox provider server (its own process, 50 ms latency per answer) and the stack's Redis.
 *
 * The batch: `--leads` leads, of which `--shared` (30 %) belong to companies that several leads share
 * (`--per-company` leads each); the rest each have a company of their own. Leads carry their person
 * fields (name, title, LinkedIn), as uploads do; phase 3 left `--unverified` (10 %) with an unknown
 * email verdict, which the waterfall asks a verifier about. DNS technographics are off (no resolver
 * to ask on this machine), so every figure is provider + cache work.
 *
 * Passes: cold (empty caches), warm L1 (same instance again), warm L2 (a fresh instance: empty L1,
 * Redis warm). Warm passes run `--runs` times and report the median. Writes .bench/enrich.json.
 *
 *   npm run bench:enrich [-- --leads 100000 --concurrency 256 --latency 50]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { CacheStats } from '../services/enrich/cache.ts';
import { EnrichConfig, type EnrichSettings } from '../services/enrich/config.ts';
import { createEnrichContext, type EnrichContext } from '../services/enrich/context.ts';
import type { LeadInput } from '../services/enrich/enricher.ts';
import { sandboxEnv } from '../services/enrich/sandbox/server.ts';
import { loadConfig, REPO_ROOT } from '../services/lib/config.ts';

const { values: args } = parseArgs({
  options: {
    leads: { type: 'string', default: '100000' },
    shared: { type: 'string', default: '0.3' },
    'per-company': { type: 'string', default: '10' },
    unverified: { type: 'string', default: '0.1' },
    concurrency: { type: 'string', default: '256' },
    latency: { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
  },
});
const LEADS = Number(args.leads);
const SHARED = Number(args.shared);
const PER_COMPANY = Number(args['per-company']);
const UNVERIFIED = Number(args.unverified);
const CONCURRENCY = Number(args.concurrency);
const LATENCY = Number(args.latency);
const RUNS = Number(args.runs);

/** Deterministic batch: shared companies first spread through the batch, not in runs. */
function generateLeads(): LeadInput[] {
  const sharedLeads = Math.round(LEADS * SHARED);
  const leads: LeadInput[] = [];
  for (let i = 0; i < LEADS; i++) {
    const company = i < sharedLeads ? `shared${Math.floor(i / PER_COMPANY)}` : `solo${i}`;
    const domain = `${company}-bench.com`;
    leads.push({
      email: `person${i}.lead@${domain}`,
      email_status: (i * 7919) % 100 < UNVERIFIED * 100 ? 'unknown' : 'verified_deliverable',
      first_name: 'Person',
      last_name: `Lead${i}`,
      full_name: `Person Lead${i}`,
      title_normalized: 'VP of Sales',
      company_name: null,
      company_key: null,
      domain,
      linkedin_url: `https://www.linkedin.com/in/person-lead-${i}`,
      phone_e164: null,
      country: null,
      industry: null,
      employees: null,
    });
  }
  // A fixed shuffle, so shared companies arrive interleaved with the rest as in a real upload.
  let seed = 42;
  for (let i = leads.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const j = seed % (i + 1);
    [leads[i], leads[j]] = [leads[j] as LeadInput, leads[i] as LeadInput];
  }
  return leads;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function startSandboxProcess(port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO_ROOT, 'services/enrich/sandbox/server.ts'),
      '--port',
      String(port),
      '--latency',
      String(LATENCY),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
  });
  return child;
}

async function sandboxRequests(url: string, attempt = 0): Promise<number> {
  const res = await fetch(`${url}/__sandbox/stats`).catch((err: unknown) => {
    // A pooled keep-alive socket the server closed at the same moment: one retry on a fresh one.
    if (attempt === 0) return null;
    throw err;
  });
  if (!res) return sandboxRequests(url, 1);
  const body = (await res.json()) as {
    requests: Record<string, Record<string, number>>;
  };
  let n = 0;
  for (const [provider, byEndpoint] of Object.entries(body.requests)) {
    for (const [endpoint, count] of Object.entries(byEndpoint)) {
      // OAuth token requests are not lookups.
      if (!(provider === 'snov' && endpoint === 'token')) n += count;
    }
  }
  return n;
}

/** Runs every lead through the enricher with at most CONCURRENCY in flight. */
async function pass(ctx: EnrichContext, leads: LeadInput[]): Promise<{ seconds: number; failed: number }> {
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const i = next++;
        const lead = leads[i];
        if (!lead) return;
        const out = await ctx.enricher.enrich(lead).catch(() => null);
        if (!out || out.failures.length) failed++;
      }
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, failed };
}

interface PassFigures {
  leads_per_s: number;
  seconds: number;
  provider_calls: number;
  provider_calls_per_lead: number;
  /** Leads for which a provider failed or the lead could not be enriched at all. */
  leads_with_failures: number;
  cache_errors: number;
  cache: {
    l1_hits: number;
    l1_misses: number;
    l2_hits: number;
    l2_misses: number;
    similarity: number;
    hit_rate: number;
  };
}

function cacheDelta(before: CacheStats, after: CacheStats): PassFigures['cache'] {
  const d = {
    l1_hits: after.l1_cache.total_hits - before.l1_cache.total_hits,
    l1_misses: after.l1_cache.total_misses - before.l1_cache.total_misses,
    l2_hits: after.l2_cache.total_hits - before.l2_cache.total_hits,
    l2_misses: after.l2_cache.total_misses - before.l2_cache.total_misses,
    similarity: after.similarity_matches.total - before.similarity_matches.total,
  };
  // Every lookup starts at L1: hits at any level over L1 lookups.
  const lookups = d.l1_hits + d.l1_misses;
  return { ...d, hit_rate: lookups ? (d.l1_hits + d.l2_hits + d.similarity) / lookups : 0 };
}

async function measured(ctx: EnrichContext, leads: LeadInput[], url: string): Promise<PassFigures> {
  const statsBefore = await ctx.cache.stats();
  const callsBefore = await sandboxRequests(url);
  const { seconds, failed } = await pass(ctx, leads);
  const calls = (await sandboxRequests(url)) - callsBefore;
  return {
    leads_per_s: Math.round(leads.length / seconds),
    seconds: Number(seconds.toFixed(2)),
    provider_calls: calls,
    provider_calls_per_lead: Number((calls / leads.length).toFixed(4)),
    leads_with_failures: failed,
    cache_errors: (await ctx.cache.stats()).l2_errors - statsBefore.l2_errors,
    cache: cacheDelta(statsBefore, await ctx.cache.stats()),
  };
}

const median = (xs: PassFigures[]): PassFigures =>
  [...xs].sort((a, b) => a.leads_per_s - b.leads_per_s)[Math.floor(xs.length / 2)] as PassFigures;

async function clearPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

async function main() {
  const port = await freePort();
  const sandbox = await startSandboxProcess(port);
  const url = `http://127.0.0.1:${port}`;
  const prefix = `bench_enrich_${process.pid}`;
  const cfg: EnrichSettings = loadConfig(EnrichConfig, {
    ...process.env,
    ...sandboxEnv(url),
    LEEDRUSH_PREFIX: prefix,
    // The bench measures our side: provider rate limits far above what the sandbox can serve here.
    ENRICH_RATE_APOLLO: '100000',
    ENRICH_RATE_CLEARBIT: '100000',
    ENRICH_RATE_HUNTER: '100000',
    ENRICH_RATE_SNOV: '100000',
    ENRICH_BURST: '100000',
    ENRICH_TIMEOUT_MS: '10000',
    ENRICH_L1_MAX: String(LEADS * 2),
  });
  // Auto-pipelining: commands issued in one tick share one socket write, which is what a busy enrich
  // instance wants (hundreds of leads in flight, a few Redis commands each).
  const redis = new Redis(cfg.REDIS_URL, {
    connectionName: 'enrich-bench',
    commandTimeout: 2_000,
    maxRetriesPerRequest: 2,
    enableAutoPipelining: true,
  });
  const leads = generateLeads();
  const contexts: EnrichContext[] = [];
  let logged = 0;
  const instance = () => {
    const ctx = createEnrichContext(cfg, redis, { dns: null });
    contexts.push(ctx);
    return ctx;
  };
  // Stands in for the service's ClickHouse writer: the call log is drained once a second.
  const flusher = setInterval(() => {
    for (const c of contexts) logged += c.calls.drain().length;
  }, 1_000);
  try {
    const first = instance();
    process.stdout.write(
      `cold pass: ${LEADS} leads, concurrency ${CONCURRENCY}, sandbox latency ${LATENCY} ms\n`,
    );
    const cold = await measured(first, leads, url);
    process.stdout.write(`  ${JSON.stringify(cold)}\n`);
    const warmL1: PassFigures[] = [];
    const warmL2: PassFigures[] = [];
    for (let r = 0; r < RUNS; r++) {
      warmL1.push(await measured(first, leads, url));
      warmL2.push(await measured(instance(), leads, url));
      process.stdout.write(
        `  warm run ${r + 1}: L1 ${warmL1.at(-1)?.leads_per_s}/s, L2 ${warmL2.at(-1)?.leads_per_s}/s\n`,
      );
    }
    const totals = await first.cache.stats();
    const result = {
      machine: { cpus: cpus().length, node: process.version },
      batch: {
        leads: LEADS,
        shared_share: SHARED,
        leads_per_shared_company: PER_COMPANY,
        unverified_share: UNVERIFIED,
      },
      settings: { concurrency: CONCURRENCY, sandbox_latency_ms: LATENCY, warm_runs: RUNS },
      cold,
      warm_l1_median: median(warmL1),
      warm_l2_median: median(warmL2),
      cost_savings: totals.cost_savings,
      call_log: { drained: logged, dropped: contexts.reduce((n, c) => n + c.calls.dropped, 0) },
      provider_calls_per_lead_all_passes: Number(
        (
          (cold.provider_calls + [...warmL1, ...warmL2].reduce((n, p) => n + p.provider_calls, 0)) /
          (LEADS * (1 + 2 * RUNS))
        ).toFixed(4),
      ),
    };
    mkdirSync(join(REPO_ROOT, '.bench'), { recursive: true });
    writeFileSync(join(REPO_ROOT, '.bench', 'enrich.json'), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    clearInterval(flusher);
    await Promise.all(contexts.map((c) => c.close()));
    await clearPrefix(redis, `${prefix}:ld`);
    redis.disconnect();
    sandbox.kill('SIGTERM');
  }
}

await main();
