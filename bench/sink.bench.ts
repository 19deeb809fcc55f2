/**
 * npm run bench:sink — throughput of the sink on the local stack: a file batch of 100,000 rows (90 %
 * scored leads over the four statuses, 10 % rejections) already on leads.scored / leads.failed; the sink
 * starts and the clock stops when the batch is completed and announced (rows in ClickHouse, counted in
 * Redis, lead.qualified and batch.completed on webhooks.outbox, offsets committed on the way). Each run
 * is a new batch; prints rows/s (median of the runs) and rows per flush, and writes .bench/sink.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { BatchTracker } from '../services/lib/batch-tracker.ts';
import { REPO_ROOT } from '../services/lib/config.ts';
import { TOPICS } from '../services/lib/names.ts';
import { createRedis, keyspace } from '../services/lib/redis.ts';
import { SinkConfig } from '../services/sink/config.ts';
import { startSink } from '../services/sink/service.ts';
import { waitFor } from '../test/fixtures/runtime/harness.ts';
import { fileRows, sinkKafka } from '../test/fixtures/sink/records.ts';
import { cleanupIsolated, isolatedConfig } from '../test/support/isolated.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function metricSum(registry: Registry, name: string): Promise<{ sum: number; count: number }> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const values = (m?.values ?? []) as { metricName?: string; value: number }[];
  const pick = (suffix: string) => values.find((v) => v.metricName === `${name}${suffix}`)?.value ?? 0;
  return { sum: pick('_sum'), count: pick('_count') };
}

/** Seconds spent in each flush step over the run (sink_step_seconds sums). */
async function stepSeconds(registry: Registry): Promise<Record<string, number>> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'leedrush_sink_step_seconds');
  const values = (m?.values ?? []) as {
    metricName?: string;
    labels: Record<string, string | number>;
    value: number;
  }[];
  return Object.fromEntries(
    values
      .filter((v) => v.metricName === 'leedrush_sink_step_seconds_sum')
      .map((v) => [String(v.labels.step), Math.round(v.value * 100) / 100]),
  );
}

async function main(): Promise<void> {
  const config = await isolatedConfig('sinkbench', SinkConfig, { ...process.env, LOG_LEVEL: 'warn' });
  const redis = createRedis(config.REDIS_URL, 'bench-sink');
  const tracker = new BatchTracker(redis, keyspace(config.LEEDRUSH_PREFIX));
  const kafka = await sinkKafka(config);
  const runs: {
    rowsPerSecond: number;
    seconds: number;
    flushes: number;
    rowsPerFlush: number;
    stepSeconds: Record<string, number>;
  }[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      const batch = await tracker.create(
        {
          account_id: 'acc_bench',
          filename: 'bench.csv',
          file_path: '/uploads/bench.csv',
          source: 'csv',
          rows_total: ROWS,
        },
        null,
      );
      if (!batch) throw new Error('batch not created');
      const { leads, rejections } = fileRows('acc_bench', batch.batch_id, ROWS);
      const p0 = performance.now();
      await kafka.produce(
        TOPICS.scored,
        'ScoredLead',
        leads.map((l) => ({ key: l.meta.lead_id, value: l })),
      );
      await kafka.produce(
        TOPICS.failed,
        'LeadRejection',
        rejections.map((r) => ({ key: r.lead_id, value: r })),
      );
      const produceSeconds = (performance.now() - p0) / 1000;

      const registry = new Registry();
      const sink = await startSink(config, { handleSignals: false, registry });
      await sink.service.ready;
      const t0 = performance.now();
      await waitFor(
        'the batch announced',
        // A slow answer under load is a "not yet", not the end of the run.
        async () => (await tracker.getAny(batch.batch_id).catch(() => null))?.announced_at != null,
        600_000,
        20,
      );
      const seconds = (performance.now() - t0) / 1000;
      const flush = await metricSum(registry, 'leedrush_sink_flush_rows');
      const steps = await stepSeconds(registry);
      await sink.close();
      const result = {
        rowsPerSecond: Math.round(ROWS / seconds),
        seconds: Math.round(seconds * 100) / 100,
        flushes: flush.count,
        rowsPerFlush: Math.round(flush.sum / Math.max(1, flush.count)),
        stepSeconds: steps,
      };
      runs.push(result);
      console.log(
        `run ${run}: ${ROWS} rows in ${result.seconds} s = ${result.rowsPerSecond} rows/s; ` +
          `${result.flushes} flushes of ${result.rowsPerFlush} rows on average (produced in ${produceSeconds.toFixed(1)} s)`,
      );
      console.log(`  flush steps (s): ${JSON.stringify(steps)}`);
    }
    const summary = {
      rows: ROWS,
      runs,
      medianRowsPerSecond: median(runs.map((r) => r.rowsPerSecond)),
      machine: { cpus: cpus().length, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) },
      at: new Date().toISOString(),
    };
    console.log(
      `median: ${summary.medianRowsPerSecond} rows/s (load average ${summary.machine.loadavg.join(' ')})`,
    );
    mkdirSync(join(REPO_ROOT, '.bench'), { recursive: true });
    writeFileSync(join(REPO_ROOT, '.bench', 'sink.json'), `${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    await kafka.close();
    redis.disconnect();
    await cleanupIsolated(config);
  }
}

await main();
