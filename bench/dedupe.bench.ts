/**
 * The dedupe service alone, through Kafka: a generated file batch of known duplicate clusters
 * (bench/lib/dedup-dataset.ts) is written to leads.enriched first, then services/dedupe/main.ts is
 * started as a child process on an isolated prefix and consumes it at full speed. Prints, per run:
 * consumption (leads/s until every lead was taken in), finalize (last lead taken in → first and → last
 * DedupedLead on leads.deduped, → the batch closed, i.e. the service's 'batch deduplicated' line with
 * its own figures), its peak RSS (VmHWM) and peak V8 heap in use, with the load average. Writes .bench/dedupe.json.
 *
 *   flock /tmp/bench.lock npm run bench:dedupe                 # 100,000 leads, one run
 *   flock /tmp/bench.lock npm run bench:dedupe -- --leads 20000 --runs 3
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import type { DedupedLead } from '../schemas/generated.ts';
import { DedupeConfig, type DedupeEnv } from '../services/dedupe/config.ts';
import { BatchTracker } from '../services/lib/batch-tracker.ts';
import { REPO_ROOT } from '../services/lib/config.ts';
import { TOPICS, topicName } from '../services/lib/names.ts';
import { RecordPublisher } from '../services/lib/publisher.ts';
import { createRedis, keyspace } from '../services/lib/redis.ts';
import { AvroCodec, registrySchemaSource } from '../services/runtime/index.ts';
import { cleanupIsolated, isolatedConfig } from '../test/support/isolated.ts';
import { type RunningService, serviceEnv, startService } from '../test/support/services.ts';
import { generateDedupDataset } from './lib/dedup-dataset.ts';

const { values: args } = parseArgs({
  options: {
    leads: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '1' },
    seed: { type: 'string', default: '2' },
  },
});
const N = Number(args.leads);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

function peakRssMb(service: RunningService): number {
  if (service.proc.exitCode !== null || service.proc.signalCode !== null) {
    throw new Error(
      `dedupe exited (${service.proc.exitCode ?? service.proc.signalCode}):\n${service.output().slice(-3000)}`,
    );
  }
  const status = readFileSync(`/proc/${service.proc.pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
}

interface RunFigures {
  leads: number;
  consume_s: number;
  consume_leads_per_s: number;
  finalize_first_out_s: number;
  finalize_last_out_s: number;
  /** Last lead taken in → the batch closed (history updated, done marker): the service's log line. */
  closed_s: number;
  service_log: Record<string, unknown> | null;
  outputs: number;
  duplicates: number;
  peak_rss_mb: number;
  /** Highest V8 heap in use seen on /metrics (sampled every 50 ms). */
  peak_heap_used_mb: number;
  peak_heap_taking_in_mb: number;
  load_start: string;
  load_end: string;
}

async function oneRun(config: DedupeEnv, run: number): Promise<RunFigures> {
  const redis = createRedis(config.REDIS_URL, 'bench-dedupe');
  const ns = keyspace(config.LEEDRUSH_PREFIX);
  const tracker = new BatchTracker(redis, ns);
  const account = `acct_bench_${run}`;
  const batch = await tracker.create(
    { account_id: account, filename: 'bench.csv', file_path: '', source: 'upload', rows_total: N },
    null,
  );
  if (!batch) throw new Error('batch not created');
  const { leads } = generateDedupDataset({
    leads: N,
    seed: Number(args.seed),
    batchId: batch.batch_id,
    accountId: account,
  });
  const publisher = await RecordPublisher.connect(config, 'bench-dedupe');
  for (let i = 0; i < leads.length; i += 250)
    await publisher.publish(TOPICS.enriched, 'EnrichedLead', account, leads.slice(i, i + 250));
  await publisher.disconnect();
  leads.length = 0;

  const out = new Map<string, boolean>();
  let firstOut = 0;
  let lastOut = 0;
  const kafka = new Kafka({
    clientId: 'bench-dedupe',
    brokers: config.KAFKA_BROKERS,
    logLevel: logLevel.ERROR,
  });
  const decoder = new AvroCodec(registrySchemaSource(config.SCHEMA_REGISTRY_URL)).decoderFor<DedupedLead>(
    'DedupedLead',
  );
  const reader = kafka.consumer({ groupId: `${config.LEEDRUSH_PREFIX}.bench.${run}`, maxWaitTimeInMs: 100 });
  await reader.connect();
  await reader.subscribe({ topic: topicName(config.LEEDRUSH_PREFIX, TOPICS.deduped), fromBeginning: true });
  await reader.run({
    eachBatch: async ({ batch: b }) => {
      await decoder.prepare(b.messages.map((m) => m.value));
      for (const m of b.messages) {
        const d = decoder.decode(m.value);
        if (!d.ok || d.value.meta.batch_id !== batch.batch_id) continue;
        out.set(d.value.meta.lead_id, d.value.dedup.is_duplicate);
        lastOut = performance.now();
        firstOut ||= lastOut;
      }
    },
  });

  const loadStart = load();
  const service = await startService(
    'dedupe',
    serviceEnv(config, { LOG_LEVEL: 'info', NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? '' }),
  );
  const t0 = performance.now();
  // "Taken in" = stored in the batch's open hash (a hash gone after holding leads: finalized already).
  const openKey = ns('dedupe-open', batch.batch_id);
  let seen = 0;
  let allTakenIn = 0;
  let peak = 0;
  let peakHeap = 0;
  // Heap in use while leads are taken in, and its highest value after (resolution, emission, history).
  let heapTakingIn = 0;
  while (out.size < N) {
    peak = Math.max(peak, peakRssMb(service));
    const heap = await heapUsedMb(service.port);
    peakHeap = Math.max(peakHeap, heap);
    if (!allTakenIn) heapTakingIn = Math.max(heapTakingIn, heap);
    if (!allTakenIn) {
      const stored = await redis.hlen(openKey);
      if (stored >= N || (seen > 0 && stored === 0)) allTakenIn = performance.now();
      seen = Math.max(seen, stored);
    }
    if (performance.now() - t0 > 900_000)
      throw new Error(`timed out; ${out.size}/${N} out\n${service.output()}`);
    await sleep(50);
  }
  // The batch is closed (history updated, done marker set) when the service logs it.
  const closedLine = () =>
    service
      .output()
      .split('\n')
      .find((l) => l.includes('batch deduplicated'));
  while (!closedLine() && performance.now() - lastOut < 120_000) {
    peak = Math.max(peak, peakRssMb(service));
    peakHeap = Math.max(peakHeap, await heapUsedMb(service.port));
    await sleep(50);
  }
  const closedAt = performance.now();
  peak = Math.max(peak, peakRssMb(service));
  const logLine = closedLine();
  await service.stop();
  await reader.disconnect();
  redis.disconnect();
  allTakenIn ||= firstOut;
  return {
    leads: N,
    consume_s: (allTakenIn - t0) / 1000,
    consume_leads_per_s: Math.round(N / ((allTakenIn - t0) / 1000)),
    finalize_first_out_s: (firstOut - allTakenIn) / 1000,
    finalize_last_out_s: (lastOut - allTakenIn) / 1000,
    closed_s: (closedAt - allTakenIn) / 1000,
    service_log: logLine ? (JSON.parse(logLine) as Record<string, unknown>) : null,
    outputs: out.size,
    duplicates: [...out.values()].filter(Boolean).length,
    peak_rss_mb: peak,
    peak_heap_used_mb: peakHeap,
    peak_heap_taking_in_mb: heapTakingIn,
    load_start: loadStart,
    load_end: load(),
  };
}

/** nodejs_heap_size_used_bytes from the service's /metrics, in MiB (0 while it does not answer). */
async function heapUsedMb(port: number): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(1_000) });
    const m = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)$/m.exec(await res.text());
    return Math.round(Number(m?.[1] ?? 0) / 1024 / 1024);
  } catch {
    return 0;
  }
}

const config = await isolatedConfig('bench_dedupe', DedupeConfig);
const runs: RunFigures[] = [];
try {
  for (let r = 0; r < Number(args.runs); r++) {
    const f = await oneRun(config, r);
    runs.push(f);
    console.log(
      `run ${r + 1}: ${f.leads} leads; consume ${f.consume_s.toFixed(1)} s = ${f.consume_leads_per_s} leads/s; ` +
        `finalize → first out ${f.finalize_first_out_s.toFixed(2)} s, → last out ${f.finalize_last_out_s.toFixed(2)} s, ` +
        `→ closed ${f.closed_s.toFixed(2)} s; ${f.duplicates} duplicates; peak RSS ${f.peak_rss_mb} MiB, ` +
        `peak heap used ${f.peak_heap_used_mb} MiB (${f.peak_heap_taking_in_mb} MiB while taking leads in); load ${f.load_start} → ${f.load_end}`,
    );
    if (f.service_log) console.log(`  service: ${JSON.stringify(f.service_log)}`);
  }
} finally {
  await cleanupIsolated(config);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const summary = {
  leads: N,
  runs: runs.length,
  median_consume_leads_per_s: median(runs.map((r) => r.consume_leads_per_s)),
  median_finalize_first_out_s: median(runs.map((r) => r.finalize_first_out_s)),
  median_finalize_last_out_s: median(runs.map((r) => r.finalize_last_out_s)),
  median_closed_s: median(runs.map((r) => r.closed_s)),
  median_peak_rss_mb: median(runs.map((r) => r.peak_rss_mb)),
  median_peak_heap_used_mb: median(runs.map((r) => r.peak_heap_used_mb)),
};
console.log(`median of ${runs.length}: ${JSON.stringify(summary)}`);
const dir = join(REPO_ROOT, '.bench');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'dedupe.json'), `${JSON.stringify({ summary, runs }, null, 2)}\n`);
console.log(`wrote ${join(dir, 'dedupe.json')}`);
process.exit(0);
