/**
 * npm run bench:phases — the figures issue 3 asks for, in one table: parse rows/s, MB/s and peak RSS on a
 * 1,000,000-row CSV (bench/parse.bench.ts), standardize leads/s (bench/standardize.bench.ts) and verify
 * leads/s with a warm DNS cache (bench/verify.bench.ts). Each bench runs as its own process, one after
 * the other (they would otherwise share the two cores); their .bench/*.json results, which must be
 * written by this run, are summarised as medians and written to .bench/phases.json.
 *
 *   npm run bench:phases [-- --rows 1000000 --runs 3]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../services/lib/config.ts';

const { values: args } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '3' } },
});

const BENCH_DIR = join(REPO_ROOT, '.bench');

interface PhaseFigures {
  phase: string;
  input: string;
  throughput: number;
  unit: 'rows/s' | 'leads/s';
  target: number;
  mb_per_s?: number;
  peak_rss_mb?: number;
  runs: number[];
  seconds: number;
}

/** Runs `bench/<file>` in a child process and returns its .bench/<result> as written by that run. */
async function runBench(file: string, result: string, extra: string[]): Promise<Record<string, unknown>> {
  const startedAt = Date.now();
  console.log(`\n== ${file} ${extra.join(' ')}`);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, join(REPO_ROOT, 'bench', file), ...extra], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`${file} exited with ${code}`);
  const path = join(BENCH_DIR, result);
  if (statSync(path).mtimeMs < startedAt) throw new Error(`${file} did not write ${path}`);
  return {
    ...(JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>),
    seconds: (Date.now() - startedAt) / 1000,
  };
}

const num = (x: unknown, what: string): number => {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`bench result lacks ${what}`);
  return x;
};

async function parsePhase(rows: string, runs: string): Promise<PhaseFigures> {
  const r = await runBench('parse.bench.ts', 'parse.json', ['--rows', rows, '--runs', runs]);
  const results = r.results as { rows_per_s: number }[];
  return {
    phase: 'parse',
    input: `${num(r.rows, 'rows').toLocaleString('en-US')} rows, ${num(r.file_mb, 'file_mb').toFixed(0)} MiB CSV`,
    throughput: num(r.median_rows_per_s, 'median_rows_per_s'),
    unit: 'rows/s',
    target: 100_000,
    mb_per_s: num(r.median_mb_per_s, 'median_mb_per_s'),
    peak_rss_mb: num(r.median_peak_rss_mb, 'median_peak_rss_mb'),
    runs: results.map((x) => Math.round(x.rows_per_s)),
    seconds: num(r.seconds, 'seconds'),
  };
}

async function standardizePhase(runs: string): Promise<PhaseFigures> {
  const r = await runBench('standardize.bench.ts', 'standardize.json', ['--runs', runs]);
  return {
    phase: 'standardize',
    input: `${num(r.leads, 'leads').toLocaleString('en-US')} leads`,
    throughput: num(r.leads_per_s_median, 'leads_per_s_median'),
    unit: 'leads/s',
    target: 10_000,
    runs: r.leads_per_s_runs as number[],
    seconds: num(r.seconds, 'seconds'),
  };
}

async function verifyPhase(runs: string): Promise<PhaseFigures> {
  const r = await runBench('verify.bench.ts', 'verify.json', ['--runs', runs]);
  const warm = r.warm_cache_leads_per_s as { median: number; runs: number[] };
  return {
    phase: 'verify (warm DNS cache)',
    input: `${num(r.leads, 'leads').toLocaleString('en-US')} leads, ${num(r.domains, 'domains').toLocaleString('en-US')} domains`,
    throughput: num(warm.median, 'warm_cache_leads_per_s.median'),
    unit: 'leads/s',
    target: 10_000,
    runs: warm.runs,
    seconds: num(r.seconds, 'seconds'),
  };
}

function table(rows: PhaseFigures[]): string {
  const header = ['phase', 'input', 'median', 'MB/s', 'peak RSS', 'runs', 'target', 'met'];
  const body = rows.map((p) => [
    p.phase,
    p.input,
    `${p.throughput.toLocaleString('en-US')} ${p.unit}`,
    p.mb_per_s === undefined ? '' : p.mb_per_s.toFixed(1),
    p.peak_rss_mb === undefined ? '' : `${p.peak_rss_mb.toFixed(0)} MiB`,
    p.runs.map((x) => x.toLocaleString('en-US')).join(' / '),
    `≥ ${p.target.toLocaleString('en-US')}`,
    p.throughput >= p.target ? 'yes' : 'no',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

mkdirSync(BENCH_DIR, { recursive: true });
const loadBefore = loadavg();
const phases = [
  await parsePhase(args.rows, args.runs),
  await standardizePhase(args.runs),
  await verifyPhase(args.runs),
];
const report = {
  bench: 'phases',
  at: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
  // The machine is shared: the load around the runs says how much the figures were disturbed.
  load_average: { before: loadBefore, after: loadavg() },
  phases,
};
writeFileSync(join(BENCH_DIR, 'phases.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(
  `\nphases 1–3 (medians of ${args.runs} runs each; load average ${loadBefore.map((x) => x.toFixed(1)).join(' ')}):`,
);
console.log(table(phases));
const parse = phases[0];
if (parse?.peak_rss_mb !== undefined) {
  console.log(`parse peak RSS ${parse.peak_rss_mb.toFixed(0)} MiB (flat-memory target: well under 200 MiB)`);
}
console.log('wrote .bench/phases.json');
