/**
 * npm run bench:gateway — HTTP throughput and latency of the gateway on the local stack, at 50
 * concurrent connections. The gateway runs as its own process (`node --import tsx gateway/main.ts`,
 * access logs on, stdout discarded) on an isolated prefix and a free port; autocannon drives it from
 * this process. Scenarios:
 *   batches      GET /api/batches, enterprise account (limiter skipped) with BENCH_BATCHES seeded batches:
 *                the plain list, kept by the gateway while the account's batches do not change
 *   batches-busy GET /api/batches while the newest batch is processing: 10 rows are counted in it every
 *                COUNT_EVERY_MS (as the sink does), so most requests find the list changed and read it afresh
 *   limited      GET /api/auth/whoami, payg account over its 30/min budget: nearly every answer is the
 *                limiter's 429 after the Redis sliding-window check
 *   unlimited    GET /api/auth/whoami, enterprise account: the same auth + limiter middleware, passed
 * Each scenario runs flat out, then at a fixed BENCH_RATE requests/s (the target: p99 < 20 ms at 1,000/s).
 * Then `download`: a completed batch of BENCH_DOWNLOAD_ROWS (100,000) leads in ClickHouse is downloaded
 * whole (include=all) as CSV and as JSON, reading the gateway's RSS every 20 ms: peak RSS above the
 * RSS before the download shows whether the result streams or is loaded into memory.
 * BENCH_PROFILE_DIR=<folder> also records a CPU profile of the gateway.
 * Prints the medians of BENCH_RUNS runs of BENCH_SECONDS each and writes .bench/gateway.json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { AccountStore } from '../gateway/auth/accounts.ts';
import { GatewayConfig } from '../gateway/config.ts';
import { BatchTracker, type TerminalOutcome } from '../services/lib/batch-tracker.ts';
import { createClickHouse } from '../services/lib/clickhouse.ts';
import { REPO_ROOT } from '../services/lib/config.ts';
import { createRedis, keyspace } from '../services/lib/redis.ts';
import { leadRow } from '../services/sink/rows.ts';
import { RESULT_STATUSES, scoredLead } from '../test/support/gateway.ts';
import { cleanupIsolated, isolatedConfig } from '../test/support/isolated.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 50);
const COUNT_EVERY_MS = 5;
const DOWNLOAD_ROWS = Number(process.env.BENCH_DOWNLOAD_ROWS ?? 100_000);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
/** Comma-separated scenario names to run (batches, batches-busy, limited, unlimited); all when unset. */
const ONLY = (process.env.BENCH_SCENARIOS ?? '').split(',').filter(Boolean);
/** A folder: the gateway writes a V8 CPU profile there when it stops (open it in Chrome DevTools). */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
const P99_TARGET_MS = 20;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(base: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}`);
    const ok = await fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`gateway not healthy within ${timeoutMs} ms`);
}

async function post(base: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${base}/api${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
}

/** Registers and logs in a fresh user through the API, as a client would. */
async function signUp(base: string): Promise<{ token: string; userId: string }> {
  const email = `bench-${randomBytes(4).toString('hex')}@example.com`;
  const password = 'correct horse battery';
  const reg = await post(base, '/auth/register', { email, password, company: 'Bench' });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${await reg.text()}`);
  const { user_id } = (await reg.json()) as { user_id: string };
  const login = await post(base, '/auth/login', { email, password });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${await login.text()}`);
  const { access_token } = (await login.json()) as { access_token: string };
  return { token: access_token, userId: user_id };
}

interface RunFigures {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  requests: number;
  status2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** CPU used during the run, % of one core: the gateway, and this process (autocannon). */
  gatewayCpu: number;
  clientCpu: number;
}

/** CPU seconds a process has used (utime + stime of /proc/<pid>/stat, in USER_HZ = 100 ticks/s). */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state: utime and stime are 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function load(
  url: string,
  token: string,
  rate: number | undefined,
  gatewayPid: number,
  duration = SECONDS,
): Promise<RunFigures> {
  const gatewayBefore = cpuSecondsOf(gatewayPid);
  const clientBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    duration,
    headers: { authorization: `Bearer ${token}` },
    timeout: 10,
    ...(rate ? { overallRate: rate } : {}),
  });
  const wall = (performance.now() - wallBefore) / 1000;
  const client = process.cpuUsage(clientBefore);
  const pct = (cpuSeconds: number) => Math.round((cpuSeconds / wall) * 100);
  return {
    gatewayCpu: pct(cpuSecondsOf(gatewayPid) - gatewayBefore),
    clientCpu: pct((client.user + client.system) / 1e6),
    rps: r.requests.average,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    requests: r.requests.total,
    status2xx: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}

function summarise(runs: RunFigures[]) {
  const pick = (k: keyof RunFigures) => median(runs.map((r) => r[k]));
  return {
    rps: Math.round(pick('rps')),
    p50_ms: pick('p50'),
    p90_ms: pick('p90'),
    p99_ms: pick('p99'),
    max_ms: pick('max'),
    requests: pick('requests'),
    status_2xx: pick('status2xx'),
    non_2xx: pick('non2xx'),
    errors: pick('errors'),
    timeouts: pick('timeouts'),
    gateway_cpu_pct: pick('gatewayCpu'),
    client_cpu_pct: pick('clientCpu'),
    runs,
  };
}

/** Resident set of a process in bytes, from /proc (Linux). */
function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? 0) * 1024;
}

/** Counts 10 new rows of the batch every COUNT_EVERY_MS until the returned stop is called. */
function countRows(tracker: BatchTracker, accountId: string, batchId: string): () => Promise<void> {
  let stopped = false;
  let row = 0;
  const counting = (async () => {
    while (!stopped) {
      const rows = Array.from({ length: 10 }, () => ({ row: row++, outcome: 'qualified' as const }));
      await tracker.recordTerminals(batchId, accountId, rows);
      await new Promise((r) => setTimeout(r, COUNT_EVERY_MS));
    }
  })();
  return async () => {
    stopped = true;
    await counting;
  };
}

/** A completed batch of `rows` scored leads in ClickHouse, counted by the tracker as the sink would. */
async function seedCompletedBatch(
  tracker: BatchTracker,
  ch: ReturnType<typeof createClickHouse>,
  accountId: string,
  rows: number,
): Promise<string> {
  const batch = await tracker.create(
    {
      account_id: accountId,
      filename: 'big.csv',
      file_path: '/uploads/big.csv',
      source: 'csv',
      rows_total: rows,
    },
    null,
  );
  if (!batch) throw new Error('download batch not created');
  const chunk = 10_000;
  for (let start = 0; start < rows; start += chunk) {
    const leads = Array.from({ length: Math.min(chunk, rows - start) }, (_, i) =>
      scoredLead(accountId, batch.batch_id, start + i),
    );
    await ch.insert({
      table: 'leads',
      values: leads.map((l) => leadRow(l, Date.now(), 1)),
      format: 'JSONEachRow',
    });
    await tracker.recordTerminals(
      batch.batch_id,
      accountId,
      leads.map((l) => ({
        row: l.meta.row_index ?? 0,
        outcome: l.score.status.toLowerCase() as TerminalOutcome,
      })),
    );
  }
  const done = await tracker.get(accountId, batch.batch_id);
  if (done?.status !== 'completed') throw new Error(`download batch is ${done?.status}`);
  return batch.batch_id;
}

const OBJECT_MARKER = '{"status":';

interface DownloadFigures {
  format: string;
  rows: number;
  bytes: number;
  seconds: number;
  mb_per_s: number;
  first_byte_ms: number;
  rss_before_mb: number;
  rss_peak_mb: number;
  rss_growth_mb: number;
}

/** Downloads the whole batch, counting bytes and rows, while sampling the gateway's RSS. */
async function download(
  url: string,
  token: string,
  format: 'csv' | 'json',
  pid: number,
): Promise<DownloadFigures> {
  const before = rssOf(pid);
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssOf(pid));
  }, 20);
  const started = performance.now();
  try {
    const res = await fetch(`${url}?include=all&format=${format}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(600_000),
    });
    if (res.status !== 200 || !res.body) throw new Error(`download: ${res.status} ${await res.text()}`);
    let firstByte = 0;
    let bytes = 0;
    let newlines = 0;
    let objects = 0;
    // The text's tail, shorter than the marker, so a marker split across chunks is counted once.
    let carry = '';
    for await (const chunk of res.body) {
      firstByte ||= performance.now() - started;
      bytes += chunk.byteLength;
      // A CSV row per line; a JSON lead object per OBJECT_MARKER (its first key).
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
      const text = carry + Buffer.from(chunk).toString('latin1');
      objects += text.split(OBJECT_MARKER).length - 1;
      carry = text.slice(-(OBJECT_MARKER.length - 1));
    }
    const seconds = (performance.now() - started) / 1000;
    const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
    return {
      format,
      rows: format === 'csv' ? newlines - 1 : objects,
      bytes,
      seconds: Math.round(seconds * 100) / 100,
      mb_per_s: mb(bytes / seconds),
      first_byte_ms: Math.round(firstByte),
      rss_before_mb: mb(before),
      rss_peak_mb: mb(peak),
      rss_growth_mb: mb(peak - before),
    };
  } finally {
    clearInterval(sampler);
  }
}

const uploadDir = mkdtempSync(join(tmpdir(), 'leedrush-bench-gw-'));
const config = await isolatedConfig('bench_gw', GatewayConfig, {
  ...process.env,
  JWT_SECRET: randomBytes(32).toString('hex'),
  UPLOAD_DIR: uploadDir,
});
const redis = createRedis(config.REDIS_URL, 'bench-gateway');
const key = keyspace(config.LEEDRUSH_PREFIX);
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const profileArgs = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
const gateway = spawn(process.execPath, [...profileArgs, '--import', 'tsx', 'gateway/main.ts'], {
  cwd: REPO_ROOT,
  env: {
    ...process.env,
    LEEDRUSH_PREFIX: config.LEEDRUSH_PREFIX,
    CLICKHOUSE_DATABASE: config.CLICKHOUSE_DATABASE,
    JWT_SECRET: config.JWT_SECRET,
    UPLOAD_DIR: uploadDir,
    GATEWAY_PORT: String(port),
    GATEWAY_HOST: '127.0.0.1',
    LOG_LEVEL,
  },
  // Access logs are written (their cost is part of a request) but not kept.
  stdio: ['ignore', 'ignore', 'inherit'],
});

try {
  await waitHealthy(base, gateway);
  const gatewayPid = gateway.pid ?? 0;
  const accounts = new AccountStore(redis, key);
  const enterprise = await signUp(base);
  const payg = await signUp(base);
  await redis.hset(key('user', enterprise.userId), 'plan_id', 'enterprise');
  const entUser = await accounts.byId(enterprise.userId);
  if (!entUser) throw new Error('enterprise user not found');
  const tracker = new BatchTracker(redis, key);
  let running = '';
  for (let i = 0; i < BATCHES; i++) {
    const created = await tracker.create(
      {
        account_id: entUser.account_id,
        filename: `leads-${i}.csv`,
        file_path: join(uploadDir, `leads-${i}.csv`),
        source: 'upload',
        // The newest is the batch being processed in the batches-busy scenario: it never completes.
        rows_total: i === BATCHES - 1 ? 1e9 : 1000 + i,
      },
      null,
      new Date(Date.now() - (BATCHES - i) * 60_000),
    );
    running = created?.batch_id ?? running;
  }
  const check = await fetch(`${base}/api/batches`, {
    headers: { authorization: `Bearer ${enterprise.token}` },
    signal: AbortSignal.timeout(10_000),
  });
  const listed = (await check.json()) as unknown[];
  if (check.status !== 200 || listed.length !== BATCHES) {
    throw new Error(`GET /api/batches: ${check.status}, ${listed.length} batches, expected ${BATCHES}`);
  }
  const bodyBytes = Buffer.byteLength(JSON.stringify(listed));

  const scenarios = [
    { name: 'batches', path: '/api/batches', token: enterprise.token, what: 'GET /api/batches (enterprise)' },
    {
      name: 'batches-busy',
      path: '/api/batches',
      token: enterprise.token,
      what: `GET /api/batches while rows of one batch are counted every ${COUNT_EVERY_MS} ms`,
      busy: true,
    },
    {
      name: 'limited',
      path: '/api/auth/whoami',
      token: payg.token,
      what: 'rate-limit path: payg over budget',
    },
    {
      name: 'unlimited',
      path: '/api/auth/whoami',
      token: enterprise.token,
      what: 'limiter passed: enterprise',
    },
  ].filter((s) => ONLY.length === 0 || ONLY.includes(s.name));
  // One short warm-up so JIT and connection pools are settled before anything is measured.
  await load(`${base}/api/batches`, enterprise.token, undefined, gatewayPid, 3);

  const load1 = loadavg()[0] ?? 0;
  const results: Record<
    string,
    { what: string; max: ReturnType<typeof summarise>; fixed: ReturnType<typeof summarise> }
  > = {};
  for (const s of scenarios) {
    const max: RunFigures[] = [];
    const fixed: RunFigures[] = [];
    for (let i = 0; i < RUNS; i++) {
      const stop = 'busy' in s ? countRows(tracker, entUser.account_id, running) : null;
      try {
        max.push(await load(`${base}${s.path}`, s.token, undefined, gatewayPid));
        fixed.push(await load(`${base}${s.path}`, s.token, RATE, gatewayPid));
      } finally {
        await stop?.();
      }
    }
    results[s.name] = { what: s.what, max: summarise(max), fixed: summarise(fixed) };
  }

  const rows = Object.entries(results).flatMap(([name, r]) =>
    (['max', 'fixed'] as const).map((mode) => {
      const f = r[mode];
      return {
        scenario: name,
        load: mode === 'max' ? 'flat out' : `${RATE}/s`,
        'req/s': f.rps,
        p50: f.p50_ms,
        p90: f.p90_ms,
        p99: f.p99_ms,
        '2xx': f.status_2xx,
        non2xx: f.non_2xx,
        errors: f.errors + f.timeouts,
        'gw cpu%': f.gateway_cpu_pct,
        'client cpu%': f.client_cpu_pct,
      };
    }),
  );
  console.log(
    `gateway bench: ${CONNECTIONS} connections, ${SECONDS} s runs, median of ${RUNS}; ${BATCHES} batches ` +
      `(${bodyBytes} B body); LOG_LEVEL=${LOG_LEVEL}; ${cpus().length} cores shared with the stack and the load ` +
      `generator; 1-min load avg ${load1.toFixed(2)} at start, ${(loadavg()[0] ?? 0).toFixed(2)} at end`,
  );
  console.table(rows);
  const verdict = (name: string) => {
    const f = results[name]?.fixed;
    return f ? f.p99_ms < P99_TARGET_MS && f.rps >= RATE * 0.95 : false;
  };
  for (const s of scenarios) {
    console.log(`${s.name}: p99 < ${P99_TARGET_MS} ms at ${RATE}/s — ${verdict(s.name) ? 'met' : 'NOT met'}`);
  }

  let downloads: DownloadFigures[] = [];
  if (DOWNLOAD_ROWS > 0) {
    const ch = createClickHouse(config, { requestTimeoutMs: 120_000 });
    const batchId = await seedCompletedBatch(tracker, ch, entUser.account_id, DOWNLOAD_ROWS);
    await ch.close();
    const url = `${base}/api/batches/${batchId}/download`;
    downloads = [
      await download(url, enterprise.token, 'csv', gatewayPid),
      await download(url, enterprise.token, 'json', gatewayPid),
    ];
    console.log(
      `download of a completed ${DOWNLOAD_ROWS}-row batch (include=all; statuses ${RESULT_STATUSES.join('/')}), ` +
        `gateway RSS sampled every 20 ms:`,
    );
    console.table(downloads);
    for (const d of downloads) {
      if (d.rows !== DOWNLOAD_ROWS)
        throw new Error(`${d.format} download had ${d.rows} rows, not ${DOWNLOAD_ROWS}`);
    }
  }

  mkdirSync(join(REPO_ROOT, '.bench'), { recursive: true });
  writeFileSync(
    join(REPO_ROOT, '.bench', 'gateway.json'),
    `${JSON.stringify(
      {
        at: new Date().toISOString(),
        connections: CONNECTIONS,
        seconds: SECONDS,
        runs: RUNS,
        fixed_rate: RATE,
        batches_seeded: BATCHES,
        batches_body_bytes: bodyBytes,
        log_level: LOG_LEVEL,
        cores: cpus().length,
        loadavg_start: load1,
        loadavg_end: loadavg(),
        target: { p99_ms: P99_TARGET_MS, rate: RATE },
        met: Object.fromEntries(scenarios.map((s) => [s.name, verdict(s.name)])),
        results,
        downloads,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  const exited = new Promise((r) => gateway.once('exit', r));
  gateway.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 12_000))]);
  const keys = await redis.keys(`${config.LEEDRUSH_PREFIX}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  rmSync(uploadDir, { recursive: true, force: true });
  await cleanupIsolated(config);
}
