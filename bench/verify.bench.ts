/**
 * Verify phase throughput with a warm DNS cache: 100,000 leads over ~2,000 domains through verifyLead,
 * SMTP probe off, DNS from a real dnsmasq on loopback, answers cached in the stack's Redis and the
 * in-process LRU. The cache is warmed with one lead per domain, the JIT with one untimed pass; then three
 * timed runs, reported as their median. A second figure clears the in-process level before each run (Redis-only warm cache,
 * as a freshly started instance sees it). Writes .bench/verify.json.
 *
 *   npm run bench:verify [-- --leads 100000 --domains 2000 --concurrency 256]
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { StandardizedLead } from '../schemas/generated.ts';
import { loadConfig, REPO_ROOT } from '../services/lib/config.ts';
import { VerifyConfig } from '../services/verify/config.ts';
import { createVerifyContext, type VerifyContext } from '../services/verify/context.ts';
import { verifyLead } from '../services/verify/phase.ts';
import { type DnsZone, startDnsServer } from '../test/support/dns-server.ts';
import { enrichedLead } from './lib/dedup-dataset.ts';

const { values: args } = parseArgs({
  options: {
    leads: { type: 'string', default: '100000' },
    domains: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '256' },
    runs: { type: 'string', default: '3' },
  },
});
const LEADS = Number(args.leads);
const DOMAINS = Number(args.domains);
const CONCURRENCY = Number(args.concurrency);
const RUNS = Number(args.runs);

/** The domain mix of a real upload: mostly companies with MX, a few without MX, gone, or null MX. */
function zone(): { zone: DnsZone; domains: string[] } {
  const z: Required<Pick<DnsZone, 'mx' | 'a' | 'nullMx'>> & DnsZone = {
    zone: 'test',
    ttlS: 3_600,
    mx: [],
    a: [],
    nullMx: [],
  };
  const domains: string[] = [];
  for (let i = 0; i < DOMAINS; i++) {
    const d = `company-${i}.test`;
    domains.push(d);
    const kind = i % 100;
    if (kind < 88) {
      z.mx.push(
        { domain: d, host: `mx1.${d}`, preference: 10 },
        { domain: d, host: `mx2.${d}`, preference: 20 },
      );
    } else if (kind < 94) z.a.push({ name: d, address: `127.1.${(i >> 8) & 255}.${i & 255}` });
    else if (kind < 97) z.nullMx.push(d);
    // the rest: NXDOMAIN
  }
  return { zone: z, domains };
}

const FIRST = ['james', 'maria', 'wei', 'fatima', 'olga', 'juan', 'aiko', 'lars', 'priya', 'chidi'];
const LAST = ['smith', 'garcia', 'chen', 'khan', 'ivanova', 'lopez', 'sato', 'berg', 'sharma', 'okafor'];
/** Valid number blocks (prefix, subscriber digits) of twelve countries; each lead gets its own number. */
const PHONE_BLOCKS: [string, number][] = [
  ['+1202456', 4],
  ['+44791234', 4],
  ['+49151123', 5],
  ['+331429', 5],
  ['+346123', 5],
  ['+39021234', 4],
  ['+316123', 5],
  ['+9198123', 5],
  ['+614123', 5],
  ['+55119876', 5],
  ['+8190123', 5],
  ['+5255123', 5],
];
const phoneOf = (i: number) => {
  const [prefix, digits] = PHONE_BLOCKS[i % PHONE_BLOCKS.length] as [string, number];
  return prefix + String(Math.floor(i / PHONE_BLOCKS.length) % 10 ** digits).padStart(digits, '0');
};

/** Out of 50 leads: one without email, one malformed, one disposable, two role accounts. */
function emailOf(k: number, person: string, domain: string, i: number): string | null {
  if (k === 0) return null;
  if (k === 1) return `${person}@@${domain}`;
  if (k === 2) return `${person}@mailinator.com`;
  if (k < 5) return `info@${domain}`;
  return `${person}${i % 7}@${domain}`;
}

/** Deterministic leads: most personal addresses, some role, disposable, malformed, no email/phone. */
function makeLeads(domains: string[]): StandardizedLead[] {
  const leads: StandardizedLead[] = [];
  for (let i = 0; i < LEADS; i++) {
    const domain = domains[(i * 7919) % domains.length] as string;
    const first = FIRST[i % FIRST.length] as string;
    const last = LAST[(i >> 3) % LAST.length] as string;
    const k = i % 50;
    const email = emailOf(k, `${first}.${last}`, domain, i);
    const phone = k % 10 === 9 ? null : phoneOf(i);
    const { meta, lead } = enrichedLead({
      lead_id: `bench:${i}`,
      account_id: 'acct_bench',
      batch_id: 'bench',
      row_index: i,
      lead: {
        email,
        email_display: email,
        first_name: first,
        last_name: last,
        full_name: `${first} ${last}`,
        domain,
        phone_e164: phone,
        phone_raw: phone,
      },
    });
    leads.push({ meta, lead });
  }
  return leads;
}

/** Like the runtime: up to CONCURRENCY leads in flight. Returns leads per second. */
async function run(ctx: VerifyContext, leads: StandardizedLead[]): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < leads.length) {
      const r = await verifyLead(leads[next++] as StandardizedLead, ctx);
      if (r.kind !== 'ok') throw new Error(`verifyLead returned ${r.kind}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return leads.length / ((performance.now() - started) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const { zone: z, domains } = zone();
  const dns = await startDnsServer(z);
  const keyPrefix = `bench:verify:${randomUUID()}:`;
  const settings = loadConfig(VerifyConfig, {
    ...process.env,
    DNS_SERVERS: dns.address,
    SMTP_PROBE_ENABLED: 'false',
  });
  const redis = new Redis(settings.REDIS_URL);
  try {
    const ctx = createVerifyContext(settings, redis, { keyPrefix });
    const leads = makeLeads(domains);

    const warmStarted = performance.now();
    await run(
      ctx,
      domains.map((d, i) => ({
        ...(leads[i] as StandardizedLead),
        lead: { ...(leads[i] as StandardizedLead).lead, email: `warm@${d}` },
      })),
    );
    const warmMs = performance.now() - warmStarted;
    const dnsQueries = await dns.queries();
    // One untimed pass so the timed runs measure optimised code, not the JIT warming up.
    await run(ctx, leads);

    const warm: number[] = [];
    for (let i = 0; i < RUNS; i++) warm.push(await run(ctx, leads));
    const redisOnly: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      ctx.cache.clearLocal();
      redisOnly.push(await run(ctx, leads));
    }
    const queriesDuringRuns = (await dns.queries()) - dnsQueries;

    const report = {
      bench: 'verify',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      leads: LEADS,
      domains: DOMAINS,
      concurrency: CONCURRENCY,
      smtp_probe: false,
      warmup: { leads: domains.length, ms: Math.round(warmMs), dns_queries: dnsQueries },
      warm_cache_leads_per_s: { runs: warm.map(Math.round), median: Math.round(median(warm)) },
      redis_only_leads_per_s: { runs: redisOnly.map(Math.round), median: Math.round(median(redisOnly)) },
      dns_queries_during_timed_runs: queriesDuringRuns,
      cache_stats: ctx.cache.stats,
    };
    mkdirSync(join(REPO_ROOT, '.bench'), { recursive: true });
    writeFileSync(join(REPO_ROOT, '.bench', 'verify.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await deleteKeys(redis, keyPrefix);
    redis.disconnect();
    await dns.stop();
  }
}

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

await main();
