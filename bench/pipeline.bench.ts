/**
 * `npm run bench`: the whole pipeline as deployed, from upload to completed. A generated messy export
 * (100,000 rows by default: broken rows, exact copies, unreachable contacts, one unreadable record) is
 * stored and submitted as the gateway does; ingest, standardize, verify, enrich, dedupe, score and sink
 * run as child processes on an isolated prefix of the local stack, DNS from test/support/indexed-dns.ts
 * on loopback (dnsmasq's answers at a cost per query that does not grow with the zone), the
 * sandbox providers on a port of their own (opted into: ENRICH_SANDBOX). Prints leads/s, when each phase started and finished, its
 * busy time (sum of its batch times), the peak consumer lag of its group, and its peak RSS; writes
 * .bench/pipeline.json.
 *
 *   npm run bench [-- --rows 100000] [-- --profile-dir DIR]
 *
 * CPU seconds are counted for every process on the machine (from /proc), services by name, the rest by
 * command (the broker, ClickHouse, Redis, other agents' work), so a figure says whether the run was short
 * of CPU and who used it. `--profile-dir` makes each service write a V8 CPU profile there when it stops.
 *
 * Consumer lag is read from the brokers every second (log end minus committed offset, the runtime's
 * own definition): the services' leedrush_runtime_consumer_lag gauge refreshes only every 15 s.
 * Each service's log (warnings and errors) is written to .bench/logs/<service>.log, also after a failed run.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Redis } from 'ioredis';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { type Config, REPO_ROOT } from '../services/lib/config.ts';
import { groupId, topicName } from '../services/lib/names.ts';
import {
  messyLeadCsv,
  PIPELINE_SERVICES,
  type PipelineService,
  type RunningPipeline,
  startPipelineRun,
  submitUpload,
  waitForAnnounced,
} from '../test/support/pipeline.ts';
import { PHASE_CHAIN } from '../topology/topics.ts';

// The publisher's producer keeps kafkajs's default partitioner on purpose; its notice is noise here.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    'timeout-min': { type: 'string', default: '30' },
    'profile-dir': { type: 'string' },
  },
});
const ROWS = Number(args.rows);
const TIMEOUT_MS = Number(args['timeout-min']) * 60_000;
const ACCOUNT = 'acct_bench_pipeline';

interface PhaseFigures {
  /** Seconds after the upload was submitted. */
  first_consumed_s: number | null;
  last_consumed_s: number | null;
  consumed: number;
  busy_s: number;
  peak_lag: number;
  peak_rss_mb: number;
  cpu_s: number;
}

/** Clock ticks of user + system time per process, and of the whole machine (every core, idle included). */
interface CpuSnapshot {
  procs: Map<number, { comm: string; ticks: number }>;
  machineTicks: number;
  idleTicks: number;
}

const TICKS_PER_S = 100;

function cpuSnapshot(): CpuSnapshot {
  const procs = new Map<number, { comm: string; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // comm is in parentheses and may hold spaces; the fields after it are space-separated.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    procs.set(Number(entry), { comm, ticks: Number(fields[11]) + Number(fields[12]) });
  }
  const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
  const sum = cpu.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return { procs, machineTicks: sum, idleTicks: (cpu[3] ?? 0) + (cpu[4] ?? 0) };
}

/** CPU seconds each process used between two snapshots (processes that exited meanwhile are missed). */
function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): Map<number, { comm: string; seconds: number }> {
  const used = new Map<number, { comm: string; seconds: number }>();
  for (const [pid, end] of b.procs) {
    const start = a.procs.get(pid)?.ticks ?? 0;
    if (end.ticks > start) used.set(pid, { comm: end.comm, seconds: (end.ticks - start) / TICKS_PER_S });
  }
  return used;
}

/** Sums of each metric's samples over its labels, from a Prometheus text exposition. */
async function scrape(port: number): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2_000) });
  const sums = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (m?.[1] && m[2]) sums.set(m[1], (sums.get(m[1]) ?? 0) + Number(m[2]));
  }
  return sums;
}

/** Peak resident set of a process (VmHWM), in MiB. */
function peakRssMb(pid: number | undefined): number {
  const status = pid ? readFileSync(`/proc/${pid}/status`, 'utf8') : '';
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** Unconsumed messages of a phase's group over its input topics. */
async function groupLag(admin: Admin, config: Config, phase: PipelineService): Promise<number> {
  const spec = PHASE_CHAIN.find((p) => p.name === phase);
  const topics = (spec?.inputs ?? []).map((t) => topicName(config.LEEDRUSH_PREFIX, t));
  const committed = await admin.fetchOffsets({ groupId: groupId(config.LEEDRUSH_PREFIX, phase), topics });
  let lag = 0;
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const end of ends) {
      const at = Number(mine.find((p) => p.partition === end.partition)?.offset ?? -1);
      lag += Number(end.high) - (at >= 0 ? at : Number(end.low));
    }
  }
  return lag;
}

/** Memory Redis uses now (used_memory), in MiB. */
async function redisUsedMb(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Math.round(Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0) / 1048576);
}

/** Samples every service (and Redis's memory) once a second until stopped. */
function sampler(pipeline: RunningPipeline, redis: Redis, admin: Admin, config: Config, t0: number) {
  const redisMb = { now: 0, peak: 0 };
  const figures = Object.fromEntries(
    PIPELINE_SERVICES.map((s) => [
      s,
      {
        first_consumed_s: null,
        last_consumed_s: null,
        consumed: 0,
        busy_s: 0,
        peak_lag: 0,
        peak_rss_mb: 0,
        cpu_s: 0,
      } as PhaseFigures,
    ]),
  ) as Record<PipelineService, PhaseFigures>;
  const sampleOnce = async () => {
    const at = (performance.now() - t0) / 1000;
    const sampleRedis = async () => {
      redisMb.now = await redisUsedMb(redis).catch(() => redisMb.now);
      redisMb.peak = Math.max(redisMb.peak, redisMb.now);
    };
    await Promise.all([
      sampleRedis(),
      ...PIPELINE_SERVICES.map(async (name) => {
        const f = figures[name];
        const metrics = await scrape(pipeline.get(name).port).catch(() => null);
        const consumed = metrics?.get('leedrush_runtime_consumed_total') ?? f.consumed;
        if (consumed > f.consumed) {
          f.first_consumed_s ??= at;
          f.last_consumed_s = at;
          f.consumed = consumed;
        }
        f.busy_s = metrics?.get('leedrush_runtime_batch_seconds_sum') ?? f.busy_s;
        const lag = await groupLag(admin, config, name).catch(() => 0);
        f.peak_lag = Math.max(f.peak_lag, lag);
      }),
    ]);
  };
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await sampleOnce();
      await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - (performance.now() - started))));
    }
  })();
  return {
    figures,
    redisMb,
    stop: async () => {
      running = false;
      await loop;
      await sampleOnce();
      for (const name of PIPELINE_SERVICES)
        figures[name].peak_rss_mb = peakRssMb(pipeline.get(name).proc.pid);
      return figures;
    },
  };
}

async function main(): Promise<void> {
  const bytes = messyLeadCsv(ROWS);
  console.log(`starting ${PIPELINE_SERVICES.length} services on an isolated prefix ...`);
  const profileDir = args['profile-dir'] ? resolve(args['profile-dir']) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const profiling = profileDir
    ? {
        NODE_OPTIONS: `--import tsx --import ${join(REPO_ROOT, 'bench', 'lib', 'cpu-profile.ts')}`,
        LEEDRUSH_CPU_PROFILE_DIR: profileDir,
      }
    : undefined;
  // serviceEnv gives the default plan PLENTY_OF_CREDITS: standardize meters every lead, never pauses here.
  // The bench's figures (outcome counts included) are those of the sandbox providers: opted into here.
  const run = await startPipelineRun('bench_pipeline', bytes, {
    providers: 'sandbox',
    dns: 'indexed',
    extra: profiling && Object.fromEntries(PIPELINE_SERVICES.map((s) => [s, profiling])),
  });
  const { config, pipeline, tracker, uploadDir, redis } = run;
  const kafka = new Kafka({
    clientId: 'bench-pipeline',
    brokers: config.KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const loadAtStart = loadavg().map(round);
    console.log(`submitting ${ROWS} rows (${(bytes.length / 1e6).toFixed(1)} MB) ...`);
    const cpuAtStart = cpuSnapshot();
    const t0 = performance.now();
    const samples = sampler(pipeline, redis, admin, config, t0);
    const { batch: created } = await submitUpload(config, tracker, {
      uploadDir,
      accountId: ACCOUNT,
      filename: 'bench.csv',
      bytes,
    });
    let lastPrint = 0;
    const batch = await waitForAnnounced(tracker, ACCOUNT, created.batch_id, TIMEOUT_MS, (b) => {
      if (b && performance.now() - lastPrint > 10_000) {
        lastPrint = performance.now();
        // Where the leads are: a long run that stalls shows the phase it stalls in, and whether Redis fills.
        const consumed = PIPELINE_SERVICES.map((s) => `${s} ${samples.figures[s].consumed}`).join(', ');
        console.log(
          `  ${((lastPrint - t0) / 1000).toFixed(0)} s: ${b.status}, ${b.rows_done}/${b.rows_total} rows done; consumed: ${consumed}; redis ${samples.redisMb.now} MiB`,
        );
      }
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpuAtEnd = cpuSnapshot();
    const figures = await samples.stop();
    const cpu = cpuFigures(cpuAtStart, cpuAtEnd, pipeline);
    for (const name of PIPELINE_SERVICES) figures[name].cpu_s = cpu.services[name] ?? 0;
    if (batch.status !== 'completed') throw new Error(`batch ended ${batch.status}: ${batch.error_reason}`);

    const result = {
      rows: batch.rows_total,
      seconds: round(seconds),
      leads_per_s: Math.round(batch.rows_total / seconds),
      outcome: {
        qualified: batch.rows_qualified,
        rejected: batch.rows_rejected,
        invalid: batch.rows_invalid,
        duplicate: batch.rows_duplicate,
        errored: batch.rows_errored,
      },
      phases: Object.fromEntries(
        PIPELINE_SERVICES.map((s) => {
          const f = figures[s];
          return [
            s,
            {
              ...f,
              first_consumed_s: f.first_consumed_s === null ? null : round(f.first_consumed_s),
              last_consumed_s: f.last_consumed_s === null ? null : round(f.last_consumed_s),
              busy_s: round(f.busy_s),
            },
          ];
        }),
      ),
      cpu: { machine_busy_pct: cpu.busyPct, others_s: cpu.others },
      redis_peak_mb: samples.redisMb.peak,
      load_avg: { at_start: loadAtStart, at_end: loadavg().map(round) },
      machine: { cpus: cpus().length, node: process.version },
      at: new Date().toISOString(),
    };
    print(result);
    if (profileDir) console.log(`CPU profiles are written to ${profileDir} as the services stop`);
    mkdirSync(join(REPO_ROOT, '.bench'), { recursive: true });
    writeFileSync(join(REPO_ROOT, '.bench', 'pipeline.json'), `${JSON.stringify(result, null, 2)}\n`);
    console.log('written .bench/pipeline.json');
  } finally {
    await admin.disconnect();
    await run.close();
    // What each service logged (LOG_LEVEL warn): where a slow or stalled run says why.
    const logDir = join(REPO_ROOT, '.bench', 'logs');
    mkdirSync(logDir, { recursive: true });
    for (const name of PIPELINE_SERVICES)
      writeFileSync(join(logDir, `${name}.log`), pipeline.get(name).output());
    console.log(`service logs are in ${logDir}`);
  }
}

const round = (x: number) => Math.round(x * 10) / 10;

/**
 * CPU seconds of each service over the run, the machine's busy share, and the other processes that used
 * most (by command: this bench process serves the sandbox providers; java = the broker and registry).
 */
function cpuFigures(a: CpuSnapshot, b: CpuSnapshot, pipeline: RunningPipeline) {
  const used = cpuBetween(a, b);
  const services: Partial<Record<PipelineService, number>> = {};
  for (const name of PIPELINE_SERVICES) {
    const pid = pipeline.get(name).proc.pid;
    services[name] = round(pid ? (used.get(pid)?.seconds ?? 0) : 0);
    if (pid) used.delete(pid);
  }
  const byCommand = new Map<string, number>();
  for (const [pid, { comm, seconds }] of used) {
    const label = pid === process.pid ? 'bench+sandbox' : comm;
    byCommand.set(label, (byCommand.get(label) ?? 0) + seconds);
  }
  const others = Object.fromEntries(
    [...byCommand]
      .sort((x, y) => y[1] - x[1])
      .slice(0, 8)
      .map(([k, v]) => [k, round(v)]),
  );
  const total = b.machineTicks - a.machineTicks;
  const busyPct = total > 0 ? round((100 * (total - (b.idleTicks - a.idleTicks))) / total) : 0;
  return { services, others, busyPct };
}

function print(r: {
  rows: number;
  seconds: number;
  leads_per_s: number;
  outcome: Record<string, number>;
  phases: Record<string, PhaseFigures>;
  cpu: { machine_busy_pct: number; others_s: Record<string, number> };
  redis_peak_mb: number;
  load_avg: { at_start: number[]; at_end: number[] };
}): void {
  console.log(`\n${r.rows} rows from upload to completed in ${r.seconds} s: ${r.leads_per_s} leads/s`);
  console.log(
    `outcome: ${Object.entries(r.outcome)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}\n`,
  );
  const head = ['phase', 'consumed', 'first s', 'last s', 'busy s', 'CPU s', 'peak lag', 'peak RSS MiB'];
  const rows = Object.entries(r.phases).map(([name, f]) => [
    name,
    String(f.consumed),
    String(f.first_consumed_s ?? '-'),
    String(f.last_consumed_s ?? '-'),
    String(f.busy_s),
    String(f.cpu_s),
    String(f.peak_lag),
    String(f.peak_rss_mb),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  for (const row of [head, ...rows]) console.log(row.map((c, i) => c.padStart(widths[i] ?? 0)).join('  '));
  console.log(
    `\nmachine CPU busy ${r.cpu.machine_busy_pct} % over the run; other processes (CPU s): ${Object.entries(
      r.cpu.others_s,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  console.log(`Redis used memory peaked at ${r.redis_peak_mb} MiB (sampled every second)`);
  console.log(
    `load average at start ${r.load_avg.at_start.join(' ')}, at end ${r.load_avg.at_end.join(' ')}`,
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
