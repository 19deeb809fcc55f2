/**
 * Parse throughput and memory of the upload reader on a 1,000,000-row messy lead CSV (~150 MB).
 *
 *   npm run bench:parse [-- --rows N --runs K]
 *
 * Each run is a fresh process (so its peak RSS is its own) that streams the file from disk through
 * openUpload exactly as ingest does and checks that every generated row came out as a row or a
 * rejection. Prints the median of the runs and writes .bench/parse.json.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openUpload } from '../services/ingest/reader/index.ts';
import { REPO_ROOT } from '../services/lib/config.ts';
import { UPLOAD_READ_CHUNK } from '../services/lib/upload-store.ts';
import { writeLeadCsv } from './lib/generate-leads.ts';

export interface ParseRun {
  rows: number;
  rejections: number;
  seconds: number;
  /** User + system CPU time of the run: on a shared machine, wall time also measures the neighbours. */
  cpu_seconds: number;
  rows_per_s: number;
  rows_per_cpu_s: number;
  mb_per_s: number;
  /** Peak resident set of the run's process, MiB (VmHWM). */
  peak_rss_mb: number;
  /** Resident set after start-up, before reading: what the reading itself adds is the difference. */
  baseline_rss_mb: number;
}

const BENCH_DIR = join(REPO_ROOT, '.bench');
const SEED = 20260319;

const mib = (bytes: number) => bytes / (1 << 20);

function peakRssMb(): number {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return hwm ? Number(hwm[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

/** One run in this process: the file from disk through the reader, counting what comes out. */
async function runOnce(path: string, expectedRows: number): Promise<ParseRun> {
  const baseline = process.memoryUsage().rss;
  const size = statSync(path).size;
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const upload = await openUpload(createReadStream(path, { highWaterMark: UPLOAD_READ_CHUNK }), {
    filename: 'leads.csv',
  });
  let rows = 0;
  let rejections = 0;
  for await (const item of upload.items) {
    if (item.kind === 'row') rows++;
    else rejections++;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  if (rows + rejections !== expectedRows) {
    throw new Error(`read ${rows} rows + ${rejections} rejections, expected ${expectedRows} data rows`);
  }
  return {
    rows,
    rejections,
    seconds,
    cpu_seconds: cpuSeconds,
    rows_per_s: expectedRows / seconds,
    rows_per_cpu_s: expectedRows / cpuSeconds,
    mb_per_s: mib(size) / seconds,
    peak_rss_mb: peakRssMb(),
    baseline_rss_mb: mib(baseline),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

export async function runParseBench(rows = 1_000_000, runs = 3) {
  mkdirSync(BENCH_DIR, { recursive: true });
  const path = join(BENCH_DIR, `leads-${rows}-${SEED}.csv`);
  if (!existsSync(path)) {
    const t = Date.now();
    const bytes = await writeLeadCsv(path, { rows, seed: SEED });
    console.log(
      `generated ${path}: ${mib(bytes).toFixed(1)} MiB in ${((Date.now() - t) / 1000).toFixed(1)} s`,
    );
  }
  const results: ParseRun[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(
      process.execPath,
      [...process.execArgv, import.meta.filename, '--child', path, '--rows', String(rows)],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    const run = JSON.parse(out.trim().split('\n').at(-1) as string) as ParseRun;
    console.log(
      `run ${i + 1}: ${Math.round(run.rows_per_s)} rows/s (${Math.round(run.rows_per_cpu_s)} per CPU-second), ` +
        `${run.mb_per_s.toFixed(1)} MB/s, ` +
        `peak RSS ${run.peak_rss_mb.toFixed(0)} MiB (baseline ${run.baseline_rss_mb.toFixed(0)} MiB), ` +
        `${run.rejections} rejections`,
    );
    results.push(run);
  }
  const summary = {
    file: path,
    file_mb: mib(statSync(path).size),
    rows,
    runs,
    median_rows_per_s: Math.round(median(results.map((r) => r.rows_per_s))),
    median_rows_per_cpu_s: Math.round(median(results.map((r) => r.rows_per_cpu_s))),
    median_mb_per_s: Number(median(results.map((r) => r.mb_per_s)).toFixed(1)),
    median_peak_rss_mb: Number(median(results.map((r) => r.peak_rss_mb)).toFixed(1)),
    median_seconds: Number(median(results.map((r) => r.seconds)).toFixed(2)),
    node: process.version,
    results,
  };
  writeFileSync(join(BENCH_DIR, 'parse.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

if (process.argv[1] === import.meta.filename) {
  const args = parseArgs({
    options: {
      child: { type: 'string' },
      rows: { type: 'string', default: '1000000' },
      runs: { type: 'string', default: '3' },
    },
  }).values;
  if (args.child) {
    console.log(JSON.stringify(await runOnce(args.child, Number(args.rows))));
  } else {
    const s = await runParseBench(Number(args.rows), Number(args.runs));
    console.log(
      `parse (median of ${s.runs}): ${s.median_rows_per_s} rows/s (${s.median_rows_per_cpu_s} per CPU-second), ` +
        `${s.median_mb_per_s} MB/s, ` +
        `peak RSS ${s.median_peak_rss_mb} MiB on ${s.rows} rows (${s.file_mb.toFixed(1)} MiB); wrote .bench/parse.json`,
    );
  }
}
