/**
 * npm run bench:gateway — HTTP throughput and latency of the gateway on the local stack, at 50
 * concurrent connections. The gateway runs as its own process (`node --import tsx gateway/main.ts`,
 * access logs on, stdout discarded) on an isolated prefix and a free port; autocannon drives it from
 * this process. Scenarios:
 *   batches      GET /api/batches, enterprise account (limiter skipped) with BENCH_BATCHES seeded batches
 *   limited      GET /api/auth/whoami, payg account over its 30/min budget: nearly every answer is the
 *                limiter's 429 after the Redis sliding-window check
 *   unlimited    GET /api/auth/whoami, enterprise account: the same auth + limiter middleware, passed
 * Each scenario runs flat out, then at a fixed BENCH_RATE requests/s (the target: p99 < 20 ms at 1,000/s).
 * BENCH_PROFILE_DIR=<folder> also records a CPU profile of the gateway.
 * Prints the medians of BENCH_RUNS runs of BENCH_SECONDS each and writes .bench/gateway.json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { AccountStore } from '../gateway/auth/accounts.ts';
import { GatewayConfig } from '../gateway/config.ts';
import { BatchTracker } from '../services/lib/batch-tracker.ts';
import { REPO_ROOT } from '../services/lib/config.ts';
import { createRedis, keyspace } from '../services/lib/redis.ts';
import { cleanupIsolated, isolatedConfig } from '../test/support/isolated.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 50);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
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
}

async function load(
  url: string,
  token: string,
  rate: number | undefined,
  duration = SECONDS,
): Promise<RunFigures> {
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    duration,
    headers: { authorization: `Bearer ${token}` },
    timeout: 10,
    ...(rate ? { overallRate: rate } : {}),
  });
  return {
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
    runs,
  };
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
  const accounts = new AccountStore(redis, key);
  const enterprise = await signUp(base);
  const payg = await signUp(base);
  await redis.hset(key('user', enterprise.userId), 'plan_id', 'enterprise');
  const entUser = await accounts.byId(enterprise.userId);
  if (!entUser) throw new Error('enterprise user not found');
  const tracker = new BatchTracker(redis, key);
  for (let i = 0; i < BATCHES; i++) {
    await tracker.create(
      {
        account_id: entUser.account_id,
        filename: `leads-${i}.csv`,
        file_path: join(uploadDir, `leads-${i}.csv`),
        source: 'upload',
        rows_total: 1000 + i,
      },
      null,
      new Date(Date.now() - (BATCHES - i) * 60_000),
    );
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
  ];
  // One short warm-up so JIT and connection pools are settled before anything is measured.
  await load(`${base}/api/batches`, enterprise.token, undefined, 3);

  const load1 = loadavg()[0] ?? 0;
  const results: Record<
    string,
    { what: string; max: ReturnType<typeof summarise>; fixed: ReturnType<typeof summarise> }
  > = {};
  for (const s of scenarios) {
    const max: RunFigures[] = [];
    const fixed: RunFigures[] = [];
    for (let i = 0; i < RUNS; i++) {
      max.push(await load(`${base}${s.path}`, s.token, undefined));
      fixed.push(await load(`${base}${s.path}`, s.token, RATE));
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
